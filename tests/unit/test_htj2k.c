/*
 * test_htj2k.c: the HTJ2K writer (image/htj2k_write.h over the OpenJPH shim htj2k_encode.h)
 * and JPEG 2000 areas through the shared tile cache (jp2_decode_shared in image/jp2.h): a file
 * written here is indexed and decoded back close to its source, with the levels and tiles asked
 * for; areas from the cache equal those decoded directly, from many threads at once; the
 * encoder's errors come back as messages.
 */
#include <glib.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <vips/vips.h>

#include "image/htj2k_encode.h"
#include "image/htj2k_write.h"
#include "image/jp2.h"
#include "image/source.h"
#include "image/tile_cache.h"
#include "unit.h"

static char test_dir[] = "/tmp/iiifd-test-htj2k-XXXXXX";
static char jph_path[600];

/* 1100x700: gradients that differ in every pixel, plus a smooth wave, saved as PNG. */
static int make_source(const char *png)
{
	VipsImage *xy = NULL, *x = NULL, *y = NULL, *b[3] = { NULL }, *joined = NULL, *u = NULL;
	int rc = vips_xyz(&xy, 1100, 700, NULL) || vips_extract_band(xy, &x, 0, NULL) ||
		 vips_extract_band(xy, &y, 1, NULL) ||
		 vips_linear1(x, &b[0], 0.2, 10, NULL) || vips_linear1(y, &b[1], 0.3, 5, NULL) ||
		 vips_add(x, y, &b[2], NULL);
	if (!rc) {
		VipsImage *scaled = NULL;
		rc = vips_linear1(b[2], &scaled, 0.12, 0, NULL);
		g_object_unref(b[2]);
		b[2] = scaled;
	}
	rc = rc || vips_bandjoin(b, &joined, 3, NULL) || vips_cast_uchar(joined, &u, NULL) ||
	     vips_pngsave(u, png, NULL);
	VipsImage *all[] = { xy, x, y, b[0], b[1], b[2], joined, u };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i])
			g_object_unref(all[i]);
	return rc;
}

static void test_levels_and_steps(void)
{
	CHECK_INT(htj2k_decompositions(18000, 17000, 256), 7, "300 MP in 256 tiles");
	CHECK_INT(htj2k_decompositions(1531, 1017, 256), 3, "1531 wide in 256 tiles");
	CHECK_INT(htj2k_decompositions(100, 80, 256), 1, "smaller than a tile: still 2 levels");
	CHECK_INT(htj2k_decompositions(1 << 24, 1 << 24, 512), 9, "capped at what a tile holds");
	CHECK(fabsf(htj2k_quality_step(100) - 1.0f / 1024) < 1e-9f, "Q100 is 1/1024");
	CHECK(fabsf(htj2k_quality_step(75) - 4.0f / 1024) < 1e-6f, "Q75 is 4/1024");
	CHECK(htj2k_quality_step(0) == htj2k_quality_step(1), "clamped below");
	for (int q = 2; q <= 100; q++)
		CHECK(htj2k_quality_step(q) < htj2k_quality_step(q - 1), "Q%d finer than Q%d", q,
		      q - 1);
}

static void test_encoder_errors(void)
{
	char err[200] = "";
	FILE *f = tmpfile();
	struct htj2k_encode_params p = { .width = 64, .height = 64, .bands = 2, .tile = 64,
					 .decompositions = 2, .quant_step = 0.01f };
	CHECK(htj2k_encoder_new(&p, f, err, sizeof err) == NULL, "two bands refused");
	CHECK(strstr(err, "grey or RGB") != NULL, "reason: %s", err);
	p.bands = 3;
	p.decompositions = 40; /* more than JPEG 2000 allows: OpenJPH throws */
	err[0] = '\0';
	struct htj2k_encoder *e = htj2k_encoder_new(&p, f, err, sizeof err);
	CHECK(e == NULL && strncmp(err, "HTJ2K encoder: ", 15) == 0 &&
		      strstr(err, "decompositions") != NULL,
	      "OpenJPH's reason as the message: '%s'", err);
	htj2k_encoder_free(e);
	fclose(f);
}

static void test_write_read_back(void)
{
	char png[600];
	snprintf(png, sizeof png, "%s/src.png", test_dir);
	snprintf(jph_path, sizeof jph_path, "%s/out.jph", test_dir);
	CHECK(make_source(png) == 0, "source made");
	struct image_source src;
	struct iiifd_error err = { 0 };
	if (image_source_open(png, 0, &src, &err) < 0) {
		CHECK(0, "open source: %s", err.msg);
		return;
	}
	CHECK_INT(image_htj2k_write(&src, jph_path, 256, 100, &err), 0, err.msg);
	image_source_release(&src);
	struct jp2_index *ix = NULL;
	CHECK_INT(jp2_index_open(jph_path, &ix, &err), 0, "indexed");
	if (!ix)
		return;
	const struct jp2_layout *l = jp2_index_layout(ix);
	CHECK_INT(l->width, 1100, "width");
	CHECK_INT(l->height, 700, "height");
	CHECK_INT(l->tile_width, 256, "tile");
	CHECK_INT(l->tiles_across * l->tiles_down, 5 * 3, "tiles");
	CHECK_INT(l->reductions, 4, "levels: 1100 >> 3 fits a tile");
	CHECK_INT(l->bands, 3, "bands");
	VipsImage *decoded = NULL, *source = vips_image_new_from_file(png, NULL);
	CHECK_INT(jp2_decode(ix, jph_path, 0, &(struct jp2_rect){ 0, 0, 1100, 700 }, 0, &decoded),
		  JP2_DECODED, "decoded");
	double mean = 99;
	VipsImage *diff = NULL, *absd = NULL;
	if (decoded && source && !vips_subtract(decoded, source, &diff, NULL) &&
	    !vips_abs(diff, &absd, NULL) && !vips_avg(absd, &mean, NULL))
		CHECK(mean < 1.0, "Q100 is close to the source: mean abs error %.3f", mean);
	else
		CHECK(0, "compared: %s", vips_error_buffer());
	VipsImage *all[] = { decoded, source, diff, absd };
	for (size_t i = 0; i < 4; i++)
		if (all[i])
			g_object_unref(all[i]);
	jp2_index_free(ix);
}

