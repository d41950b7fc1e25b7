/*
 * jp2_image.c: a whole JPEG 2000 / HTJ2K image as a libvips image whose pixels are decoded on
 * demand, a region at a time, by jp2_decode() (see jp2_image_new() in jp2.h). Split from jp2.c.
 */
#include "image/jp2_internal.h"

#include <glib.h>
#include <string.h>
#include <vips/vips.h>

/* ---- the whole image, decoded on demand ----------------------------------------------------- */

struct lazy_image {
	const struct jp2_index *ix; /* borrowed */
	char *path;                 /* owned */
};

static int lazy_generate(VipsRegion *out, void *seq, void *a, void *b, gboolean *stop)
{
	(void)seq;
	(void)b;
	(void)stop;
	const struct lazy_image *lazy = a;
	const VipsRect *r = &out->valid;
	struct jp2_rect area = { r->left, r->top, r->left + r->width, r->top + r->height };
	VipsImage *decoded = NULL;
	if (jp2_decode(lazy->ix, lazy->path, 0, &area, 0, &decoded) != JP2_DECODED)
		return -1;
	size_t line = VIPS_IMAGE_SIZEOF_LINE(decoded);
	for (int y = 0; y < r->height; y++)
		memcpy(VIPS_REGION_ADDR(out, r->left, r->top + y), VIPS_IMAGE_ADDR(decoded, 0, y),
		       line);
	g_object_unref(decoded);
	return 0;
}

static void lazy_free(VipsImage *image, void *user)
{
	(void)image;
	struct lazy_image *lazy = user;
	g_free(lazy->path);
	g_free(lazy);
}

VipsImage *jp2_image_new(const struct jp2_index *ix, const char *path)
{
	const struct jp2_layout *l = &ix->layout;
	bool single = jp2_layout_single_tile(l);
	int tw = single ? 1024 : (int)(l->tile_width < 4096 ? l->tile_width : 4096);
	int th = single ? 1024 : (int)(l->tile_height < 4096 ? l->tile_height : 4096);
	bool wide = l->precision > 8;
	VipsImage *image = vips_image_new(), *cached = NULL;
	vips_image_init_fields(image, (int)l->width, (int)l->height, l->bands,
			       wide ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR, VIPS_CODING_NONE,
			       l->bands == 1 ? (wide ? VIPS_INTERPRETATION_GREY16
						     : VIPS_INTERPRETATION_B_W)
					     : (wide ? VIPS_INTERPRETATION_RGB16
						     : VIPS_INTERPRETATION_sRGB),
			       1.0, 1.0);
	struct lazy_image *lazy = g_new0(struct lazy_image, 1);
	lazy->ix = ix;
	lazy->path = g_strdup(path);
	g_signal_connect(image, "close", G_CALLBACK(lazy_free), lazy);
	if (ix->icc)
		vips_image_set_blob_copy(image, VIPS_META_ICC_NAME, ix->icc, ix->icc_len);
	int across = ((int)l->width + tw - 1) / tw;
	if (vips_image_pipelinev(image, VIPS_DEMAND_STYLE_SMALLTILE, NULL) ||
	    vips_image_generate(image, NULL, lazy_generate, NULL, lazy, NULL) ||
	    vips_tilecache(image, &cached, "tile_width", tw, "tile_height", th, "max_tiles",
			   2 * across + 2, NULL))
		cached = NULL;
	g_object_unref(image);
	return cached;
}
