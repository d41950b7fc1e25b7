/*
 * test_render.c: the pure parts of the direct render path: resampling (a flat image stays flat,
 * a whole-pixel window of the output's size is a copy, a ramp keeps its position: no offset) and
 * the JPEG codec (encode, then decode whole and DCT-scaled; abbreviated tiles with separate tables;
 * damaged data is an error, never pixels).
 */
#include "image/jpeg_codec.h"
#include "image/resample.h"
#include "unit.h"

#include <stdlib.h>

static struct resample_image image_new(int w, int h, int bands)
{
	struct resample_image im = { .width = w, .height = h, .bands = bands,
				     .stride = (size_t)w * (size_t)bands };
	im.pixels = calloc(im.stride, (size_t)h);
	return im;
}

static void test_flat_stays_flat(void)
{
	struct resample_image src = image_new(301, 203, 3), dst = image_new(97, 61, 3);
	memset(src.pixels, 77, src.stride * 203);
	CHECK_INT(resample_image(&src, 0.5, 1.0, 300.5, 202.0, &dst), 0, "resample");
	int off = 0;
	for (size_t i = 0; i < dst.stride * 61; i++)
		off += dst.pixels[i] != 77;
	CHECK_INT(off, 0, "pixels that moved away from a flat 77");
	struct resample_image big = image_new(20, 10, 1);
	memset(src.pixels, 200, src.stride * 203);
	CHECK_INT(resample_image(&(struct resample_image){ .pixels = src.pixels, .width = 301,
							 .height = 203, .bands = 1,
							 .stride = src.stride },
				 0, 0, 301, 203, &big),
		  0, "a 30x shrink (area averaging)");
	CHECK_INT(big.pixels[0], 200, "area average of a flat image");
	free(src.pixels);
	free(dst.pixels);
	free(big.pixels);
}

static void test_whole_pixel_window_is_a_copy(void)
{
	struct resample_image src = image_new(50, 40, 3), dst = image_new(20, 10, 3);
	for (size_t i = 0; i < src.stride * 40; i++)
		src.pixels[i] = (uint8_t)(i * 2654435761u >> 24);
	CHECK_INT(resample_image(&src, 7, 9, 27, 19, &dst), 0, "copy");
	CHECK(memcmp(dst.pixels, src.pixels + 9 * src.stride + 7 * 3, 60) == 0, "first row");
	CHECK(memcmp(dst.pixels + 9 * dst.stride, src.pixels + 18 * src.stride + 7 * 3, 60) == 0,
	      "last row");
	free(src.pixels);
	free(dst.pixels);
}

/* A horizontal ramp shrunk by 2: output pixel i covers source [2i, 2i+2), centre 2i + 1. */
static void test_ramp_keeps_its_position(void)
{
	struct resample_image src = image_new(200, 8, 1), dst = image_new(100, 4, 1);
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 200; x++)
			src.pixels[y * 200 + x] = (uint8_t)x;
	CHECK_INT(resample_image(&src, 0, 0, 200, 8, &dst), 0, "shrink by 2");
	int worst = 0;
	for (int x = 4; x < 96; x++) { /* the ramp's value at centre 2x + 1 is 2x + 0.5 */
		int d = abs((int)dst.pixels[2 * 100 + x] - (2 * x + 1));
		worst = d > worst ? d : worst;
	}
	CHECK(worst <= 1, "ramp off by %d", worst);
	free(src.pixels);
	free(dst.pixels);
}

/* src cut into a grid of tw x th tiles with src at (x0, y0) in the first; padding is 0xEE. */
struct tile_grid {
	uint8_t *tiles[64];
	size_t strides[64];
	struct resample_tiles t;
};

