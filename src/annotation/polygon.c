/*
 * polygon.c: outlines are text so that the store keeps them in one column and every backend
 * treats them alike; rings with fewer than three points or without area are dropped as built.
 */
#include "annotation/polygon.h"

#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/import.h"
#include "core/strings.h"

static int polygon_append(struct polygon_builder *b, const char *s, size_t n)
{
	b->text.max = SIZE_MAX / 2; /* POLYGON_MAX_POINTS bounds it */
	if (import_buf_add(&b->text, s, n) < 0) {
		b->oom = true;
		return -1;
	}
	return 0;
}

/* Keeps the ring being built when it is a real polygon, else removes its text. */
static void polygon_ring_end(struct polygon_builder *b)
{
	struct polygon_builder *r = b;
	double closing = r->px * r->y0 - r->x0 * r->py;
	bool keep = b->ring_points >= 3 && fabs(r->twice_area + closing) > 1e-9;
	if (!keep) {
		b->points -= b->ring_points;
		b->text.len = b->ring_start;
		if (b->text.data)
			b->text.data[b->text.len] = '\0';
	}
	b->ring_points = 0;
}

void polygon_ring_start(struct polygon_builder *b)
{
	if (b->ring_points)
		polygon_ring_end(b);
	b->ring_start = b->text.len;
	b->twice_area = 0;
}

int polygon_point(struct polygon_builder *b, double x, double y, double cw, double ch)
{
	if (!isfinite(x) || !isfinite(y))
		return -1;
	x = round(fmin(fmax(x, 0), cw) * 100) / 100;
	y = round(fmin(fmax(y, 0), ch) * 100) / 100;
	struct polygon_builder *r = b;
	if (b->ring_points && x == r->px && y == r->py)
		return 0;
	if (b->points >= POLYGON_MAX_POINTS)
		return -1;
	char xs[32], ys[32], pt[80];
	strings_number(x, xs, sizeof xs);
	strings_number(y, ys, sizeof ys);
	const char *sep = !b->ring_points ? (b->ring_start ? ";" : "") : " ";
	int n = snprintf(pt, sizeof pt, "%s%s,%s", sep, xs, ys);
	if (polygon_append(b, pt, (size_t)n) < 0)
		return -1;
	if (!b->ring_points) {
		r->x0 = x, r->y0 = y;
	} else {
		r->twice_area += r->px * y - x * r->py;
	}
	r->px = x, r->py = y;
	if (!b->points)
		b->box[0] = b->box[2] = x, b->box[1] = b->box[3] = y;
	b->box[0] = fmin(b->box[0], x), b->box[1] = fmin(b->box[1], y);
	b->box[2] = fmax(b->box[2], x), b->box[3] = fmax(b->box[3], y);
	b->points++;
	b->ring_points++;
	return 0;
}

char *polygon_finish(struct polygon_builder *b, double box[4])
{
	polygon_ring_end(b);
	if (b->oom || !b->points || !b->text.len) {
		polygon_builder_release(b);
		return NULL;
	}
	/* the box of the rings kept: recomputed, as dropped rings may have widened it */
	double *xy = NULL;
	size_t n = 0, *rl = NULL, rings = 0;
	char *text = b->text.data;
	b->text.data = NULL;
	if (polygon_parse(text, &xy, &n, &rl, &rings) < 0) {
		free(text);
		polygon_builder_release(b);
		return NULL;
	}
	box[0] = box[2] = xy[0], box[1] = box[3] = xy[1];
	for (size_t i = 1; i < n; i++) {
		box[0] = fmin(box[0], xy[2 * i]), box[2] = fmax(box[2], xy[2 * i]);
		box[1] = fmin(box[1], xy[2 * i + 1]), box[3] = fmax(box[3], xy[2 * i + 1]);
	}
	free(xy);
	free(rl);
	polygon_builder_release(b);
	return text;
}

void polygon_builder_release(struct polygon_builder *b)
{
	import_buf_release(&b->text);
	memset(b, 0, sizeof *b);
}

/* Reads "x,y" at *p; -1 when it is not two numbers. */
static bool polygon_number_start(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int polygon_parse_point(const char **p, double *x, double *y)
{
	char *end;
	if (!polygon_number_start(**p))
		return -1;
	*x = g_ascii_strtod(*p, &end);
	if (end == *p || *end != ',')
		return -1;
	const char *q = end + 1;
	if (!polygon_number_start(*q))
		return -1;
	*y = g_ascii_strtod(q, &end);
	if (end == q || !isfinite(*x) || !isfinite(*y))
		return -1;
	*p = end;
	return 0;
}

int polygon_parse(const char *text, double **xy, size_t *n, size_t **ring_len, size_t *rings)
{
	size_t cap = 1;
	for (const char *s = text; *s; s++)
		cap += *s == ' ' || *s == ';';
	*xy = malloc(cap * 2 * sizeof **xy);
	*ring_len = calloc(cap, sizeof **ring_len);
	*n = *rings = 0;
	if (!*xy || !*ring_len)
		goto fail;
	const char *p = text;
	for (;;) {
		if (polygon_parse_point(&p, &(*xy)[2 * *n], &(*xy)[2 * *n + 1]) < 0)
			goto fail;
		(*n)++;
		(*ring_len)[*rings]++;
		if (*p == ' ') {
			p++;
		} else if (*p == ';') {
			p++;
			(*rings)++;
		} else if (!*p) {
			(*rings)++;
			break;
		} else {
			goto fail;
		}
	}
	for (size_t i = 0; i < *rings; i++)
		if ((*ring_len)[i] < 3)
			goto fail;
	return 0;
fail:
	free(*xy);
	free(*ring_len);
	*xy = NULL;
	*ring_len = NULL;
	*n = *rings = 0;
	return -1;
}

char *polygon_svg(const char *text)
{
	GString *svg = g_string_new("<svg xmlns=\"http://www.w3.org/2000/svg\">");
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ";");
		g_string_append(svg, "<polygon points=\"");
		for (size_t i = 0; i < len; i++) /* outlines hold nothing else; a store edited by
						    hand must not put markup into the SVG */
			if (p[i] && strchr("0123456789.,- ", p[i]))
				g_string_append_c(svg, p[i]);
		g_string_append(svg, "\"/>");
		p += len;
		if (*p == ';')
			p++;
	}
	g_string_append(svg, "</svg>");
	return g_string_free(svg, FALSE);
}
