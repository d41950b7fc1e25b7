/*
 * test_remote_file.c: decoders reading objects of S3-compatible storage (src/storage/
 * remote_file.c) against s3rver (s3rver.h). A pyramidal tiled JPEG TIFF made here with libvips
 * is stored, then read through libtiff and libvips: the same bytes and pixels as from the local
 * file, and a tile costs the ranged GETs of its own bytes once the directories are read.
 */
#include "s3rver.h"
#include "storage/remote_file.h"
#include "unit.h"

static char local_tiff[128];

/* A 2000x1500 picture with detail everywhere, as a tiled pyramidal JPEG TIFF. */
static int make_tiff(void)
{
	snprintf(local_tiff, sizeof local_tiff, "%s/local.tif", workdir);
	VipsImage *noise, *rgb;
	if (vips_gaussnoise(&noise, 2000, 1500, "mean", 128.0, "sigma", 40.0, NULL))
		return -1;
	VipsImage *bands[3] = {noise, noise, noise};
	int rc = vips_bandjoin(bands, &rgb, 3, NULL);
	g_object_unref(noise);
	if (rc)
		return -1;
	VipsImage *u8;
	rc = vips_cast_uchar(rgb, &u8, NULL);
	g_object_unref(rgb);
	if (!rc)
		rc = vips_tiffsave(u8, local_tiff, "tile", TRUE, "pyramid", TRUE, "compression",
				   VIPS_FOREIGN_TIFF_COMPRESSION_JPEG, "Q", 85, "tile_width", 256,
				   "tile_height", 256, NULL);
	g_object_unref(u8);
	if (rc)
		return -1;
	gchar *data;
	gsize len;
	if (!g_file_get_contents(local_tiff, &data, &len, NULL))
		return -1;
	rc = put("maps/big.tif", data, len) | put("maps/not.tif", "this is no TIFF", 15);
	g_free(data);
	return rc;
}

static struct remote_store *store_open(void)
{
	struct s3_config c = config();
	struct remote_store *s = NULL;
	struct iiifd_error err = {0};
	CHECK(remote_store_open(&c, 0, 0, &s, &err) == 0, "%s", err.msg);
	return s;
}

/* The raw bytes of tile t of directory dir, read with libtiff from t. */
static GBytes *raw_tile(TIFF *t, int dir, uint32_t tile)
{
	if (!TIFFSetDirectory(t, (tdir_t)dir))
		return NULL;
	uint64_t *sizes = NULL;
	if (!TIFFGetField(t, TIFFTAG_TILEBYTECOUNTS, &sizes) || tile >= TIFFNumberOfTiles(t))
		return NULL;
	void *buf = g_malloc(sizes[tile]);
	tmsize_t n = TIFFReadRawTile(t, tile, buf, (tmsize_t)sizes[tile]);
	return n > 0 ? g_bytes_new_take(buf, (gsize)n) : (g_free(buf), NULL);
}

