/*
 * georef.c: the GCP model and the text parsers: QGIS .points, GCP CSV and mask polygons.
 * Numbers go through import_number() (locale-free, finite), lines are capped, UTF-8 is not
 * needed (only numbers and ASCII keywords are read).
 */
#include "maps/georef.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "annotation/import.h"
#include "maps/project.h"

#define MAPS_MAX_LINE 65536
#define MAPS_MAX_FIELDS 32

void maps_georef_init(struct maps_georef *g)
{
	memset(g, 0, sizeof *g);
	g->type = MAPS_POLYNOMIAL;
	g->order = 1;
}

void maps_georef_release(struct maps_georef *g)
{
	free(g->gcps);
	free(g->mask);
	maps_georef_init(g);
}

static int maps_fail(struct maps_error *err, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int maps_fail(struct maps_error *err, int line, const char *fmt, ...)
{
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int maps_georef_add(struct maps_georef *g, double x, double y, double lon, double lat,
		    struct maps_error *err)
{
	if (!(fabs(x) <= MAPS_MAX_COORD && fabs(y) <= MAPS_MAX_COORD &&
	      fabs(lon) <= MAPS_MAX_COORD && fabs(lat) <= MAPS_MAX_COORD))
		return maps_fail(err, err->line, "coordinate beyond %g", MAPS_MAX_COORD);
	if (g->count >= MAPS_MAX_GCPS)
		return maps_fail(err, err->line, "more than %d GCPs", MAPS_MAX_GCPS);
	struct maps_gcp *grown = realloc(g->gcps, (g->count + 1) * sizeof *grown);
	if (!grown)
		return maps_fail(err, err->line, "out of memory");
	g->gcps = grown;
	g->gcps[g->count++] = (struct maps_gcp){ .x = x, .y = y, .lon = lon, .lat = lat };
	return 0;
}

void maps_error_format(const struct maps_error *err, const char *file, char *out, size_t size)
{
	if (err->line > 0)
		snprintf(out, size, "%s:%d: %s", file, err->line, err->msg);
	else if (err->path[0])
		snprintf(out, size, "%s: %s: %s", file, err->path, err->msg);
	else
		snprintf(out, size, "%s: %s", file, err->msg);
}

size_t maps_needed_gcps(enum maps_transform_type type, int order)
{
	if (type == MAPS_THIN_PLATE_SPLINE)
		return 3;
	return order >= 3 ? 10 : order == 2 ? 6 : 3;
}

/* ---- lines and fields ------------------------------------------------------------------ */

struct maps_lines {
	const char *data;
	size_t len, pos;
	int line;
	const char *text; /* the current line, without its end */
	size_t text_len;
};

/* 1 with the next line in r->text, 0 at the end, -1 (err) for a line over MAPS_MAX_LINE. */
static int maps_next_line(struct maps_lines *r, struct maps_error *err)
{
	if (r->pos >= r->len)
		return 0;
	const char *start = r->data + r->pos, *end = r->data + r->len, *p = start;
	while (p < end && *p != '\n' && *p != '\r')
		p++;
	r->line++;
	r->text = start;
	r->text_len = (size_t)(p - start);
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n' && (p == start || p[-1] != '\n'))
		p++;
	r->pos = (size_t)(p - r->data);
	if (r->text_len > MAPS_MAX_LINE)
		return maps_fail(err, r->line, "line longer than %d bytes", MAPS_MAX_LINE);
	return 1;
}

/* Splits s at commas (or tabs, or semicolons); fields point into s. Returns the count. */
static int maps_split(const char *s, size_t len, const char **f, size_t *flen)
{
	char sep = memchr(s, ',', len) ? ',' : memchr(s, '\t', len) ? '\t' : ';';
	int n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len && n < MAPS_MAX_FIELDS; i++)
		if (i == len || s[i] == sep) {
			f[n] = s + start;
			flen[n++] = i - start;
			start = i + 1;
		}
	return n;
}

static bool maps_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* Whether field (trimmed, quotes removed) equals name, case-insensitively. */
static bool maps_field_is(const char *f, size_t len, const char *name)
{
	while (len && isspace((unsigned char)*f))
		f++, len--;
	while (len && isspace((unsigned char)f[len - 1]))
		len--;
	if (len >= 2 && f[0] == '"' && f[len - 1] == '"')
		f++, len -= 2;
	return strlen(name) == len && strncasecmp(f, name, len) == 0;
}

/* "# transformation: polynomial 2" / "thinPlateSpline" on a comment line; 1 when it is one. */
static int maps_transformation_comment(const char *s, size_t len, struct maps_georef *g,
				       int line, struct maps_error *err)
{
	char buf[128];
	if (len >= sizeof buf)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char kind[64] = "";
	int order = 0;
	if (sscanf(buf, "# transformation: %63s %d", kind, &order) < 1)
		return 0;
	if (strcasecmp(kind, "thinPlateSpline") == 0) {
		g->type = MAPS_THIN_PLATE_SPLINE;
		return 1;
	}
	if (strcasecmp(kind, "polynomial") == 0 && order >= 1 && order <= 3) {
		g->type = MAPS_POLYNOMIAL;
		g->order = order;
		return 1;
	}
	return maps_fail(err, line, "transformation must be 'polynomial 1', 'polynomial 2', "
				    "'polynomial 3' or 'thinPlateSpline'");
}

static int maps_number(const char *f, size_t len, double *out, int line, const char *what,
		       struct maps_error *err)
{
	if (import_number(f, len, out) < 0)
		return maps_fail(err, line, "%s is not a number: '%.*s'", what,
				 (int)(len > 40 ? 40 : len), f);
	return 0;
}

/* ---- line-based formats ---------------------------------------------------------------- */

/* A line-based GCP format: a header row naming columns, then one row per GCP. */
struct maps_text_format {
	const char *bad_header, *no_header; /* the messages for a wrong or missing header */
	/* reads the header's columns into state: 0, or -1 when it is not a header */
	int (*header)(const char **f, const size_t *fl, int n, void *state);
	/* one data row: 0 or -1 with err */
	int (*row)(const char **f, const size_t *fl, int n, void *state, int line,
		   struct maps_georef *g, struct maps_error *err);
	/* a '#' line of the format's own: 1 taken, 0 not one, -1 with err; NULL: none */
	int (*directive)(const char *text, size_t len, void *state, int line,
			 struct maps_error *err);
};

/*
 * Reads data line by line: blank lines skipped, "# transformation: ..." comments and the
 * format's directives honoured, the header, then the rows. All or nothing: g is released on -1.
 */
static int maps_parse_text(const char *data, size_t len, const struct maps_text_format *fmt,
			   void *state, struct maps_georef *g, struct maps_error *err)
{
	struct maps_lines r = { .data = data, .len = len };
	const char *f[MAPS_MAX_FIELDS];
	size_t fl[MAPS_MAX_FIELDS];
	int rc, taken = 0, have_header = 0;
	memset(err, 0, sizeof *err);
	while ((rc = maps_next_line(&r, err)) > 0) {
		if (maps_blank(r.text, r.text_len))
			continue;
		if (fmt->directive && (taken = fmt->directive(r.text, r.text_len, state, r.line,
							      err)) != 0) {
			if (taken < 0)
				break;
			continue;
		}
		if (r.text[0] == '#') {
			if ((taken = maps_transformation_comment(r.text, r.text_len, g, r.line,
								 err)) < 0)
				break;
			continue;
		}
		int n = maps_split(r.text, r.text_len, f, fl);
		if (!have_header) {
			if ((taken = fmt->header(f, fl, n, state)) < 0) {
				maps_fail(err, r.line, "%s", fmt->bad_header);
				break;
			}
			have_header = 1;
		} else if ((taken = fmt->row(f, fl, n, state, r.line, g, err)) < 0) {
			break;
		}
	}
	if (rc == 0 && taken >= 0 && !have_header)
		rc = maps_fail(err, 0, "%s", fmt->no_header);
	if (rc < 0 || taken < 0) {
		maps_georef_release(g);
		return -1;
	}
	err->line = 0;
	return 0;
}

/* ---- GCP CSV --------------------------------------------------------------------------- */

/* Column indexes of x, y, lon, lat from a header row; -1 when it is not one. */
static int maps_csv_header(const char **f, const size_t *fl, int n, int col[4])
{
	static const char *const names[4][3] = { { "x", "pixelx", "column" },
						 { "y", "pixely", "row" },
						 { "lon", "lng", "longitude" },
						 { "lat", "latitude", "lat" } };
	for (int k = 0; k < 4; k++) {
		col[k] = -1;
		for (int i = 0; i < n && col[k] < 0; i++)
			for (int j = 0; j < 3; j++)
				if (maps_field_is(f[i], fl[i], names[k][j]))
					col[k] = i;
		if (col[k] < 0)
			return -1;
	}
	return 0;
}

/* One CSV data row, in the columns the header named. */
static int maps_csv_row(const char **f, const size_t *fl, int n, void *state, int line,
			struct maps_georef *g, struct maps_error *err)
{
	const int *col = state;
	double v[4];
	static const char *const what[4] = { "x", "y", "lon", "lat" };
	for (int k = 0; k < 4; k++) {
		if (col[k] >= n)
			return maps_fail(err, line, "no %s column (%d fields)", what[k], n);
		if (maps_number(f[col[k]], fl[col[k]], &v[k], line, what[k], err) < 0)
			return -1;
	}
	err->line = line;
	return maps_georef_add(g, v[0], v[1], v[2], v[3], err);
}

static int maps_csv_header_state(const char **f, const size_t *fl, int n, void *state)
{
	return maps_csv_header(f, fl, n, state);
}

int maps_parse_csv(const char *data, size_t len, struct maps_georef *g, struct maps_error *err)
{
	static const struct maps_text_format csv = {
		.bad_header = "the first row must name the columns x, y, lon and lat",
		.no_header = "no header row (x,y,lon,lat)",
		.header = maps_csv_header_state,
		.row = maps_csv_row,
	};
	int col[4] = { 0 };
	return maps_parse_text(data, len, &csv, col, g, err);
}

/* ---- QGIS .points ---------------------------------------------------------------------- */

struct maps_points_cols {
	int map_x, map_y, src_x, src_y, enable;
};

static int maps_points_header(const char **f, const size_t *fl, int n,
			      struct maps_points_cols *c)
{
	*c = (struct maps_points_cols){ -1, -1, -1, -1, -1 };
	for (int i = 0; i < n; i++) {
		if (maps_field_is(f[i], fl[i], "mapX"))
			c->map_x = i;
		else if (maps_field_is(f[i], fl[i], "mapY"))
			c->map_y = i;
		else if (maps_field_is(f[i], fl[i], "sourceX") || maps_field_is(f[i], fl[i], "pixelX"))
			c->src_x = i;
		else if (maps_field_is(f[i], fl[i], "sourceY") || maps_field_is(f[i], fl[i], "pixelY"))
			c->src_y = i;
		else if (maps_field_is(f[i], fl[i], "enable"))
			c->enable = i;
	}
	return c->map_x < 0 || c->map_y < 0 || c->src_x < 0 || c->src_y < 0 ? -1 : 0;
}

/* One data row: appended unless disabled; map coordinates stay in the file's CRS for now. */
static int maps_points_row(const char **f, const size_t *fl, int n,
			   const struct maps_points_cols *c, int line, struct maps_georef *g,
			   struct maps_error *err)
{
	int need = c->map_x;
	need = c->map_y > need ? c->map_y : need;
	need = c->src_x > need ? c->src_x : need;
	need = c->src_y > need ? c->src_y : need;
	need = c->enable > need ? c->enable : need;
	if (n <= need)
		return maps_fail(err, line, "%d fields, the header names %d", n, need + 1);
	double mx, my, sx, sy, enable = 1;
	if (maps_number(f[c->map_x], fl[c->map_x], &mx, line, "mapX", err) < 0 ||
	    maps_number(f[c->map_y], fl[c->map_y], &my, line, "mapY", err) < 0 ||
	    maps_number(f[c->src_x], fl[c->src_x], &sx, line, "sourceX", err) < 0 ||
	    maps_number(f[c->src_y], fl[c->src_y], &sy, line, "sourceY", err) < 0)
		return -1;
	if (c->enable >= 0 &&
	    maps_number(f[c->enable], fl[c->enable], &enable, line, "enable", err) < 0)
		return -1;
	if (enable == 0)
		return 0;
	err->line = line;
	/* QGIS stores pixel rows as negative y (its map canvas has y up) */
	return maps_georef_add(g, sx, 0.0 - sy, mx, my, err);
}

/* Reprojects the map coordinates read from a .points file in crs to WGS84. */
static int maps_points_reproject(struct maps_georef *g, const char *crs, struct maps_error *err)
{
	char msg[200];
	for (size_t i = 0; i < g->count; i++) {
		double xy[2] = { g->gcps[i].lon, g->gcps[i].lat };
		if (maps_project_to_wgs84(crs, xy, 1, msg, sizeof msg) < 0)
			return maps_fail(err, 1, "#CRS: %s", msg);
		g->gcps[i].lon = xy[0];
		g->gcps[i].lat = xy[1];
	}
	return 0;
}

/* What reading a .points file keeps between lines. */
struct maps_points_state {
	struct maps_points_cols cols;
	char *crs; /* the #CRS: line's WKT (malloc'd), NULL: WGS84 */
};

static int maps_points_header_state(const char **f, const size_t *fl, int n, void *state)
{
	return maps_points_header(f, fl, n, &((struct maps_points_state *)state)->cols);
}

static int maps_points_row_state(const char **f, const size_t *fl, int n, void *state,
				 int line, struct maps_georef *g, struct maps_error *err)
{
	return maps_points_row(f, fl, n, &((struct maps_points_state *)state)->cols, line, g, err);
}

/* "#CRS: WKT" (QGIS 3): 1 when text is one, -1 out of memory. */
static int maps_points_crs(const char *text, size_t len, void *state, int line,
			   struct maps_error *err)
{
	struct maps_points_state *st = state;
	if (len <= 5 || strncmp(text, "#CRS:", 5) != 0)
		return 0;
	free(st->crs);
	st->crs = import_strndup(text + 5, len - 5);
	return st->crs ? 1 : maps_fail(err, line, "out of memory");
}

int maps_parse_points(const char *data, size_t len, struct maps_georef *g, struct maps_error *err)
{
	static const struct maps_text_format points = {
		.bad_header = "not a QGIS .points header (mapX,mapY,sourceX,sourceY,enable,...)",
		.no_header = "no header row (mapX,mapY,sourceX,sourceY,...)",
		.header = maps_points_header_state,
		.row = maps_points_row_state,
		.directive = maps_points_crs,
	};
	struct maps_points_state st = { .crs = NULL };
	int rc = maps_parse_text(data, len, &points, &st, g, err);
	if (rc == 0 && st.crs && !maps_project_is_wgs84(st.crs) &&
	    maps_points_reproject(g, st.crs, err) < 0) {
		maps_georef_release(g);
		rc = -1;
	}
	free(st.crs);
	return rc;
}

/* ---- masks ----------------------------------------------------------------------------- */

/* Reads "x,y x,y ..." (commas and/or blanks between numbers) into g->mask. */
static int maps_mask_points(const char *s, size_t len, struct maps_georef *g,
			    struct maps_error *err)
{
	double *pts = NULL;
	size_t n = 0, cap = 0;
	const char *p = s, *end = s + len;
	for (;;) {
		while (p < end && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (p == end)
			break;
		const char *q = p;
		while (q < end && !isspace((unsigned char)*q) && *q != ',')
			q++;
		double v;
		if (import_number(p, (size_t)(q - p), &v) < 0 || fabs(v) > MAPS_MAX_COORD) {
			free(pts);
			return maps_fail(err, 0, "mask: '%.*s' is not a number of at most %g",
					 (int)(q - p > 40 ? 40 : q - p), p, MAPS_MAX_COORD);
		}
		if (n / 2 >= MAPS_MAX_MASK) {
			free(pts);
			return maps_fail(err, 0, "mask: more than %d points", MAPS_MAX_MASK);
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			double *grown = realloc(pts, cap * sizeof *pts);
			if (!grown) {
				free(pts);
				return maps_fail(err, 0, "out of memory");
			}
			pts = grown;
		}
		pts[n++] = v;
		p = q;
	}
	if (n % 2 || n < 6) {
		free(pts);
		return maps_fail(err, 0, "mask: needs at least 3 x,y points (%zu numbers given)", n);
	}
	free(g->mask);
	g->mask = pts;
	g->mask_points = n / 2;
	return 0;
}

/* The value of attribute name="..." in tag[0..len), or NULL. */
static const char *maps_attr(const char *tag, size_t len, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl + 2 < len; i++) {
		if (strncmp(tag + i, name, nl) || (i && !isspace((unsigned char)tag[i - 1])))
			continue;
		size_t j = i + nl;
		if (tag[j] != '=' || (tag[j + 1] != '"' && tag[j + 1] != '\''))
			continue;
		char quote = tag[j + 1];
		const char *v = tag + j + 2, *e = memchr(v, quote, len - (size_t)(v - tag));
		if (!e)
			return NULL;
		*vlen = (size_t)(e - v);
		return v;
	}
	return NULL;
}

/* An <svg> with a <polygon points> or a <rect x y width height>. */
static int maps_mask_svg(const char *s, size_t len, struct maps_georef *g, struct maps_error *err)
{
	const char *poly = g_strstr_len(s, (gssize)len, "<polygon");
	const char *rect = g_strstr_len(s, (gssize)len, "<rect");
	size_t vl;
	if (poly) {
		const char *end = memchr(poly, '>', len - (size_t)(poly - s));
		const char *v = end ? maps_attr(poly, (size_t)(end - poly), "points", &vl) : NULL;
		if (!v)
			return maps_fail(err, 0, "mask: <polygon> without points");
		return maps_mask_points(v, vl, g, err);
	}
	if (!rect)
		return maps_fail(err, 0, "mask: the SVG has neither <polygon> nor <rect>");
	const char *end = memchr(rect, '>', len - (size_t)(rect - s));
	double v[4] = { 0, 0, 0, 0 };
	static const char *const names[4] = { "x", "y", "width", "height" };
	for (int k = 0; k < 4; k++) {
		const char *a = end ? maps_attr(rect, (size_t)(end - rect), names[k], &vl) : NULL;
		if ((!a && k >= 2) || (a && import_number(a, vl, &v[k]) < 0))
			return maps_fail(err, 0, "mask: <rect> needs numeric %s", names[k]);
	}
	char pts[256];
	int n = snprintf(pts, sizeof pts, "%.17g,%.17g %.17g,%.17g %.17g,%.17g %.17g,%.17g", v[0],
			 v[1], v[0] + v[2], v[1], v[0] + v[2], v[1] + v[3], v[0], v[1] + v[3]);
	return maps_mask_points(pts, (size_t)n, g, err);
}

int maps_parse_mask(const char *data, size_t len, struct maps_georef *g, struct maps_error *err)
{
	if (len > MAPS_MAX_INPUT)
		return maps_fail(err, 0, "mask larger than %d bytes", MAPS_MAX_INPUT);
	if (g_strstr_len(data, (gssize)len, "<"))
		return maps_mask_svg(data, len, g, err);
	return maps_mask_points(data, len, g, err);
}
