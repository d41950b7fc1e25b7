/*
 * convert.c: streams one source image through libvips (decode, orient, sRGB, flatten) into a
 * pyramidal tiled JPEG TIFF, written beside OUT under a temporary name and renamed into place.
 */
#include "tools/convert.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/config.h"
#include "core/error.h"
#include "core/path.h"
#include "image/source.h"
#include "tools/cli.h"

/*
 * Classic TIFF stores 32-bit offsets, so a file must stay under 4 GiB, and the compressed size is
 * only known at the end. We bound it by the uncompressed pyramid (4/3 of the full level): JPEG is
 * usually a tenth of that, but uniform noise at quality 100 measured 1.47 times it. Switching to
 * BigTIFF when the uncompressed pyramid passes 2 GiB keeps even that case under 4 GiB, and leaves
 * ordinary files classic TIFF, which every reader understands.
 */
#define CONVERT_CLASSIC_MAX_BYTES (INT64_C(2) << 30)

struct convert_options {
	const char *in, *out;
	int tile, quality;
};

/* The temporary file being written, removed if a signal stops us (see convert_on_signal). */
static char convert_tmp_path[PATH_MAX];

/*
 * Defaults are the server's tile-size and jpeg-quality, so stored tiles that the server passes
 * through unchanged look like the ones it renders (below quality 90 libjpeg also halves the
 * chroma, which roughly halves the file).
 */
static void convert_defaults(int *tile, int *quality)
{
	struct iiifd_config cfg;
	iiifd_config_init(&cfg);
	*tile = cfg.tile_size;
	*quality = cfg.jpeg_quality;
	iiifd_config_release(&cfg);
}

static void convert_usage(FILE *out)
{
	int tile, quality;
	convert_defaults(&tile, &quality);
	fprintf(out,
		"usage: iiifd convert IN OUT.tif [--tile 256|512] [--quality Q]\n"
		"  Writes IN (any image iiifd can serve) as a pyramidal, tiled, JPEG-compressed TIFF\n"
		"  (BigTIFF when it could pass 4 GB), the format iiifd serves fastest.\n"
		"  --tile 256|512   tile edge in pixels (default %d)\n"
		"  --quality Q      JPEG quality 1-100 (default %d)\n",
		tile, quality);
}

int tools_convert_needs_bigtiff(int64_t width, int64_t height, int bands)
{
	/* sides are at most VIPS_MAX_COORD (10^7), so the product cannot overflow */
	int64_t raw = width * height * bands;
	return raw / 3 * 4 > CONVERT_CLASSIC_MAX_BYTES;
}

static int convert_parse(int argc, char **argv, struct convert_options *o,
			 struct iiifd_error *err)
{
	const char *tile = NULL, *quality = NULL, *pos[2];
	const struct tools_cli_flag flags[] = { { "tile", &tile }, { "quality", &quality },
						{ NULL, NULL } };
	int rc = tools_cli_parse(argc, argv, flags, pos, 2, err);
	if (rc != 0)
		return rc;
	o->in = pos[0];
	o->out = pos[1];
	convert_defaults(&o->tile, &o->quality);
	if (tile && (tools_cli_int("tile", tile, 0, INT_MAX, &o->tile, err) < 0 ||
		     (o->tile != 256 && o->tile != 512)))
		return iiifd_error_set(err, 400, "--tile: '%s' is not 256 or 512", tile);
	if (quality && tools_cli_int("quality", quality, 1, 100, &o->quality, err) < 0)
		return -1;
	char ext[16];
	path_extension(o->out, ext, sizeof ext);
	if (strcmp(ext, "tif") != 0 && strcmp(ext, "tiff") != 0 && strcmp(ext, "ptif") != 0)
		return iiifd_error_set(err, 400, "%s: the output name must end in .tif, .tiff or .ptif",
				       o->out);
	return 0;
}

