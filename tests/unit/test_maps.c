/*
 * test_maps.c: the pure parts of src/maps: the transformations (exact on what they can
 * represent, least squares, spline interpolation, order fallback), the parsers (every format,
 * the spec's own example, errors with line or JSON path, all or nothing), masks and the served
 * JSON read back by our own parser.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "maps/check.h"
#include "maps/georef.h"
#include "maps/serve.h"
#include "maps/transform.h"
#include "unit.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static void add(struct maps_georef *g, double x, double y, double lon, double lat)
{
	struct maps_error err = { 0 };
	CHECK(maps_georef_add(g, x, y, lon, lat, &err) == 0, "%s", err.msg);
}

/* lon/lat as a polynomial of the given order: each transformation must be exact on it. */
static void poly(int order, double x, double y, double *lon, double *lat)
{
	*lon = 4 + 1e-3 * x + 2e-4 * y;
	*lat = 52 - 1e-3 * y + 1e-4 * x;
	if (order >= 2)
		*lon += 1e-7 * x * y, *lat += 2e-7 * x * x;
	if (order >= 3)
		*lon += 1e-10 * y * y * y, *lat -= 3e-10 * x * x * y;
}

static void test_polynomials_are_exact_on_their_own_kind(void)
{
	for (int order = 1; order <= 3; order++) {
		struct maps_georef g;
		maps_georef_init(&g);
		g.order = order;
		for (int i = 0; i < 16; i++) {
			double x = (i % 4) * 200 + (i / 4) * 13, y = (i / 4) * 130 + (i % 4) * 7, lon, lat;
			poly(order, x, y, &lon, &lat);
			add(&g, x, y, lon, lat);
		}
		struct maps_transform t;
		char msg[200];
		CHECK(maps_transform_fit(&g, &t, msg, sizeof msg) == 0, "%s", msg);
		CHECK_INT(t.order, order, "order kept");
		double lon, lat, want_lon, want_lat;
		maps_transform_apply(&t, 333, 222, &lon, &lat);
		poly(order, 333, 222, &want_lon, &want_lat);
		CHECK(NEAR(lon, want_lon, 1e-9) && NEAR(lat, want_lat, 1e-9), "order %d: %.12f %.12f",
		      order, lon, lat);
		maps_transform_release(&t);
		maps_georef_release(&g);
	}
}

static void test_least_squares_averages_noise(void)
{
	/* four corners, one pair nudged up and the other down: the affine fit is the mean */
	struct maps_georef g;
	maps_georef_init(&g);
	add(&g, 0, 0, 0, 0.1);
	add(&g, 10, 0, 10, -0.1);
	add(&g, 10, 10, 10, 10.1);
	add(&g, 0, 10, 0, 9.9);
	struct maps_transform t;
	char msg[200];
	CHECK(maps_transform_fit(&g, &t, msg, sizeof msg) == 0, "%s", msg);
	double lon, lat;
	maps_transform_apply(&t, 5, 5, &lon, &lat);
	CHECK(NEAR(lon, 5, 1e-12) && NEAR(lat, 5, 1e-12), "%g %g", lon, lat);
	maps_transform_release(&t);
	maps_georef_release(&g);
}