static void tile_grid_cut(const struct resample_image *src, int tw, int th, int x0, int y0,
			  struct tile_grid *g)
{
	int cols = (src->width + x0 + tw - 1) / tw, rows = (src->height + y0 + th - 1) / th;
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols; c++) {
			size_t stride = (size_t)tw * (size_t)src->bands;
			uint8_t *tile = malloc(stride * (size_t)th);
			memset(tile, 0xEE, stride * (size_t)th);
			for (int y = 0; y < th; y++)
				for (int x = 0; x < tw; x++) {
					int sx = c * tw + x - x0, sy = r * th + y - y0;
					if (sx >= 0 && sy >= 0 && sx < src->width && sy < src->height)
						memcpy(tile + (size_t)y * stride + (size_t)x * (size_t)src->bands,
						       src->pixels + (size_t)sy * src->stride +
							       (size_t)sx * (size_t)src->bands,
						       (size_t)src->bands);
				}
			g->tiles[r * cols + c] = tile;
			g->strides[r * cols + c] = stride;
		}
	g->t = (struct resample_tiles){ .pixels = (const uint8_t *const *)g->tiles,
					.strides = g->strides, .cols = cols, .rows = rows,
					.tile_w = tw, .tile_h = th, .bands = src->bands, .x0 = x0,
					.y0 = y0, .width = src->width, .height = src->height };
}

/*
 * Reading the tiles in place gives the same bytes as one pasted buffer: odd sizes, a region that
 * starts inside its first tile, windows reaching the edge tiles, Lanczos and area shrinks, 1 and 3
 * bands; nothing of the tiles' padding gets in.
 */
static void test_tiled_source_equals_one_buffer(void)
{
	static const double win[][4] = { { 0, 0, 203, 157 },     { 3.5, 2.25, 201.5, 150 },
					  { 100, 90, 203, 157 }, { 0.5, 0.5, 40.5, 30.5 },
					  { 17, 11, 203, 140 } };
	static const int out[][2] = { { 148, 115 }, { 71, 51 }, { 25, 17 }, { 40, 30 }, { 9, 7 } };
	for (int bands = 1; bands <= 3; bands += 2) {
		struct resample_image src = image_new(203, 157, bands);
		for (size_t i = 0; i < src.stride * 157; i++)
			src.pixels[i] = (uint8_t)(i * 2654435761u >> 24);
		struct tile_grid g;
		tile_grid_cut(&src, 48, 32, 13, 7, &g);
		for (size_t k = 0; k < sizeof win / sizeof win[0]; k++) {
			struct resample_image a = image_new(out[k][0], out[k][1], bands);
			struct resample_image b = image_new(out[k][0], out[k][1], bands);
			struct resample_plan *p = resample_plan_new(203, 157, win[k][0], win[k][1],
								    win[k][2], win[k][3], a.width,
								    a.height);
			CHECK(p != NULL, "plan %zu", k);
			if (p) {
				CHECK_INT(resample_plan_rows(p, &src, &a, 0, a.height), 0, "buffer");
				CHECK_INT(resample_plan_rows_tiled(p, &g.t, &b, 0, b.height), 0, "tiles");
				CHECK(memcmp(a.pixels, b.pixels, a.stride * (size_t)a.height) == 0,
				      "window %zu, %d bands: tiled differs", k, bands);
			}
			resample_plan_free(p);
			free(a.pixels);
			free(b.pixels);
		}
		for (int i = 0; i < g.t.cols * g.t.rows; i++)
			free(g.tiles[i]);
		free(src.pixels);
	}
}

/* Lanczos-3 keeps a flat image flat to the edges of odd sizes (weights sum to one). */
static void test_lanczos_flat_to_the_edges(void)
{
	struct resample_image src = image_new(257, 129, 3), dst = image_new(131, 67, 3);
	memset(src.pixels, 201, src.stride * 129);
	CHECK_INT(resample_image(&src, 0, 0, 257, 129, &dst), 0, "shrink 1.96");
	int off = 0;
	for (size_t i = 0; i < dst.stride * 67; i++)
		off += dst.pixels[i] != 201;
	CHECK_INT(off, 0, "pixels off a flat 201");
	free(src.pixels);
	free(dst.pixels);
}

