/*
 * test_jp2_ht_scan.c: which JPEG 2000 files have HT code-blocks (image/jp2.h: the index's
 * layout.ht and jp2_index_scan_ht(), which decide what the HTJ2K check of image/ht_guard.h
 * covers): a CAP marker, or the HT code-block style in a COD of the main header or of any
 * tile-part header, CAP or not; classic files not. Files: the fuzz seeds, edited here.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/jp2.h"
#include "unit.h"

static char test_dir[] = "/tmp/iiifd-test-jp2-ht-XXXXXX";

static guchar *seed(const char *name, gsize *len)
{
	char *path = g_strdup_printf("fuzz/corpus/jp2_index/%s", name);
	gchar *data = NULL;
	if (!g_file_get_contents(path, &data, len, NULL))
		fprintf(stderr, "cannot read %s\n", path);
	g_free(path);
	return (guchar *)data;
}

/* The first marker `marker` at or after `from` (a marker segment start), or -1. */
static long find_marker(const guchar *d, gsize len, gsize from, unsigned marker)
{
	for (gsize i = from; i + 1 < len; i++)
		if (d[i] == 0xff && d[i + 1] == (marker & 0xff))
			return (long)i;
	return -1;
}

/* Writes data to the test folder; both ways of asking must agree. Returns the scan's answer. */
static bool scan(const char *name, const guchar *data, gsize len)
{
	char *path = g_strdup_printf("%s/%s", test_dir, name);
	g_file_set_contents(path, (const gchar *)data, (gssize)len, NULL);
	bool ht = jp2_index_scan_ht(path, NULL);
	struct jp2_index *ix = NULL;
	struct iiifd_error err = { 0 };
	if (jp2_index_open(path, &ix, &err) == 0) {
		CHECK(jp2_index_layout(ix)->ht == ht, "%s: index and scan disagree", name);
		jp2_index_free(ix);
	}
	unlink(path);
	g_free(path);
	return ht;
}

static void test_seeds(void)
{
	const char *ht[] = { "ht-grey.jph", "ht-tiled.j2c" };
	const char *classic[] = { "grey.j2k", "tiled.jp2", "tileparts.jp2", "single.jp2" };
	for (size_t i = 0; i < 2; i++) {
		gsize len = 0;
		guchar *d = seed(ht[i], &len);
		CHECK(d && scan(ht[i], d, len), "%s: HT", ht[i]);
		g_free(d);
	}
	for (size_t i = 0; i < 4; i++) {
		gsize len = 0;
		guchar *d = seed(classic[i], &len);
		CHECK(d && !scan(classic[i], d, len), "%s: classic", classic[i]);
		g_free(d);
	}
}

/* OpenJPEG picks its HT block decoder by the code-block style bit, not by CAP. */
static void test_style_without_cap(void)
{
	gsize len = 0;
	guchar *d = seed("ht-tiled.j2c", &len);
	long cap = d ? find_marker(d, len, 2, 0xff50) : -1;
	CHECK(cap > 0, "a CAP marker in ht-tiled.j2c");
	if (cap > 0) {
		d[cap + 1] = 0x64; /* CAP -> COM, same length */
		CHECK(scan("nocap.j2c", d, len), "HT style without CAP");
	}
	g_free(d);
	d = seed("tiled.jp2", &len);
	long cod = d ? find_marker(d, len, find_marker(d, len, 0, 0xff4f), 0xff52) : -1;
	CHECK(cod > 0, "a COD in tiled.jp2");
	if (cod > 0) {
		CHECK(!scan("classic.jp2", d, len), "classic before");
		/* after marker and length: Scod, SGcod (4), levels, xcb, ycb, then the style */
		d[cod + 2 + 10] |= 0x40;
		CHECK(scan("htstyle.jp2", d, len), "HT style in the main COD");
	}
	g_free(d);
}

/* A damaged tile-part chain: the scan still answers from what it could read. */
static void test_damaged(void)
{
	gsize len = 0;
	guchar *d = seed("ht-tiled.j2c", &len);
	long sot = d ? find_marker(d, len, 2, 0xff90) : -1;
	if (sot > 0) {
		memset(d + sot + 6, 0xff, 4); /* Psot past the end */
		CHECK(scan("damaged.j2c", d, len), "HT, damaged after the main header");
	}
	CHECK(!jp2_index_scan_ht("/nonexistent/x.jp2", NULL), "a missing file");
	g_free(d);
}

int main(void)
{
	if (!mkdtemp(test_dir))
		return 1;
	UNIT_RUN(test_seeds);
	UNIT_RUN(test_style_without_cap);
	UNIT_RUN(test_damaged);
	rmdir(test_dir);
	return unit_report("jp2_ht_scan");
}