static void test_spline_interpolates_gcps_and_affine_maps(void)
{
	struct maps_georef g;
	maps_georef_init(&g);
	g.type = MAPS_THIN_PLATE_SPLINE;
	double pts[][2] = { { 0, 0 }, { 600, 0 }, { 600, 400 }, { 0, 400 }, { 300, 200 }, { 100, 300 } };
	for (size_t i = 0; i < 6; i++) {
		double lon, lat;
		poly(i == 4 ? 2 : 1, pts[i][0], pts[i][1], &lon, &lat); /* one point off the plane */
		add(&g, pts[i][0], pts[i][1], lon, lat);
	}
	struct maps_transform t;
	char msg[200];
	CHECK(maps_transform_fit(&g, &t, msg, sizeof msg) == 0, "%s", msg);
	for (size_t i = 0; i < 6; i++) {
		double lon, lat;
		maps_transform_apply(&t, pts[i][0], pts[i][1], &lon, &lat);
		CHECK(NEAR(lon, g.gcps[i].lon, 1e-9) && NEAR(lat, g.gcps[i].lat, 1e-9), "GCP %zu", i);
	}
	maps_transform_release(&t);
	/* on affine data the spline is the affine map everywhere */
	for (size_t i = 0; i < 6; i++)
		poly(1, pts[i][0], pts[i][1], &g.gcps[i].lon, &g.gcps[i].lat);
	CHECK(maps_transform_fit(&g, &t, msg, sizeof msg) == 0, "%s", msg);
	double lon, lat, want_lon, want_lat;
	maps_transform_apply(&t, 451, 37, &lon, &lat);
	poly(1, 451, 37, &want_lon, &want_lat);
	CHECK(NEAR(lon, want_lon, 1e-9) && NEAR(lat, want_lat, 1e-9), "%g %g", lon, lat);
	maps_transform_release(&t);
	maps_georef_release(&g);
}

static void test_too_few_or_collinear_gcps(void)
{
	struct maps_georef g;
	struct maps_transform t;
	char msg[200];
	maps_georef_init(&g);
	g.order = 3;
	add(&g, 0, 0, 4, 52);
	add(&g, 10, 0, 5, 52);
	CHECK(maps_transform_fit(&g, &t, msg, sizeof msg) < 0, "two GCPs");
	add(&g, 20, 0, 6, 52);
	CHECK(maps_gcps_collinear(&g), "on one line");
	CHECK(maps_transform_fit(&g, &t, msg, sizeof msg) < 0, "collinear");
	CHECK(strstr(msg, "one line") != NULL, "%s", msg);
	add(&g, 0, 10, 4, 51);
	add(&g, 10, 15, 5, 50.5);
	add(&g, 20, 7, 6, 51.3);
	CHECK(maps_transform_fit(&g, &t, msg, sizeof msg) == 0, "%s", msg);
	CHECK_INT(t.order, 2, "six GCPs: order 3 falls back to 2");
	maps_transform_release(&t);
	CHECK_INT(maps_needed_gcps(MAPS_POLYNOMIAL, 1), 3, "order 1");
	CHECK_INT(maps_needed_gcps(MAPS_POLYNOMIAL, 2), 6, "order 2");
	CHECK_INT(maps_needed_gcps(MAPS_POLYNOMIAL, 3), 10, "order 3");
	CHECK_INT(maps_needed_gcps(MAPS_THIN_PLATE_SPLINE, 0), 3, "TPS");
	maps_georef_release(&g);
}

/* The example of the georef extension, §4.1. */
static const char spec_example[] =
	"{\"id\":\"http://www.example.org/canvas-annotation.json\",\"type\":\"Annotation\","
	"\"motivation\":\"georeferencing\",\"target\":\"http://www.example.org/georeferenced-canvas"
	".json\",\"body\":{\"id\":\"http://www.example.org/feature-collection.json\",\"type\":"
	"\"FeatureCollection\",\"transformation\":{\"type\":\"polynomial\",\"options\":{\"order\":1}"
	"},\"features\":[{\"type\":\"Feature\",\"properties\":{\"resourceCoords\":[5085,782]},"
	"\"geometry\":{\"type\":\"Point\",\"coordinates\":[4.4885839,51.9101828]}},{\"type\":"
	"\"Feature\",\"properties\":{\"resourceCoords\":[5467,1338]},\"geometry\":{\"type\":"
	"\"Point\",\"coordinates\":[4.5011785,51.901595]}},{\"type\":\"Feature\",\"properties\":{"
	"\"resourceCoords\":[2006,374]},\"geometry\":{\"type\":\"Point\",\"coordinates\":"
	"[4.405981,51.9091596]}}]}}";

