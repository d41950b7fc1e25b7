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
	UNIT_RUN(test_jpeg_round_trip_and_dct_scaling);
	UNIT_RUN(test_grey_encode_is_one_band);
	return unit_report("render");
}