/* Copies libvips' error text into err right away, its lines joined by "; ". */
static int convert_vips_error(struct iiifd_error *err, const char *what, const char *file)
{
	char reason[200];
	size_t n = 0;
	for (const char *p = vips_error_buffer(); *p && n + 3 < sizeof reason; p++) {
		if (*p != '\n')
			reason[n++] = *p;
		else if (p[1])
			reason[n++] = ';', reason[n++] = ' ';
	}
	reason[n] = '\0';
	vips_error_clear();
	return iiifd_error_set(err, 500, "%s: %s: %s", file, what, n ? reason : "unknown error");
}

/* Makes out the current image, dropping our reference to the previous one (out keeps its own). */
static void convert_replace(VipsImage **img, VipsImage *out)
{
	g_object_unref(*img);
	*img = out;
}

/* Applies an embedded ICC profile; a broken one is reported and the plain conversion used. */
static void convert_icc(VipsImage **img, const char *path)
{
	VipsImage *out;
	if (!vips_image_get_typeof(*img, VIPS_META_ICC_NAME))
		return;
	if (vips_icc_transform(*img, &out, "srgb", "embedded", TRUE, "depth", 8, NULL) == 0) {
		convert_replace(img, out);
		return;
	}
	fprintf(stderr, "iiifd convert: %s: ignoring its unusable ICC profile\n", path);
	vips_error_clear();
}

/*
 * 8-bit sRGB (grey stays 8-bit grey), alpha flattened onto white since JPEG has none, and no ICC
 * profile left: the pixels are sRGB now, and untagged tiles are the ones the server can pass
 * through without decoding.
 */
static int convert_to_srgb(VipsImage **img, const char *path)
{
	VipsImage *out;
	convert_icc(img, path);
	VipsInterpretation in = vips_image_guess_interpretation(*img);
	int grey = in == VIPS_INTERPRETATION_B_W || in == VIPS_INTERPRETATION_GREY16;
	VipsInterpretation want = grey ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
	if (in != want || (*img)->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_colourspace(*img, &out, want, NULL))
			return -1;
		convert_replace(img, out);
	}
	if ((*img)->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(*img, &out, NULL))
			return -1;
		convert_replace(img, out);
	}
	if (vips_image_hasalpha(*img)) {
		VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
		int rc = vips_flatten(*img, &out, "background", white, NULL);
		vips_area_unref(VIPS_AREA(white));
		if (rc)
			return -1;
		convert_replace(img, out);
	}
	if (vips_copy(*img, &out, NULL))
		return -1;
	vips_image_remove(out, VIPS_META_ICC_NAME);
	convert_replace(img, out);
	return 0;
}

/*
 * Opens the first page. Sequential access streams the file once, top to bottom; an EXIF
 * rotation reads columns, which needs random access (libvips decodes to memory or a temp file).
 */
static VipsImage *convert_load(const struct image_source *src)
{
	VipsAccess access = src->orientation > 1 ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL;
	VipsImage *img = vips_image_new_from_file(src->path, "access", access, "fail_on",
						  VIPS_FAIL_ON_ERROR, NULL);
	VipsImage *out;
	if (img && src->orientation > 1) {
		if (vips_autorot(img, &out, NULL)) {
			g_object_unref(img);
			return NULL;
		}
		convert_replace(&img, out);
	}
	return img;
}

static int convert_save(VipsImage *img, const char *path, const struct convert_options *o,
			int bigtiff)
{
	return vips_tiffsave(img, path, "tile", TRUE, "tile_width", o->tile, "tile_height", o->tile,
			     "pyramid", TRUE, "compression", VIPS_FOREIGN_TIFF_COMPRESSION_JPEG,
			     "Q", o->quality, "bigtiff", bigtiff, NULL);
}

/*
 * libvips before 8.14.2 (Debian 12 ships 8.14.1) crashes when a pyramid save fails half way: it
 * closes the pyramid's TIFF files after freeing their targets (libvips issue 3411). A damaged
 * source is the usual cause, so on those versions the whole file is decoded once beforehand,
 * streaming and discarding the pixels, and a decode error is reported without saving.
 */