static void test_parse_spec_example_and_round_trip(void)
{
	struct maps_georef g, back;
	struct maps_error err;
	maps_georef_init(&g);
	CHECK(maps_parse_annotation(spec_example, strlen(spec_example), &g, &err) == 0, "%s",
	      err.msg);
	CHECK_INT(g.count, 3, "GCPs");
	CHECK(g.gcps[1].x == 5467 && g.gcps[1].y == 1338 && g.gcps[1].lon == 4.5011785 &&
	      g.gcps[1].lat == 51.901595, "second GCP");
	CHECK(g.type == MAPS_POLYNOMIAL && g.order == 1, "transformation");
	struct maps_canvas cv = { .canvas_id = "https://x/c/1", .width = 5965, .height = 2514 };
	json_t *a = maps_annotation_json(&g, &cv);
	char *text = json_dumps(a, JSON_COMPACT);
	maps_georef_init(&back);
	CHECK(maps_parse_annotation(text, strlen(text), &back, &err) == 0, "%s", err.msg);
	CHECK_INT(back.count, 3, "read back");
	CHECK(back.gcps[2].x == 2006 && back.gcps[2].lat == 51.9091596, "same GCPs");
	CHECK_INT(back.mask_points, 4, "the whole Canvas as mask");
	CHECK(back.width == 5965 && back.height == 2514, "target size");
	free(text);
	json_decref(a);
	maps_georef_release(&back);
	maps_georef_release(&g);
}

struct bad_case {
	int kind; /* 0 points, 1 csv, 2 annotation, 3 mask */
	const char *input;
	int line;
	const char *path;
	const char *msg;
};

