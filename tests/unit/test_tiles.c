/*
 * test_tiles.c: the tile grid that `iiifd tiles` walks (checked against the Image API 3.0
 * implementation notes and against the server's own request resolution) and level 0 info.json.
 */
#include <string.h>

#include "image/info.h"
#include "tools/convert.h"
#include "tools/tiles.h"
#include "image/pyramid.h"
#include "unit.h"

static void test_count(void)
{
	static const struct {
		int64_t extent;
		int tile, s;
		int64_t want;
	} cases[] = {
		{ 1500, 512, 1, 3 }, { 1500, 512, 2, 2 }, { 1500, 512, 4, 1 }, { 1024, 512, 1, 2 },
		{ 1025, 512, 1, 3 }, { 1, 512, 1, 1 },	  { 512, 512, 1, 1 },  { 6000, 256, 32, 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK_INT(tools_tiles_count(cases[i].extent, cases[i].tile, cases[i].s), cases[i].want,
			  "tile count");
}

/* Expected values worked out by hand from the implementation note's algorithm. */
static void test_tile_table(void)
{
	static const struct {
		int64_t w, h;
		int tw, th, s;
		int64_t col, row;
		struct tools_tiles_tile want;
	} cases[] = {
		{ 1500, 1000, 512, 512, 1, 0, 0, { 0, 0, 512, 512, 512, 512 } },
		{ 1500, 1000, 512, 512, 1, 2, 1, { 1024, 512, 476, 488, 476, 488 } },
		{ 1500, 1000, 512, 512, 2, 1, 0, { 1024, 0, 476, 1000, 238, 500 } },
		{ 1500, 1000, 512, 512, 2, 0, 0, { 0, 0, 1024, 1000, 512, 500 } },
		{ 1500, 1000, 512, 512, 4, 0, 0, { 0, 0, 1500, 1000, 375, 250 } },
		{ 1001, 999, 256, 128, 4, 0, 1, { 0, 512, 1001, 487, 251, 122 } },
		{ 7, 5, 512, 512, 1, 0, 0, { 0, 0, 7, 5, 7, 5 } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tools_tiles_tile t;
		tools_tiles_tile(cases[i].w, cases[i].h, cases[i].tw, cases[i].th, cases[i].s,
				 cases[i].col, cases[i].row, &t);
		CHECK(memcmp(&t, &cases[i].want, sizeof t) == 0,
		      "case %zu: got %lld,%lld,%lld,%lld -> %lldx%lld", i, (long long)t.x,
		      (long long)t.y, (long long)t.w, (long long)t.h, (long long)t.out_w,
		      (long long)t.out_h);
	}
}

static void test_params(void)
{
	struct tools_tiles_tile t = { 1024, 0, 476, 1000, 238, 500 };
	char region[64], size[64];
	tools_tiles_params(IMAGE_API_V3, &t, region, sizeof region, size, sizeof size);
	CHECK_STR(region, "1024,0,476,1000", "region");
	CHECK_STR(size, "238,500", "v3 size is w,h");
	tools_tiles_params(IMAGE_API_V2, &t, region, sizeof region, size, sizeof size);
	CHECK_STR(size, "238,", "v2 size is w,");
}

/*
 * Property: at every scale factor the tiles cover the image exactly once, and the server
 * resolves each 3.0 tile request to exactly that region and size.
 */
static void check_grid(int64_t w, int64_t h, int tile, int s)
{
	struct image_limits lim = { 0, 0, 100000000, 0 };
	int64_t area = 0;
	int bad = 0;
	for (int64_t row = 0; row < tools_tiles_count(h, tile, s); row++) {
		for (int64_t col = 0; col < tools_tiles_count(w, tile, s); col++) {
			struct tools_tiles_tile t;
			struct image_request req;
			struct image_geometry g;
			struct iiifd_error err = { 0 };
			char region[64], size[64];
			tools_tiles_tile(w, h, tile, tile, s, col, row, &t);
			tools_tiles_params(IMAGE_API_V3, &t, region, sizeof region, size,
					   sizeof size);
			area += t.w * t.h;
			if (image_request_parse(IMAGE_API_V3, region, size, "0", "default.jpg", &req,
						&err) < 0 ||
			    image_request_resolve(&req, w, h, &lim, &g, &err) < 0 || g.x != t.x ||
			    g.y != t.y || g.w != t.w || g.h != t.h || g.out_w != t.out_w ||
			    g.out_h != t.out_h)
				bad++;
		}
	}
	CHECK(area == w * h, "%lldx%lld tile %d s %d: tiles cover %lld pixels", (long long)w,
	      (long long)h, tile, s, (long long)area);
	CHECK(bad == 0, "%lldx%lld tile %d s %d: %d tiles resolve differently", (long long)w,
	      (long long)h, tile, s, bad);
}

static void test_grid_property(void)
{
	static const int64_t sizes[][2] = { { 1500, 1000 }, { 1, 1 },	  { 513, 511 },
					    { 6000, 4000 }, { 4097, 33 }, { 999, 2001 } };
	static const int tiles[] = { 256, 512, 100 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (size_t k = 0; k < sizeof tiles / sizeof tiles[0]; k++)
			for (int s = 1; s <= 32; s *= 2)
				check_grid(sizes[i][0], sizes[i][1], tiles[k], s);
}

static struct image_source flat_source(int64_t w, int64_t h)
{
	struct image_source s = { 0 };
	s.kind = IMAGE_SOURCE_OTHER;
	s.width = w;
	s.height = h;
	s.nlevels = 1;
	s.levels[0].width = w;
	s.levels[0].height = h;
	return s;
}

static struct image_info_options level0_options(void)
{
	struct image_info_options o = { 0 };
	o.limits.max_area = 100000000;
	o.default_tile_size = 512;
	o.formats = 1u << IMAGE_FORMAT_JPG;
	o.level0 = true;
	return o;
}

static void test_info_level0_v3(void)
{
	struct image_source s = flat_source(1500, 1000);
	struct image_info_options o = level0_options();
	json_t *info = image_info_build(IMAGE_API_V3, "https://cdn.example.org/img", &s, &o);
	CHECK_STR(json_string_value(json_object_get(info, "profile")), "level0", "v3 profile");
	CHECK_STR(json_string_value(json_object_get(info, "id")), "https://cdn.example.org/img",
		  "id");
	CHECK_STR(json_string_value(json_object_get(info, "type")), "ImageService3", "type");
	CHECK(json_object_get(info, "extraFeatures") == NULL, "no extraFeatures");
	CHECK(json_object_get(info, "extraFormats") == NULL, "no extraFormats");
	CHECK(json_object_get(info, "extraQualities") == NULL, "no extraQualities");
	CHECK_INT(json_array_size(json_object_get(info, "sizes")), 3, "sizes 375, 750, 1500");
	json_t *tiles = json_array_get(json_object_get(info, "tiles"), 0);
	CHECK_INT(json_array_size(json_object_get(tiles, "scaleFactors")), 3, "factors 1, 2, 4");
	json_decref(info);
	o.level0 = false;
	info = image_info_build(IMAGE_API_V3, "x", &s, &o);
	CHECK_STR(json_string_value(json_object_get(info, "profile")), "level2",
		  "level2 unless asked");
	CHECK(json_object_get(info, "extraFeatures") != NULL, "level2 keeps extraFeatures");
	json_decref(info);
}

static void test_info_level0_v2(void)
{
	struct image_source s = flat_source(1500, 1000);
	struct image_info_options o = level0_options();
	json_t *info = image_info_build(IMAGE_API_V2, "https://cdn.example.org/img", &s, &o);
	json_t *profile = json_object_get(info, "profile");
	CHECK_STR(json_string_value(json_array_get(profile, 0)),
		  "http://iiif.io/api/image/2/level0.json", "v2 profile uri");
	json_t *details = json_array_get(profile, 1);
	CHECK(json_object_get(details, "supports") == NULL, "no supports");
	json_t *formats = json_object_get(details, "formats");
	CHECK(json_array_size(formats) == 1 &&
		      strcmp(json_string_value(json_array_get(formats, 0)), "jpg") == 0,
	      "formats is just jpg");
	CHECK_STR(json_string_value(json_object_get(info, "@id")), "https://cdn.example.org/img",
		  "@id");
	CHECK_INT(json_array_size(json_object_get(info, "sizes")), 3, "v2 sizes");
	json_decref(info);
}

static void test_bigtiff(void)
{
	CHECK(!image_pyramid_needs_bigtiff(1500, 1000, 3), "small image: classic TIFF");
	CHECK(!image_pyramid_needs_bigtiff(20000, 20000, 3), "1.6 GB pyramid: classic TIFF");
	CHECK(image_pyramid_needs_bigtiff(30000, 30000, 3), "3.6 GB pyramid: BigTIFF");
	CHECK(image_pyramid_needs_bigtiff(10000000, 10000000, 1), "no overflow at the largest");
}

int main(void)
{
	UNIT_RUN(test_count);
	UNIT_RUN(test_tile_table);
	UNIT_RUN(test_params);
	UNIT_RUN(test_grid_property);
	UNIT_RUN(test_info_level0_v3);
	UNIT_RUN(test_info_level0_v2);
	UNIT_RUN(test_bigtiff);
	return unit_report("tiles");
}