static int convert_precheck(const struct image_source *src)
{
	int major = vips_version(0), minor = vips_version(1), micro = vips_version(2);
	if (major > 8 || (major == 8 && (minor > 14 || (minor == 14 && micro >= 2))))
		return 0;
	VipsImage *img = vips_image_new_from_file(src->path, "access", VIPS_ACCESS_SEQUENTIAL,
						  "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	double avg;
	int rc = img ? vips_avg(img, &avg, NULL) : -1;
	if (img)
		g_object_unref(img);
	return rc;
}

static void convert_on_signal(int sig)
{
	unlink(convert_tmp_path); /* async-signal-safe, as are signal() and raise() */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Creates the empty temporary file now, so an unwritable folder fails before any decoding. */
static int convert_tmp_create(const char *out, struct iiifd_error *err)
{
	int n = snprintf(convert_tmp_path, sizeof convert_tmp_path, "%s.tmp-%ld", out,
			 (long)getpid());
	if (n < 0 || (size_t)n >= sizeof convert_tmp_path)
		return iiifd_error_set(err, 400, "%s: name too long", out);
	FILE *f = fopen(convert_tmp_path, "wb");
	if (!f)
		return iiifd_error_set(err, 500, "%s: cannot create %s: %s", out, convert_tmp_path,
				       strerror(errno));
	fclose(f);
	signal(SIGINT, convert_on_signal);
	signal(SIGTERM, convert_on_signal);
	signal(SIGHUP, convert_on_signal);
	return 0;
}

static int convert_write(const struct convert_options *o, const struct image_source *src,
			 struct iiifd_error *err)
{
	if (convert_precheck(src) < 0)
		return convert_vips_error(err, "cannot decode", o->in);
	VipsImage *img = convert_load(src);
	if (!img || convert_to_srgb(&img, o->in) < 0) {
		if (img)
			g_object_unref(img);
		return convert_vips_error(err, "cannot decode", o->in);
	}
	int bigtiff = tools_convert_needs_bigtiff(img->Xsize, img->Ysize, img->Bands);
	int rc = convert_save(img, convert_tmp_path, o, bigtiff);
	g_object_unref(img);
	if (rc)
		return convert_vips_error(err, "conversion failed", o->in);
	if (rename(convert_tmp_path, o->out) < 0)
		return iiifd_error_set(err, 500, "%s: cannot rename %s to it: %s", o->out,
				       convert_tmp_path, strerror(errno));
	printf("iiifd convert: wrote %s (%lldx%lld, %dx%d JPEG tiles at quality %d, %s pyramid)\n",
	       o->out, (long long)src->width, (long long)src->height, o->tile, o->tile, o->quality,
	       bigtiff ? "BigTIFF" : "TIFF");
	return 0;
}

static int convert_run(const struct convert_options *o, struct iiifd_error *err)
{
	struct image_source src;
	if (tools_cli_open_source(o->in, &src, err) < 0)
		return -1;
	int rc = convert_tmp_create(o->out, err);
	if (rc == 0) {
		rc = convert_write(o, &src, err);
		if (rc < 0)
			unlink(convert_tmp_path);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	}
	image_source_release(&src);
	return rc;
}

int tools_convert_main(int argc, char **argv)
{
	struct convert_options o;
	struct iiifd_error err = { 0 };
	int rc = convert_parse(argc, argv, &o, &err);
	if (rc == 1) {
		convert_usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "iiifd convert: %s\n(see iiifd convert --help)\n", err.msg);
		return 2;
	}
	if (tools_cli_vips_start("convert") < 0)
		return 1;
	rc = convert_run(&o, &err);
	if (rc < 0)
		fprintf(stderr, "iiifd convert: %s\n", err.msg);
	tools_cli_vips_stop();
	return rc < 0 ? 1 : 0;
}