static void test_errors_name_line_or_path_and_leave_nothing(void)
{
	static const struct bad_case cases[] = {
		{ 0, "mapX,mapY,sourceX,sourceY\n1,2,3,-4\n1,2,x,4\n", 3, "", "sourceX is not a number" },
		{ 0, "a,b\n", 1, "", "not a QGIS .points header" },
		{ 0, "", 0, "", "no header row" },
		{ 1, "x,y,lon,lat\n1,2,3,4\n1,2,3\n", 3, "", "no lat column" },
		{ 1, "x,y,lon,lat\n1,2,3,1e9\n", 2, "", "coordinate beyond" },
		{ 1, "# transformation: spline\n", 1, "", "transformation must be" },
		{ 2, "[1]", 0, "$", "neither a Georeference Annotation" },
		{ 2, "{\"motivation\":\"painting\"}", 0, "$.motivation", "must be \"georeferencing\"" },
		{ 2, "{\"target\":\"u\",\"body\":{\"type\":\"Feature\"}}", 0, "$.body", "FeatureCollection" },
		{ 2, "{\"target\":\"u\",\"body\":{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
		     "\"Feature\",\"properties\":{\"resourceCoords\":[1]},\"geometry\":{\"type\":\"Point\","
		     "\"coordinates\":[1,2]}}]}}", 0, "$.body.features[0].properties.resourceCoords",
		  "two numbers" },
		{ 2, "{\"target\":{\"type\":\"SpecificResource\",\"source\":\"u\",\"selector\":{\"type\":"
		     "\"SvgSelector\",\"value\":\"<svg><circle/></svg>\"}}}", 0, "$.target.selector.value",
		  "neither <polygon> nor <rect>" },
		{ 2, "{\n\"a\": }", 2, "", "not JSON" },
		{ 3, "1,2 3,4", 0, "", "at least 3" },
		{ 3, "1,2 3,4 5,x", 0, "", "is not a number" },
		{ 3, "<svg><polygon/></svg>", 0, "", "without points" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bad_case *c = &cases[i];
		struct maps_georef g;
		struct maps_error err = { 0 };
		maps_georef_init(&g);
		if (c->kind == 1)
			add(&g, 0, 0, 0, 0); /* what a failed parse must clear: nothing half-read */
		size_t len = strlen(c->input);
		int rc = c->kind == 0 ? maps_parse_points(c->input, len, &g, &err)
		       : c->kind == 1 ? maps_parse_csv(c->input, len, &g, &err)
		       : c->kind == 2 ? maps_parse_annotation(c->input, len, &g, &err)
				      : maps_parse_mask(c->input, len, &g, &err);
		CHECK(rc < 0, "case %zu fails", i);
		CHECK_INT(err.line, c->line, c->input);
		CHECK_STR(err.path, c->path, c->input);
		CHECK(strstr(err.msg, c->msg) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg, c->msg);
		if (c->kind != 3)
			CHECK(g.count == 0 && !g.gcps && !g.mask, "case %zu left GCPs", i);
		maps_georef_release(&g);
	}
}

static void test_points_csv_and_masks(void)
{
	struct maps_georef g;
	struct maps_error err;
	const char *pts = "#CRS: GEOGCRS[\"WGS 84\",DATUM[\"x\"]]\r\n"
			  "mapX,mapY,sourceX,sourceY,enable,dX,dY,residual\r\n"
			  "4,52,10,-20,1,0,0,0\r\n9,9,1,-1,0,0,0,0\r\n5,51,30,-40.5,1,0,0,0\r\n";
	maps_georef_init(&g);
	CHECK(maps_parse_points(pts, strlen(pts), &g, &err) == 0, "%s", err.msg);
	CHECK_INT(g.count, 2, "disabled row skipped");
	CHECK(g.gcps[1].x == 30 && g.gcps[1].y == 40.5 && g.gcps[1].lon == 5, "y made positive");
	maps_georef_release(&g);
	/* UTM 31N: the central meridian (3 E) at the false easting */
	const char *utm = "#CRS: EPSG:32631\nmapX,mapY,pixelX,pixelY\n500000,0,1,-1\n";
	CHECK(maps_parse_points(utm, strlen(utm), &g, &err) == 0, "%s", err.msg);
	CHECK(g.count == 1 && NEAR(g.gcps[0].lon, 3, 1e-9) && NEAR(g.gcps[0].lat, 0, 1e-9),
	      "reprojected %g %g", g.gcps[0].lon, g.gcps[0].lat);
	maps_georef_release(&g);
	const char *csv = "# transformation: polynomial 2\nLat;Lon;Y;X\n52;4;1;2\n";
	CHECK(maps_parse_csv(csv, strlen(csv), &g, &err) == 0, "%s", err.msg);
	CHECK(g.count == 1 && g.gcps[0].x == 2 && g.gcps[0].y == 1 && g.gcps[0].lon == 4, "columns");
	CHECK(g.type == MAPS_POLYNOMIAL && g.order == 2, "declared order");
	const char *rect = "<svg width=\"100\" height=\"50\"><rect x=\"5\" y=\"6\" width=\"10\" "
			   "height=\"20\"/></svg>";
	CHECK(maps_parse_mask(rect, strlen(rect), &g, &err) == 0, "%s", err.msg);
	CHECK_INT(g.mask_points, 4, "rect corners");
	CHECK(g.mask[2] == 15 && g.mask[5] == 26, "rect geometry");
	maps_georef_release(&g);
}

static int warnings;
static char last_warning[256];
static void count_warning(void *ctx, const char *msg)
{
	(void)ctx;
	warnings++;
	snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static void test_check_warnings(void)
{
	struct maps_georef g;
	maps_georef_init(&g);
	g.type = MAPS_THIN_PLATE_SPLINE;
	add(&g, 1, 1, 4, 52);
	add(&g, 50, 1, 5, 52);
	add(&g, 1, 50, 4, 51);
	warnings = 0;
	CHECK_INT(maps_check_georef(&g, 100, 100, count_warning, NULL), 0, "good");
	add(&g, 150, 50, 200, 51);
	CHECK_INT(maps_check_georef(&g, 100, 100, count_warning, NULL), 2, "outside, out of range");
	CHECK(strstr(last_warning, "GCP 4 at 200,51") != NULL, "%s", last_warning);
	maps_georef_release(&g);
}

int main(void)
{
	UNIT_RUN(test_polynomials_are_exact_on_their_own_kind);
	UNIT_RUN(test_least_squares_averages_noise);
	UNIT_RUN(test_spline_interpolates_gcps_and_affine_maps);
	UNIT_RUN(test_too_few_or_collinear_gcps);
	UNIT_RUN(test_parse_spec_example_and_round_trip);
	UNIT_RUN(test_errors_name_line_or_path_and_leave_nothing);
	UNIT_RUN(test_points_csv_and_masks);
	UNIT_RUN(test_check_warnings);
	return unit_report("maps");
}
