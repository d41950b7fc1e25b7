/*
 * check.c: the warnings of `iiifd check` for georeferenced images.
 */
#include "maps/check.h"

#include <glib.h>
#include <stdio.h>

#include "maps/load.h"
#include "maps/transform.h"

static const char *maps_transform_name(const struct maps_georef *g, char *buf, size_t size)
{
	if (g->type == MAPS_THIN_PLATE_SPLINE)
		return "thinPlateSpline";
	snprintf(buf, size, "polynomial order %d", g->order);
	return buf;
}

/* One warning per kind of GCP problem, naming the first GCP that has it (1-based). */
static int maps_check_points(const struct maps_georef *g, int64_t width, int64_t height,
			     maps_check_report_fn warn, void *ctx)
{
	double sx = g->width > 0 ? (double)width / g->width : 1;
	double sy = g->height > 0 ? (double)height / g->height : 1;
	size_t outside = 0, range = 0, first_out = 0, first_range = 0;
	for (size_t i = 0; i < g->count; i++) {
		const struct maps_gcp *p = &g->gcps[i];
		double x = p->x * sx, y = p->y * sy;
		if ((x < 0 || y < 0 || x > (double)width || y > (double)height) && !outside++)
			first_out = i + 1;
		if ((p->lon < -180 || p->lon > 180 || p->lat < -90 || p->lat > 90) && !range++)
			first_range = i + 1;
	}
	char msg[256];
	if (outside) {
		const struct maps_gcp *p = &g->gcps[first_out - 1];
		snprintf(msg, sizeof msg, "%zu GCP%s outside the %lldx%lld image (first: GCP %zu "
			 "at %g,%g)", outside, outside == 1 ? "" : "s", (long long)width,
			 (long long)height, first_out, p->x * sx, p->y * sy);
		warn(ctx, msg);
	}
	if (range) {
		const struct maps_gcp *p = &g->gcps[first_range - 1];
		snprintf(msg, sizeof msg, "%zu GCP%s out of range for WGS84 longitude -180..180, "
			 "latitude -90..90 (first: GCP %zu at %g,%g%s)", range, range == 1 ? "" : "s",
			 first_range, p->lon, p->lat,
			 p->lat < -90 || p->lat > 90 ? "; longitude and latitude swapped?" : "");
		warn(ctx, msg);
	}
	return (outside > 0) + (range > 0);
}

int maps_check_georef(const struct maps_georef *g, int64_t width, int64_t height,
		      maps_check_report_fn warn, void *ctx)
{
	char msg[256], name[32];
	int n = 0;
	size_t need = maps_needed_gcps(g->type, g->order);
	if (g->count < need) {
		snprintf(msg, sizeof msg, "%zu GCP%s: %s needs at least %zu", g->count,
			 g->count == 1 ? "" : "s", maps_transform_name(g, name, sizeof name), need);
		warn(ctx, msg);
		n++;
	}
	if (maps_gcps_collinear(g)) {
		warn(ctx, "the GCPs lie on one line: no transformation can be fitted");
		n++;
	}
	return n + maps_check_points(g, width, height, warn, ctx);
}

/* Prefixes warnings with the source file's name. */
struct maps_check_prefix {
	const char *name;
	maps_check_report_fn warn;
	void *ctx;
};

static void maps_check_prefixed(void *ctx, const char *msg)
{
	struct maps_check_prefix *p = ctx;
	char *line = g_strdup_printf("%s: warning: %s", p->name, msg);
	p->warn(p->ctx, line);
	g_free(line);
}

int maps_check_image(const char *abs, char *const *companions, size_t count, int64_t width,
		     int64_t height, maps_check_report_fn error, maps_check_report_fn warn,
		     void *ctx)
{
	struct maps_georef g;
	char *source = NULL, msg[512];
	maps_georef_init(&g);
	int rc = maps_load(abs, companions, count, &g, &source, msg, sizeof msg);
	if (rc < 0) {
		error(ctx, msg);
		return -1;
	}
	if (rc == 0)
		return 0;
	char *name = g_path_get_basename(source);
	struct maps_check_prefix p = { .name = name, .warn = warn, .ctx = ctx };
	int n = maps_check_georef(&g, width, height, maps_check_prefixed, &p);
	g_free(name);
	g_free(source);
	maps_georef_release(&g);
	return n;
}
