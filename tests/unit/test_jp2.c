/*
 * test_jp2.c: the JPEG 2000 index and region decoder (image/jp2.h) against libvips' own JPEG
 * 2000 loader on lossless files made here: the same pixels at every reduction, for any area, from
 * many threads at once; unsupported and damaged files are told apart.
 */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "image/jp2.h"
#include "image/jp2_internal.h"
#include "unit.h"

static char test_dir[] = "/tmp/iiifd-test-jp2-XXXXXX";

static const char *fx(const char *name)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", test_dir, name);
	return p;
}

/* 1000x700 of gradients that differ in every pixel, so a misplaced tile shows. */
static VipsImage *pattern(int bands)
{
	VipsImage *xy = NULL, *bands_img[3] = { NULL }, *joined = NULL, *out = NULL;
	vips_xyz(&xy, 1000, 700, NULL);
	VipsImage *x = NULL, *y = NULL, *sum = NULL;
	vips_extract_band(xy, &x, 0, NULL);
	vips_extract_band(xy, &y, 1, NULL);
	vips_add(x, y, &sum, NULL);
	vips_remainder_const1(x, &bands_img[0], 251, NULL);
	vips_remainder_const1(y, &bands_img[1], 241, NULL);
	vips_remainder_const1(sum, &bands_img[2], 239, NULL);
	if (bands == 3)
		vips_bandjoin(bands_img, &joined, 3, NULL);
	else
		joined = g_object_ref(bands_img[2]);
	VipsImage *uchar = NULL;
	vips_cast_uchar(joined, &uchar, NULL);
	vips_copy(uchar, &out, "interpretation",
		  bands == 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W, NULL);
	g_object_unref(uchar);
	g_object_unref(joined);
	for (int i = 0; i < 3; i++)
		g_object_unref(bands_img[i]);
	g_object_unref(xy);
	g_object_unref(x);
	g_object_unref(y);
	g_object_unref(sum);
	return out;
}

static int save_jp2(VipsImage *im, const char *name, int tile)
{
	return vips_jp2ksave(im, fx(name), "lossless", TRUE, "tile_width", tile, "tile_height",
			     tile, NULL);
}