static void test_bad_windows_refused(void)
{
	struct resample_image src = image_new(10, 10, 1), dst = image_new(5, 5, 1);
	CHECK_INT(resample_image(&src, 5, 0, 5, 10, &dst), -1, "empty window");
	CHECK_INT(resample_image(&src, 0, 0, 11, 10, &dst), -1, "window outside the source");
	free(src.pixels);
	free(dst.pixels);
}

static void test_jpeg_round_trip_and_dct_scaling(void)
{
	struct resample_image im = image_new(64, 48, 3);
	for (int y = 0; y < 48; y++)
		for (int x = 0; x < 64; x++) {
			uint8_t *p = im.pixels + y * im.stride + x * 3;
			p[0] = (uint8_t)(x * 4), p[1] = (uint8_t)(y * 5);
			p[2] = (uint8_t)((x * 7 + y * 13) * 2654435761u >> 24); /* noise: a long scan */
		}
	void *jpg = NULL;
	size_t len = 0;
	struct iiifd_error err = { 0 };
	CHECK_INT(jpeg_codec_encode(im.pixels, 64, 48, 3, im.stride, 85, &jpg, &len, &err), 0,
		  "encode");
	struct tile_cache_tile *t = NULL;
	CHECK_INT(jpeg_codec_decode_tile(NULL, 0, jpg, len, 1, 64, 48, &t, &err), 0, "decode");
	if (t) {
		CHECK(t->width == 64 && t->height == 48 && t->bands == 3, "size %dx%d", t->width,
		      t->height);
		CHECK(abs((int)t->pixels[20 * t->stride + 30 * 3] - 120) <= 6, "red at (30,20)");
		tile_cache_tile_free(t);
	}
	CHECK_INT(jpeg_codec_decode_tile(NULL, 0, jpg, len, 4, 64, 48, &t, &err), 0, "decode 1/4");
	if (t) {
		CHECK(t->width == 16 && t->height == 12, "1/4 size %dx%d", t->width, t->height);
		tile_cache_tile_free(t);
	}
	CHECK_INT(jpeg_codec_decode_tile(NULL, 0, jpg, len, 1, 32, 48, &t, &err), -1,
		  "a frame larger than the tile size is refused");
	uint8_t *bad = malloc(len);
	memcpy(bad, jpg, len);
	/* a marker in the middle of the scan: libjpeg warns "premature end of data segment" and
	 * would fill the rest with grey (random bytes without a marker can decode to garbage
	 * undetected: JPEG has no checksum) */
	size_t sos = 0;
	for (size_t i = 0; i + 1 < len; i++)
		sos = bad[i] == 0xFF && bad[i + 1] == 0xDA ? i : sos;
	CHECK(sos > 0, "a start of scan");
	bad[sos + (len - sos) / 2] = 0xFF;
	bad[sos + (len - sos) / 2 + 1] = 0xD9;
	CHECK_INT(jpeg_codec_decode_tile(NULL, 0, bad, len, 1, 64, 48, &t, &err), -1,
		  "damaged entropy-coded data");
	CHECK_INT(err.http_status, 500, "as a 500");
	CHECK_INT(jpeg_codec_decode_tile(NULL, 0, bad, 10, 1, 64, 48, &t, &err), -1, "truncated");
	free(bad);
	free(jpg);
	free(im.pixels);
}

