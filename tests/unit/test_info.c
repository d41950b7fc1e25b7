/*
 * test_info.c: info.json construction for both versions from hand-made source descriptions
 * (flat images, stored pyramids, limits), checked field by field.
 */
#include <string.h>

#include "image/info.h"
#include "unit.h"

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

static struct image_source pyramid_source(int64_t w, int64_t h, int levels, int tile)
{
	struct image_source s = flat_source(w, h);
	s.kind = IMAGE_SOURCE_TIFF;
	s.tile_width = s.tile_height = tile;
	s.nlevels = levels;
	for (int i = 1; i < levels; i++) {
		s.levels[i].width = (w + (1 << i) - 1) >> i;
		s.levels[i].height = (h + (1 << i) - 1) >> i;
	}
	return s;
}

static struct image_info_options default_options(void)
{
	struct image_info_options o = { 0 };
	o.limits.max_area = 100000000;
	o.default_tile_size = 512;
	o.formats = (1u << IMAGE_FORMAT_JPG) | (1u << IMAGE_FORMAT_PNG) | (1u << IMAGE_FORMAT_WEBP);
	return o;
}

static void check_int_array(json_t *a, const int *want, size_t n, const char *ctx)
{
	CHECK_INT(json_array_size(a), n, ctx);
	for (size_t i = 0; i < n && i < json_array_size(a); i++)
		CHECK_INT(json_integer_value(json_array_get(a, i)), want[i], ctx);
}

static void test_v3_flat(void)
{
	struct image_source s = flat_source(1000, 800);
	struct image_info_options o = default_options();
	o.rights = "http://rightsstatements.org/vocab/InC/1.0/";
	json_t *info = image_info_build(IMAGE_API_V3, "http://h/iiif/3/a.jpg", &s, &o);
	CHECK_STR(json_string_value(json_object_get(info, "@context")),
		  "http://iiif.io/api/image/3/context.json", "context");
	CHECK_STR(json_string_value(json_object_get(info, "id")), "http://h/iiif/3/a.jpg", "id");
	CHECK_STR(json_string_value(json_object_get(info, "type")), "ImageService3", "type");
	CHECK_STR(json_string_value(json_object_get(info, "profile")), "level2", "profile");
	CHECK_STR(json_string_value(json_object_get(info, "protocol")), "http://iiif.io/api/image",
		  "protocol");
	CHECK_INT(json_integer_value(json_object_get(info, "width")), 1000, "width");
	CHECK_INT(json_integer_value(json_object_get(info, "maxArea")), 100000000, "maxArea");
	CHECK(json_object_get(info, "maxWidth") == NULL, "no maxWidth unless configured");
	CHECK_STR(json_string_value(json_object_get(info, "rights")), o.rights, "rights");
	json_t *tiles = json_array_get(json_object_get(info, "tiles"), 0);
	CHECK_INT(json_integer_value(json_object_get(tiles, "width")), 512, "tile width");
	check_int_array(json_object_get(tiles, "scaleFactors"), (int[]){ 1, 2 }, 2, "flat factors");
	json_t *sizes = json_object_get(info, "sizes");
	CHECK_INT(json_array_size(sizes), 2, "sizes count");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(sizes, 0), "width")), 500,
		  "smallest size first");
	json_t *formats = json_object_get(info, "extraFormats");
	CHECK(json_array_size(formats) == 1 &&
		      strcmp(json_string_value(json_array_get(formats, 0)), "webp") == 0,
	      "extraFormats lists exactly the producible extra formats");
	json_decref(info);
}

static void test_v3_pyramid_and_limits(void)
{
	struct image_source s = pyramid_source(6000, 4000, 6, 256);
	struct image_info_options o = default_options();
	o.limits.max_width = 2000;
	o.limits.max_height = 2000;
	o.limits.max_area = 4000000;
	json_t *info = image_info_build(IMAGE_API_V3, "x", &s, &o);
	json_t *tiles = json_array_get(json_object_get(info, "tiles"), 0);
	CHECK_INT(json_integer_value(json_object_get(tiles, "width")), 256, "stored tile width");
	check_int_array(json_object_get(tiles, "scaleFactors"), (int[]){ 1, 2, 4, 8, 16, 32 }, 6,
			"stored levels");
	json_t *sizes = json_object_get(info, "sizes");
	size_t i;
	json_t *size;
	json_array_foreach(sizes, i, size) {
		int64_t w = json_integer_value(json_object_get(size, "width"));
		int64_t h = json_integer_value(json_object_get(size, "height"));
		CHECK(w <= 2000 && h <= 2000 && w * h <= 4000000, "size %lldx%lld within limits",
		      (long long)w, (long long)h);
	}
	CHECK_INT(json_array_size(sizes), 4, "sizes 188,375,750,1500 wide");
	CHECK_INT(json_integer_value(json_object_get(info, "maxWidth")), 2000, "maxWidth");
	json_decref(info);
	o.limits.max_width = o.limits.max_height = 100;
	info = image_info_build(IMAGE_API_V3, "x", &s, &o);
	tiles = json_array_get(json_object_get(info, "tiles"), 0);
	CHECK_INT(json_integer_value(json_object_get(tiles, "width")), 100, "tile within maxWidth");
	json_decref(info);
}

static void test_v2(void)
{
	struct image_source s = flat_source(300, 200);
	struct image_info_options o = default_options();
	json_t *info = image_info_build(IMAGE_API_V2, "http://h/iiif/2/a", &s, &o);
	CHECK_STR(json_string_value(json_object_get(info, "@context")),
		  "http://iiif.io/api/image/2/context.json", "v2 context");
	CHECK_STR(json_string_value(json_object_get(info, "@id")), "http://h/iiif/2/a", "@id");
	json_t *profile = json_object_get(info, "profile");
	CHECK_STR(json_string_value(json_array_get(profile, 0)),
		  "http://iiif.io/api/image/2/level2.json", "v2 profile uri");
	json_t *details = json_array_get(profile, 1);
	CHECK_INT(json_array_size(json_object_get(details, "formats")), 3, "jpg png webp");
	CHECK_INT(json_integer_value(json_object_get(details, "maxArea")), 100000000, "v2 maxArea");
	CHECK(json_array_size(json_object_get(details, "supports")) >= 15, "supports list");
	check_int_array(json_object_get(json_array_get(json_object_get(info, "tiles"), 0),
					"scaleFactors"),
			(int[]){ 1 }, 1, "image smaller than a tile");
	json_decref(info);
}

int main(void)
{
	UNIT_RUN(test_v3_flat);
	UNIT_RUN(test_v3_pyramid_and_limits);
	UNIT_RUN(test_v2);
	return unit_report("info");
}