static void make_fixtures(void)
{
	VipsImage *rgb = pattern(3), *grey = pattern(1), *rgba = NULL, *deep = NULL;
	CHECK(save_jp2(rgb, "rgb.jp2", 128) == 0, "rgb.jp2: %s", vips_error_buffer());
	CHECK(save_jp2(rgb, "again.jp2", 128) == 0, "again.jp2");
	CHECK(save_jp2(grey, "grey.jp2", 256) == 0, "grey.jp2");
	CHECK(save_jp2(rgb, "untiled.jp2", 1024) == 0, "untiled.jp2");
	vips_bandjoin_const1(rgb, &rgba, 255, NULL);
	CHECK(save_jp2(rgba, "rgba.jp2", 128) == 0, "rgba.jp2");
	VipsImage *wide = NULL;
	vips_cast_ushort(rgb, &wide, NULL);
	vips_copy(wide, &deep, "interpretation", VIPS_INTERPRETATION_RGB16, NULL);
	g_object_unref(wide);
	CHECK(save_jp2(deep, "deep.jp2", 128) == 0, "deep.jp2");
	CHECK(vips_jpegsave(rgb, fx("photo.jpg"), NULL) == 0, "photo.jpg");
	/* 4:2:0 sYCC in tiles of 126: at reduction 1 every other tile starts on an odd pixel */
	CHECK(vips_jp2ksave(rgb, fx("sub.jp2"), "tile_width", 126, "tile_height", 126,
			    "subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON, "Q", 95, NULL) == 0,
	      "sub.jp2: %s", vips_error_buffer());
	g_object_unref(rgb);
	g_object_unref(grey);
	g_object_unref(rgba);
	g_object_unref(deep);
	vips_error_clear();
}

/* Copies the first `keep` bytes of src to dst, then overwrites `len` bytes at `at` with 0xff. */
static void damaged_copy(const char *src, const char *dst, size_t keep, size_t at, size_t len)
{
	gchar *data = NULL;
	gsize size = 0;
	CHECK(g_file_get_contents(src, &data, &size, NULL), "read %s", src);
	keep = keep < size ? keep : size;
	if (at + len <= keep)
		memset(data + at, 0xff, len);
	CHECK(g_file_set_contents(dst, data, (gssize)keep, NULL), "write %s", dst);
	g_free(data);
}

/* The reference: libvips' loader at that reduction, cropped. */
static VipsImage *reference(const char *path, int reduce, const struct jp2_rect *a)
{
	VipsImage *level = NULL, *crop = NULL;
	if (vips_jp2kload(path, &level, "page", reduce, NULL))
		return NULL;
	vips_extract_area(level, &crop, (int)a->x0, (int)a->y0, (int)(a->x1 - a->x0),
			  (int)(a->y1 - a->y0), NULL);
	g_object_unref(level);
	return crop;
}

static bool same_pixels(VipsImage *a, VipsImage *b)
{
	size_t la = 0, lb = 0;
	void *pa = vips_image_write_to_memory(a, &la), *pb = vips_image_write_to_memory(b, &lb);
	bool same = pa && pb && la == lb && a->Bands == b->Bands && a->BandFmt == b->BandFmt &&
		    memcmp(pa, pb, la) == 0;
	g_free(pa);
	g_free(pb);
	return same;
}

struct fixture {
	char path[512];
	struct jp2_index *ix;
};

static struct fixture open_fixture(const char *name)
{
	struct fixture f = { .ix = NULL };
	snprintf(f.path, sizeof f.path, "%s", fx(name));
	struct iiifd_error err = { 0 };
	int rc = jp2_index_open(f.path, &f.ix, &err);
	CHECK(rc == 0 && f.ix, "%s: index %d %s", name, rc, err.msg);
	return f;
}

static void check_area(const struct fixture *f, int reduce, struct jp2_rect a)
{
	VipsImage *got = NULL, *want = reference(f->path, reduce, &a);
	enum jp2_decode_status s = jp2_decode(f->ix, f->path, reduce, &a, 0, &got);
	CHECK(s == JP2_DECODED && want, "%s r%d %lld,%lld: status %d %s", f->path, reduce,
	      (long long)a.x0, (long long)a.y0, s, vips_error_buffer());
	if (got && want) {
		CHECK(got->Xsize == want->Xsize && got->Ysize == want->Ysize, "size");
		CHECK(same_pixels(got, want), "%s r%d area %lld,%lld-%lld,%lld: pixels differ",
		      f->path, reduce, (long long)a.x0, (long long)a.y0, (long long)a.x1,
		      (long long)a.y1);
	}
	if (got)
		g_object_unref(got);
	if (want)
		g_object_unref(want);
	vips_error_clear();
}

static void test_index(void)
{
	struct fixture f = open_fixture("rgb.jp2");
	if (!f.ix)
		return;
	const struct jp2_layout *l = jp2_index_layout(f.ix);
	CHECK(l->width == 1000 && l->height == 700, "size %ux%u", l->width, l->height);
	CHECK(l->tile_width == 128 && l->tiles_across == 8 && l->tiles_down == 6, "tiles %u %ux%u",
	      l->tile_width, l->tiles_across, l->tiles_down);
	CHECK(l->bands == 3 && l->precision == 8 && l->reductions >= 3, "bands %d prec %d res %d",
	      l->bands, l->precision, l->reductions);
	CHECK(f.ix->nparts >= 48 && f.ix->main_header_len > 40, "%u tile-parts, header %zu bytes",
	      f.ix->nparts, f.ix->main_header_len);
	jp2_index_free(f.ix);

	struct jp2_index *ix = NULL;
	struct iiifd_error err = { 0 };
	CHECK_INT(jp2_index_open(fx("grey.jp2"), &ix, &err), 0, "grey.jp2");
	CHECK(ix && jp2_index_layout(ix)->bands == 1, "grey bands");
	jp2_index_free(ix);
	CHECK_INT(jp2_index_open(fx("deep.jp2"), &ix, &err), 0, "deep.jp2");
	CHECK(ix && jp2_index_layout(ix)->precision == 16, "deep precision");
	jp2_index_free(ix);
	CHECK_INT(jp2_index_open(fx("untiled.jp2"), &ix, &err), 0, "one tile");
	CHECK(ix && jp2_index_layout(ix)->tiles_across == 1 && ix->nparts >= 1, "one tile-part");
	jp2_index_free(ix);
	ix = NULL;
	CHECK_INT(jp2_index_open(fx("rgba.jp2"), &ix, &err), 415, "alpha: for libvips");
	CHECK_INT(jp2_index_open(fx("photo.jpg"), &ix, &err), 415, "not a JPEG 2000");
	CHECK(ix == NULL, "no index when refused");
	CHECK_INT(jp2_index_open(fx("missing.jp2"), &ix, &err), -1, "missing");
	CHECK_INT(err.http_status, 404, "missing is 404");
	damaged_copy(fx("rgb.jp2"), fx("header.jp2"), 200, 0, 0);
	CHECK_INT(jp2_index_open(fx("header.jp2"), &ix, &err), -1, "cut inside the header");
	CHECK_INT(err.http_status, 500, "a damaged header is 500");
	struct stat st;
	stat(fx("rgb.jp2"), &st);
	damaged_copy(fx("rgb.jp2"), fx("cut.jp2"), (size_t)st.st_size * 6 / 10, 0, 0);
	CHECK_INT(jp2_index_open(fx("cut.jp2"), &ix, &err), -1, "tile-parts run past the end");
}

static void test_pixels(void)
{
	static const char *const files[] = { "rgb.jp2", "grey.jp2", "deep.jp2", "untiled.jp2" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct fixture f = open_fixture(files[i]);
		if (!f.ix)
			continue;
		const struct jp2_layout *l = jp2_index_layout(f.ix);
		for (int reduce = l->reductions - 1; reduce >= 0; reduce--) {
			int64_t w, h;
			jp2_layout_level_size(l, reduce, &w, &h);
			check_area(&f, reduce, (struct jp2_rect){ 0, 0, w, h });
			check_area(&f, reduce,
				   (struct jp2_rect){ w / 3, h / 4, w / 3 + (w + 1) / 2, h - 1 });
			check_area(&f, reduce, (struct jp2_rect){ w - 1, h - 1, w, h });
		}
		jp2_index_free(f.ix);
	}
}

/* The largest difference between two images of one size, or -1 when they cannot be compared. */
static double largest_difference(VipsImage *a, VipsImage *b)
{
	VipsImage *diff = NULL, *magnitude = NULL;
	double max = -1;
	if (a && b && !vips_subtract(a, b, &diff, NULL) && !vips_abs(diff, &magnitude, NULL) &&
	    vips_max(magnitude, &max, NULL))
		max = -1;
	if (diff)
		g_object_unref(diff);
	if (magnitude)
		g_object_unref(magnitude);
	return max;
}

/* OpenJPEG's own command-line decoder at reduction r, which converts sYCC itself: the reference
 * for subsampled files (libvips 8.14 gets their reduced levels wrong). */
static VipsImage *opj_reference(const char *path, int r, const struct jp2_rect *a)
{
	char cmd[1200], png[600];
	snprintf(png, sizeof png, "%s.r%d.png", path, r);
	snprintf(cmd, sizeof cmd, "opj_decompress -i '%s' -r %d -o '%s' >/dev/null 2>&1", path, r,
		 png);
	VipsImage *level = NULL, *crop = NULL;
	if (system(cmd) != 0 || !(level = vips_image_new_from_file(png, NULL)))
		return NULL;
	vips_extract_area(level, &crop, (int)a->x0, (int)a->y0, (int)(a->x1 - a->x0),
			  (int)(a->y1 - a->y0), NULL);
	g_object_unref(level);
	return crop;
}

/* Subsampled chroma: a tile that starts on an odd pixel takes its first chroma sample from the
 * tile before it, as a whole-image decode does. Reduction 1 of 126-pixel tiles puts tile starts
 * on odd pixels (63, 189, ...). */
static void test_subsampled(void)
{
	struct fixture f = open_fixture("sub.jp2");
	if (!f.ix)
		return;
	const struct jp2_layout *l = jp2_index_layout(f.ix);
	CHECK(l->step_x[1] == 2 && l->step_y[2] == 2 && l->ycc, "4:2:0 sYCC: steps %d,%d ycc %d",
	      l->step_x[1], l->step_y[2], l->ycc);
	static const struct {
		int reduce;
		struct jp2_rect area;
	} cases[] = {
		{ 0, { 126, 126, 252, 252 } }, { 0, { 0, 0, 1000, 700 } },
		{ 1, { 63, 63, 126, 126 } },   { 1, { 189, 63, 315, 189 } },
		{ 1, { 62, 62, 65, 65 } },     { 1, { 0, 0, 500, 350 } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct jp2_rect *a = &cases[i].area;
		VipsImage *got = NULL, *want = opj_reference(f.path, cases[i].reduce, a);
		CHECK(jp2_decode(f.ix, f.path, cases[i].reduce, a, 0, &got) == JP2_DECODED,
		      "decode %zu: %s", i, vips_error_buffer());
		double max = largest_difference(got, want);
		CHECK(max >= 0 && max <= 3, "case %zu (r%d at %lld,%lld): largest difference %g", i,
		      cases[i].reduce, (long long)a->x0, (long long)a->y0, max);
		if (got)
			g_object_unref(got);
		if (want)
			g_object_unref(want);
	}
	jp2_index_free(f.ix);
	vips_error_clear();
}

/* Random areas at random reductions, each its own codestream. */
static void test_any_area(void)
{
	struct fixture f = open_fixture("rgb.jp2");
	if (!f.ix)
		return;
	GRand *rand = g_rand_new_with_seed(7);
	for (int i = 0; i < 40; i++) {
		int reduce = g_rand_int_range(rand, 0, 3);
		int64_t w, h;
		jp2_layout_level_size(jp2_index_layout(f.ix), reduce, &w, &h);
		int64_t x = g_rand_int_range(rand, 0, (gint32)w - 1);
		int64_t y = g_rand_int_range(rand, 0, (gint32)h - 1);
		int64_t x1 = x + g_rand_int_range(rand, 1, 300), y1 = y + g_rand_int_range(rand, 1, 300);
		check_area(&f, reduce, (struct jp2_rect){ x, y, x1 < w ? x1 : w, y1 < h ? y1 : h });
	}
	g_rand_free(rand);
	jp2_index_free(f.ix);
}

struct worker {
	const struct fixture *f;
	int seed;
	int wrong;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 20; i++) {
		int64_t x = (w->seed * 131 + i * 97) % 900, y = (w->seed * 71 + i * 53) % 600;
		struct jp2_rect a = { x, y, x + 100, y + 100 };
		VipsImage *got = NULL, *want = reference(w->f->path, 0, &a);
		if (jp2_decode(w->f->ix, w->f->path, 0, &a, 0, &got) != JP2_DECODED || !want ||
		    !same_pixels(got, want))
			w->wrong++;
		if (got)
			g_object_unref(got);
		if (want)
			g_object_unref(want);
	}
	return NULL;
}

/* One index shared by many threads, as the server does. */
static void test_threads(void)
{
	struct fixture f = open_fixture("rgb.jp2");
	if (!f.ix)
		return;
	pthread_t t[6];
	struct worker w[6];
	for (int i = 0; i < 6; i++) {
		w[i] = (struct worker){ &f, i, 0 };
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(w[i].wrong, 0, "thread's wrong decodes");
	}
	jp2_index_free(f.ix);
	vips_error_clear();
}

static void test_errors(void)
{
	struct fixture f = open_fixture("rgb.jp2");
	if (!f.ix)
		return;
	VipsImage *out = NULL;
	CHECK_INT(jp2_decode(f.ix, f.path, 0, &(struct jp2_rect){ 0, 0, 1001, 10 }, 0, &out),
		  JP2_FAILED, "area wider than the image");
	CHECK_INT(jp2_decode(f.ix, f.path, 99, &(struct jp2_rect){ 0, 0, 1, 1 }, 0, &out),
		  JP2_FAILED, "no such reduction");
	CHECK_INT(jp2_decode(f.ix, f.path, 0, &(struct jp2_rect){ 0, 0, 10, 10 }, 1, &out),
		  JP2_TIMED_OUT, "deadline already passed");
	CHECK(out == NULL, "nothing on failure");

	/* the index outlives the file as it was: cut in half under it */
	struct stat st;
	stat(f.path, &st);
	struct fixture d = { .ix = f.ix };
	snprintf(d.path, sizeof d.path, "%s", fx("damaged.jp2"));
	damaged_copy(f.path, d.path, (size_t)st.st_size / 2, 0, 0);
	check_area(&d, 0, (struct jp2_rect){ 0, 0, 100, 100 }); /* before the cut: fine */
	CHECK_INT(jp2_decode(d.ix, d.path, 0, &(struct jp2_rect){ 900, 600, 1000, 700 }, 0, &out),
		  JP2_FAILED, "a tile past the cut");
	CHECK_INT(jp2_decode(d.ix, fx("gone.jp2"), 0, &(struct jp2_rect){ 0, 0, 10, 10 }, 0, &out),
		  JP2_FAILED, "the file is gone");
	jp2_index_free(f.ix);
	vips_error_clear();
}

/* Bytes of the boxes, main header and first tile-part headers changed at random: indexing and
 * decoding either work or fail cleanly (ASan and UBSan watch every run). */
static void test_hostile_headers(void)
{
	gchar *data = NULL;
	gsize size = 0;
	CHECK(g_file_get_contents(fx("rgb.jp2"), &data, &size, NULL), "read rgb.jp2");
	if (!data)
		return;
	GRand *rand = g_rand_new_with_seed(11);
	char path[512];
	snprintf(path, sizeof path, "%s", fx("hostile.jp2"));
	int indexed = 0, decoded = 0;
	for (int round = 0; round < 400; round++) {
		gchar *copy = g_memdup2(data, size);
		int changes = g_rand_int_range(rand, 1, 6);
		for (int k = 0; k < changes; k++) {
			gsize at = (gsize)g_rand_int_range(rand, 0, (gint32)(size < 400 ? size : 400));
			copy[at] = (gchar)g_rand_int_range(rand, 0, 256);
		}
		g_file_set_contents(path, copy, (gssize)size, NULL);
		g_free(copy);
		struct jp2_index *ix = NULL;
		struct iiifd_error err = { 0 };
		if (jp2_index_open(path, &ix, &err) != 0)
			continue;
		indexed++;
		VipsImage *out = NULL;
		const struct jp2_layout *l = jp2_index_layout(ix);
		int64_t w, h;
		jp2_layout_level_size(l, 0, &w, &h);
		struct jp2_rect a = { 0, 0, w < 64 ? w : 64, h < 64 ? h : 64 };
		if (jp2_decode(ix, path, 0, &a, 0, &out) == JP2_DECODED) {
			decoded++;
			g_object_unref(out);
		}
		jp2_index_free(ix);
		vips_error_clear();
	}
	CHECK(indexed > 0 && decoded > 0, "some changes leave the file usable: %d indexed, %d decoded",
	      indexed, decoded);
	g_rand_free(rand);
	g_free(data);
}

/* A COD marker claiming 108 decomposition levels (the standard allows 32): the index refuses
 * the file instead of shifting by 108 later (UBSan: shift exponent 108). */
static void test_too_many_levels(void)
{
	gchar *data = NULL;
	gsize size = 0;
	CHECK(g_file_get_contents(fx("rgb.jp2"), &data, &size, NULL), "read rgb.jp2");
	if (!data)
		return;
	gsize cod = 0;
	for (gsize i = 0; i + 12 < size && !cod; i++)
		if ((guchar)data[i] == 0xff && (guchar)data[i + 1] == 0x52)
			cod = i;
	CHECK(cod > 0, "rgb.jp2 has a COD marker");
	const char *names[] = { "levels-32.jp2", "levels-33.jp2", "levels-108.jp2" };
	const int levels[] = { 32, 33, 108 };
	for (int k = 0; k < 3 && cod; k++) {
		data[cod + 2 + 7] = (gchar)levels[k]; /* marker, Lcod, Scod, SGcod, then the levels */
		g_file_set_contents(fx(names[k]), data, (gssize)size, NULL);
		struct jp2_index *ix = NULL;
		struct iiifd_error err = { 0 };
		int rc = jp2_index_open(fx(names[k]), &ix, &err);
		if (levels[k] > 32)
			CHECK(rc != 0 && ix == NULL, "%d levels accepted", levels[k]);
		jp2_index_free(ix);
	}
	vips_error_clear();
	g_free(data);
}

int main(void)
{
	if (VIPS_INIT("test_jp2") || !mkdtemp(test_dir))
		return 1;
	vips_cache_set_max(0);
	make_fixtures();
	UNIT_RUN(test_index);
	UNIT_RUN(test_pixels);
	UNIT_RUN(test_any_area);
	UNIT_RUN(test_subsampled);
	UNIT_RUN(test_threads);
	UNIT_RUN(test_errors);
	UNIT_RUN(test_hostile_headers);
	UNIT_RUN(test_too_many_levels);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", test_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", test_dir);
	vips_shutdown();
	return unit_report("jp2");
}