/* A part decoded alone has exactly the pixels of a full decode, at any place and scale. */
static void test_part_decode_equals_full_decode(void)
{
	struct resample_image im = image_new(256, 256, 3);
	for (int y = 0; y < 256; y++)
		for (int x = 0; x < 256; x++) {
			uint8_t *p = im.pixels + y * im.stride + x * 3;
			uint8_t noise = (uint8_t)((x * 7 + y * 13) * 2654435761u >> 24);
			p[0] = (uint8_t)(x + noise / 4), p[1] = (uint8_t)(y * 3 + noise / 8);
			p[2] = (uint8_t)(noise ^ (x * y));
		}
	void *jpg = NULL;
	size_t len = 0;
	struct iiifd_error err = { 0 };
	CHECK_INT(jpeg_codec_encode(im.pixels, 256, 256, 3, im.stride, 85, &jpg, &len, &err), 0,
		  "encode (4:2:0)");
	static const int parts[][4] = { { 0, 0, 256, 256 }, { 37, 101, 256, 256 }, { 0, 0, 13, 7 },
					{ 200, 3, 255, 250 }, { 17, 17, 18, 18 }, { 1, 190, 129, 191 } };
	for (int denom = 1; denom <= 2; denom++) {
		struct tile_cache_tile *full = NULL, *part = NULL;
		CHECK_INT(jpeg_codec_decode_tile(NULL, 0, jpg, len, denom, 256, 256, &full, &err), 0,
			  "full decode");
		for (size_t k = 0; full && k < sizeof parts / sizeof parts[0]; k++) {
			int r[4];
			for (int i = 0; i < 4; i++)
				r[i] = parts[k][i] / denom;
			r[2] = r[2] > r[0] ? r[2] : r[0] + 1;
			r[3] = r[3] > r[1] ? r[3] : r[1] + 1;
			CHECK_INT(jpeg_codec_decode_tile_part(NULL, 0, jpg, len, denom, 256, 256, r,
							      &part, &err),
				  0, "part decode");
			if (!part)
				continue;
			int diff = 0;
			for (int y = r[1]; y < r[3]; y++)
				diff += memcmp(full->pixels + y * full->stride + r[0] * 3,
					       part->pixels + y * part->stride + r[0] * 3,
					       (size_t)(r[2] - r[0]) * 3) != 0;
			CHECK(diff == 0, "part %zu at 1/%d: %d rows differ", k, denom, diff);
			tile_cache_tile_free(part);
		}
		tile_cache_tile_free(full);
	}
	static const int bad[4] = { 10, 10, 10, 20 };
	struct tile_cache_tile *t = NULL;
	CHECK_INT(jpeg_codec_decode_tile_part(NULL, 0, jpg, len, 1, 256, 256, bad, &t, &err), -1,
		  "an empty part");
	free(jpg);
	free(im.pixels);
}

static void test_grey_encode_is_one_band(void)
{
	struct resample_image im = image_new(16, 16, 1);
	memset(im.pixels, 90, 256);
	void *jpg = NULL;
	size_t len = 0;
	struct iiifd_error err = { 0 };
	struct tile_cache_tile *t = NULL;
	CHECK_INT(jpeg_codec_encode(im.pixels, 16, 16, 1, 16, 95, &jpg, &len, &err), 0, "encode");
	CHECK_INT(jpeg_codec_decode_tile(NULL, 0, jpg, len, 2, 16, 16, &t, &err), 0, "decode");
	if (t) {
		CHECK(t->bands == 1 && t->width == 8 && abs(t->pixels[0] - 90) <= 1, "grey 1/2");
		tile_cache_tile_free(t);
	}
	free(jpg);
	free(im.pixels);
}

int main(void)
{
	UNIT_RUN(test_flat_stays_flat);
	UNIT_RUN(test_whole_pixel_window_is_a_copy);
	UNIT_RUN(test_ramp_keeps_its_position);
	UNIT_RUN(test_bad_windows_refused);
	UNIT_RUN(test_tiled_source_equals_one_buffer);
	UNIT_RUN(test_lanczos_flat_to_the_edges);
	UNIT_RUN(test_jpeg_round_trip_and_dct_scaling);
	UNIT_RUN(test_grey_encode_is_one_band);
	UNIT_RUN(test_part_decode_equals_full_decode);
	return unit_report("render");
}