/* Areas through the cache must equal direct decodes. */
struct shared_worker {
	struct jp2_index *ix;
	struct tile_cache *cache;
	int seed, wrong;
};

static int same_pixels(VipsImage *a, VipsImage *b)
{
	if (!a || !b || a->Xsize != b->Xsize || a->Ysize != b->Ysize || a->Bands != b->Bands)
		return 0;
	for (int y = 0; y < a->Ysize; y++)
		if (memcmp(VIPS_IMAGE_ADDR(a, 0, y), VIPS_IMAGE_ADDR(b, 0, y),
			   VIPS_IMAGE_SIZEOF_LINE(a)))
			return 0;
	return 1;
}

static void *shared_run(void *user)
{
	struct shared_worker *w = user;
	struct tile_cache_key file = { .dev = 1, .ino = 2, .mtime_sec = 3, .size = 4 };
	GRand *rnd = g_rand_new_with_seed((guint32)w->seed);
	for (int i = 0; i < 12; i++) {
		int r = g_rand_int_range(rnd, 0, 4);
		int64_t lw, lh;
		jp2_layout_level_size(jp2_index_layout(w->ix), r, &lw, &lh);
		int64_t x0 = g_rand_int_range(rnd, 0, (gint32)lw), y0 = g_rand_int_range(rnd, 0, (gint32)lh);
		int64_t x1 = x0 + g_rand_int_range(rnd, 1, (gint32)(lw - x0) + 1);
		int64_t y1 = y0 + g_rand_int_range(rnd, 1, (gint32)(lh - y0) + 1);
		struct jp2_rect a = { x0, y0, x1, y1 };
		VipsImage *direct = NULL, *shared = NULL;
		enum jp2_decode_status s1 = jp2_decode(w->ix, jph_path, r, &a, 0, &direct);
		enum jp2_decode_status s2 =
			jp2_decode_shared(w->ix, jph_path, r, &a, 0, w->cache, &file, &shared);
		if (s1 != JP2_DECODED || s2 != JP2_DECODED || !same_pixels(direct, shared))
			w->wrong++;
		if (direct)
			g_object_unref(direct);
		if (shared)
			g_object_unref(shared);
	}
	g_rand_free(rnd);
	return NULL;
}

static void test_shared_equals_direct(void)
{
	struct jp2_index *ix = NULL;
	struct iiifd_error err = { 0 };
	if (jp2_index_open(jph_path, &ix, &err) != 0) {
		CHECK(0, "no file from test_write_read_back");
		return;
	}
	/* alone (every core on one request), then six at once, with a cache and with none kept */
	size_t sizes[] = { 64u << 20, 0 };
	for (size_t c = 0; c < 2; c++) {
		struct tile_cache *cache = tile_cache_new(sizes[c]);
		struct shared_worker one = { ix, cache, 7, 0 };
		shared_run(&one);
		CHECK_INT(one.wrong, 0, "alone: areas differing from the direct decode");
		pthread_t t[6];
		struct shared_worker w[6];
		for (int i = 0; i < 6; i++) {
			w[i] = (struct shared_worker){ ix, cache, 100 + i, 0 };
			pthread_create(&t[i], NULL, shared_run, &w[i]);
		}
		for (int i = 0; i < 6; i++) {
			pthread_join(t[i], NULL);
			CHECK_INT(w[i].wrong, 0, "threads: areas differing from the direct decode");
		}
		struct tile_cache_stats st;
		tile_cache_get_stats(cache, &st);
		CHECK(sizes[c] == 0 || st.hits > 0, "the cache was used: %llu hits",
		      (unsigned long long)st.hits);
		tile_cache_free(cache);
	}
	jp2_index_free(ix);
	vips_error_clear();
}

int main(void)
{
	if (VIPS_INIT("test_htj2k") || !mkdtemp(test_dir))
		return 1;
	vips_cache_set_max(0);
	UNIT_RUN(test_levels_and_steps);
	UNIT_RUN(test_encoder_errors);
	UNIT_RUN(test_write_read_back);
	UNIT_RUN(test_shared_equals_direct);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", test_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", test_dir);
	vips_shutdown();
	return unit_report("htj2k");
}