static void test_tiff_tiles(void)
{
	struct remote_store *s = store_open();
	struct remote_file *f;
	struct iiifd_error err = {0};
	CHECK(remote_file_open(s, "maps/big.tif", &f, &err) == 0, "open: %s", err.msg);
	TIFF *remote = remote_file_tiff(f, &err);
	TIFF *local = TIFFOpen(local_tiff, "r");
	CHECK(remote && local, "TIFF opened: %s", err.msg);
	if (!remote || !local)
		return;
	CHECK_INT(TIFFNumberOfDirectories(remote), TIFFNumberOfDirectories(local), "levels");
	/* every level's first and last tile: the stored bytes, not a re-encoding */
	for (int dir = 0; dir < (int)TIFFNumberOfDirectories(local); dir++) {
		TIFFSetDirectory(local, (tdir_t)dir);
		uint32_t last = TIFFNumberOfTiles(local) - 1, tiles[2] = {0, last};
		for (int i = 0; i < 2; i++) {
			GBytes *a = raw_tile(remote, dir, tiles[i]), *b = raw_tile(local, dir, tiles[i]);
			CHECK(a && b && g_bytes_equal(a, b), "level %d tile %u: same bytes", dir,
			      tiles[i]);
			if (a)
				g_bytes_unref(a);
			if (b)
				g_bytes_unref(b);
		}
	}
	/* the directories are read: one more tile in the middle costs at most two GETs */
	uint64_t before = remote_store_counters(s).requests;
	GBytes *mid = raw_tile(remote, 0, 40);
	CHECK(mid != NULL, "a middle tile");
	uint64_t cost = remote_store_counters(s).requests - before;
	CHECK(cost <= 2, "a tile cost %llu ranged GETs", (unsigned long long)cost);
	struct remote_counters c = remote_store_counters(s);
	CHECK(c.bytes < (uint64_t)remote_file_stat(f)->size,
	      "less than the whole file was fetched (%llu of %lld bytes)",
	      (unsigned long long)c.bytes, (long long)remote_file_stat(f)->size);
	if (mid)
		g_bytes_unref(mid);
	TIFFClose(remote); /* closes f */
	TIFFClose(local);
	remote_store_close(s);
}

static void test_vips_pixels(void)
{
	struct remote_store *s = store_open();
	struct remote_file *f;
	struct iiifd_error err = {0};
	CHECK(remote_file_open(s, "maps/big.tif", &f, &err) == 0, "open: %s", err.msg);
	VipsSource *source = remote_file_vips_source(f);
	VipsImage *remote = vips_image_new_from_source(source, "", "page", 1, NULL);
	VipsImage *local = vips_image_new_from_file(local_tiff, "page", 1, NULL);
	g_object_unref(source);
	CHECK(remote && local, "both loaded: %s", vips_error_buffer());
	if (remote && local) {
		CHECK(remote->Xsize == local->Xsize && remote->Ysize == local->Ysize,
		      "level 1: %dx%d", remote->Xsize, remote->Ysize);
		VipsImage *a, *b;
		double max = -1;
		if (!vips_crop(remote, &a, 100, 50, 300, 200, NULL)) {
			if (!vips_crop(local, &b, 100, 50, 300, 200, NULL)) {
				VipsImage *d, *ad;
				if (!vips_subtract(a, b, &d, NULL) && !vips_abs(d, &ad, NULL)) {
					vips_max(ad, &max, NULL);
					g_object_unref(ad);
					g_object_unref(d);
				}
				g_object_unref(b);
			}
			g_object_unref(a);
		}
		CHECK(max == 0, "the same pixels as the local file (max difference %g)", max);
	}
	if (remote)
		g_object_unref(remote);
	if (local)
		g_object_unref(local);
	remote_store_close(s);
}

static void test_errors(void)
{
	struct remote_store *s = store_open();
	struct remote_file *f = NULL;
	struct iiifd_error err = {0};
	CHECK(remote_file_open(s, "maps/none.tif", &f, &err) == -1 && err.http_status == 404,
	      "missing: 404 (%d %s)", err.http_status, err.msg);
	CHECK(remote_file_open(s, "maps/not.tif", &f, &err) == 0, "open: %s", err.msg);
	TIFFSetErrorHandler(NULL);
	TIFF *t = remote_file_tiff(f, &err);
	CHECK(t == NULL && err.http_status == 415, "not a TIFF: refused (%d %s)", err.http_status,
	      err.msg);
	if (t)
		TIFFClose(t);
	else
		remote_file_close(f);
	remote_store_close(s);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (VIPS_INIT(argv[0]))
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (server_start() || make_tiff()) {
		fprintf(stderr, "remote_file: could not start s3rver or store the fixtures: %s\n",
			vips_error_buffer());
		server_stop();
		return 1;
	}
	UNIT_RUN(test_tiff_tiles);
	UNIT_RUN(test_vips_pixels);
	UNIT_RUN(test_errors);
	server_stop();
	curl_global_cleanup();
	vips_shutdown();
	return unit_report("remote_file");
}
