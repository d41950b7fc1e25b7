/*
 * pyramid.c: streams one source image through libvips (decode, orient, sRGB, flatten) into a
 * pyramidal tiled JPEG TIFF. Used by `iiifd convert` and by the server's background builds.
 */
#include "image/pyramid.h"

#include <vips/vips.h>

#include "core/log.h"
#include "image/jp2.h"

/*
 * Classic TIFF stores 32-bit offsets, so a file must stay under 4 GiB, and the compressed size is
 * only known at the end. We bound it by the uncompressed pyramid (4/3 of the full level): JPEG is
 * usually a tenth of that, but uniform noise at quality 100 measured 1.47 times it. Switching to
 * BigTIFF when the uncompressed pyramid passes 2 GiB keeps even that case under 4 GiB, and leaves
 * ordinary files classic TIFF, which every reader understands.
 */
#define PYRAMID_CLASSIC_MAX_BYTES (INT64_C(2) << 30)

int image_pyramid_needs_bigtiff(int64_t width, int64_t height, int bands)
{
	/* sides are at most VIPS_MAX_COORD (10^7), so the product cannot overflow */
	int64_t raw = width * height * bands;
	return raw / 3 * 4 > PYRAMID_CLASSIC_MAX_BYTES;
}

int image_pyramid_vips_error(struct iiifd_error *err, const char *what, const char *file)
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
static void pyramid_replace(VipsImage **img, VipsImage *out)
{
	g_object_unref(*img);
	*img = out;
}

/* Applies an embedded ICC profile; a broken one is reported and the plain conversion used. */
static void pyramid_icc(VipsImage **img, const char *path)
{
	VipsImage *out;
	if (!vips_image_get_typeof(*img, VIPS_META_ICC_NAME))
		return;
	if (vips_icc_transform(*img, &out, "srgb", "embedded", TRUE, "depth", 8, NULL) == 0) {
		pyramid_replace(img, out);
		return;
	}
	log_warn("%s: ignoring its unusable ICC profile", path);
	vips_error_clear();
}

/*
 * 8-bit sRGB (grey stays 8-bit grey), alpha flattened onto white since JPEG has none, and no ICC
 * profile left: the pixels are sRGB now, and untagged tiles are the ones the server can pass
 * through without decoding.
 */
static int pyramid_to_srgb(VipsImage **img, const char *path)
{
	VipsImage *out;
	pyramid_icc(img, path);
	VipsInterpretation in = vips_image_guess_interpretation(*img);
	int grey = in == VIPS_INTERPRETATION_B_W || in == VIPS_INTERPRETATION_GREY16;
	VipsInterpretation want = grey ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
	if (in != want || (*img)->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_colourspace(*img, &out, want, NULL))
			return -1;
		pyramid_replace(img, out);
	}
	if ((*img)->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(*img, &out, NULL))
			return -1;
		pyramid_replace(img, out);
	}
	if (vips_image_hasalpha(*img)) {
		VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
		int rc = vips_flatten(*img, &out, "background", white, NULL);
		vips_area_unref(VIPS_AREA(white));
		if (rc)
			return -1;
		pyramid_replace(img, out);
	}
	if (vips_copy(*img, &out, NULL))
		return -1;
	vips_image_remove(out, VIPS_META_ICC_NAME);
	pyramid_replace(img, out);
	return 0;
}

/*
 * Opens the first page. Sequential access streams the file once, top to bottom; an EXIF
 * rotation reads columns, which needs random access (libvips decodes to memory or a temp file).
 */
static VipsImage *pyramid_load(const struct image_source *src)
{
	if (src->jp2) /* libvips' loader misreads some JPEG 2000s and ignores their profiles */
		return jp2_image_new(src->jp2, src->path);
	VipsAccess access = src->orientation > 1 ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL;
	VipsImage *img = image_source_load(src, access, -1, true);
	VipsImage *out;
	if (img && src->orientation > 1) {
		if (vips_autorot(img, &out, NULL)) {
			g_object_unref(img);
			return NULL;
		}
		pyramid_replace(&img, out);
	}
	return img;
}

VipsImage *image_pyramid_load_srgb(const struct image_source *src)
{
	VipsImage *img = pyramid_load(src);
	if (img && pyramid_to_srgb(&img, src->path) < 0) {
		g_object_unref(img);
		img = NULL;
	}
	return img;
}

static int pyramid_save(VipsImage *img, const char *path, int tile, int quality, int bigtiff)
{
	return vips_tiffsave(img, path, "tile", TRUE, "tile_width", tile, "tile_height", tile,
			     "pyramid", TRUE, "compression", VIPS_FOREIGN_TIFF_COMPRESSION_JPEG,
			     "Q", quality, "bigtiff", bigtiff, NULL);
}

/*
 * libvips before 8.14.2 (Debian 12 ships 8.14.1) crashes when a pyramid save fails half way: it
 * closes the pyramid's TIFF files after freeing their targets (libvips issue 3411). A damaged
 * source is the usual cause, so on those versions the whole file is decoded once beforehand,
 * streaming and discarding the pixels, and a decode error is reported without saving.
 */
static int pyramid_precheck(const struct image_source *src)
{
	int major = vips_version(0), minor = vips_version(1), micro = vips_version(2);
	if (major > 8 || (major == 8 && (minor > 14 || (minor == 14 && micro >= 2))))
		return 0;
	VipsImage *img = src->jp2 ? jp2_image_new(src->jp2, src->path)
				  : image_source_load(src, VIPS_ACCESS_SEQUENTIAL, -1, true);
	double avg;
	int rc = img ? vips_avg(img, &avg, NULL) : -1;
	if (img)
		g_object_unref(img);
	return rc;
}

int image_pyramid_write(const struct image_source *src, const char *path, int tile,
			int quality, struct iiifd_error *err)
{
	if (pyramid_precheck(src) < 0)
		return image_pyramid_vips_error(err, "cannot decode", src->path);
	VipsImage *img = image_pyramid_load_srgb(src);
	if (!img)
		return image_pyramid_vips_error(err, "cannot decode", src->path);
	int bigtiff = image_pyramid_needs_bigtiff(img->Xsize, img->Ysize, img->Bands);
	int rc = pyramid_save(img, path, tile, quality, bigtiff);
	g_object_unref(img);
	if (rc)
		return image_pyramid_vips_error(err, "conversion failed", src->path);
	return 0;
}
