/*
 * jpeg_codec.c: libjpeg's error manager long-jumps back to the function that set it up, so every
 * libjpeg call sits between one setjmp and one cleanup; a warning (corrupt data that libjpeg
 * would paper over with grey) counts as an error, as a damaged tile must not be served.
 */
#include "image/jpeg_codec.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

struct codec_error {
	struct jpeg_error_mgr mgr; /* first: libjpeg hands us a pointer to it */
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
};

static void codec_error_exit(j_common_ptr c)
{
	struct codec_error *e = (struct codec_error *)c->err;
	e->mgr.format_message(c, e->msg);
	longjmp(e->jump, 1);
}

/* Warnings (level -1) mean corrupt data: stop. Trace messages (level >= 0) are ignored. */
static void codec_emit_message(j_common_ptr c, int level)
{
	if (level < 0)
		codec_error_exit(c);
}

static void codec_error_init(struct codec_error *e, j_common_ptr c)
{
	c->err = jpeg_std_error(&e->mgr);
	e->mgr.error_exit = codec_error_exit;
	e->mgr.emit_message = codec_emit_message;
	e->msg[0] = '\0';
}

/* Reads the tables-only stream, so the tile's own stream may omit them. */
static void codec_read_tables(struct jpeg_decompress_struct *d, const uint8_t *tables,
			      size_t tables_len)
{
	jpeg_mem_src(d, tables, (unsigned long)tables_len);
	jpeg_read_header(d, FALSE);
}

/* Checks the frame and sets up output at 1/denom; 0 on success, -1 when refused. */
static int codec_start(struct jpeg_decompress_struct *d, int denom, int width_max,
		       int height_max)
{
	if (d->image_width == 0 || d->image_height == 0 || (int)d->image_width > width_max ||
	    (int)d->image_height > height_max)
		return -1;
	if (d->jpeg_color_space == JCS_GRAYSCALE)
		d->out_color_space = JCS_GRAYSCALE;
	else if (d->jpeg_color_space == JCS_YCbCr || d->jpeg_color_space == JCS_RGB)
		d->out_color_space = JCS_RGB;
	else
		return -1;
	d->scale_num = 1;
	d->scale_denom = (unsigned)denom;
	d->dct_method = JDCT_ISLOW;
	jpeg_start_decompress(d);
	return 0;
}

static void codec_read_rows(struct jpeg_decompress_struct *d, struct tile_cache_tile *t)
{
	while (d->output_scanline < d->output_height) {
		JSAMPROW row = t->pixels + (size_t)d->output_scanline * t->stride;
		jpeg_read_scanlines(d, &row, 1);
	}
	jpeg_finish_decompress(d);
}

/*
 * Rows and columns around part only: columns cropped (libjpeg-turbo rounds them out to whole
 * iMCUs; a margin of one iMCU keeps the upsampling of the edge columns what a full decode
 * gives), rows above skipped, rows below never decoded.
 */
static void codec_read_part(struct jpeg_decompress_struct *d, struct tile_cache_tile *t,
			    const int part[4])
{
	int margin = d->max_h_samp_factor * DCTSIZE;
	JDIMENSION x0 = (JDIMENSION)(part[0] > margin ? part[0] - margin : 0);
	JDIMENSION x1 = (JDIMENSION)(part[2] + margin < t->width ? part[2] + margin : t->width);
	JDIMENSION width = x1 - x0;
	jpeg_crop_scanline(d, &x0, &width);
	JDIMENSION y1 = (JDIMENSION)(part[3] < t->height ? part[3] : t->height);
	jpeg_skip_scanlines(d, (JDIMENSION)part[1]);
	while (d->output_scanline < y1) {
		JSAMPROW row = t->pixels + (size_t)d->output_scanline * t->stride +
			       (size_t)x0 * (size_t)t->bands;
		jpeg_read_scanlines(d, &row, 1);
	}
	jpeg_abort_decompress(d);
}

static int codec_decode(const uint8_t *tables, size_t tables_len, const uint8_t *data,
			size_t len, int denom, int width_max, int height_max, const int *part,
			struct tile_cache_tile **out, struct iiifd_error *err)
{
	struct jpeg_decompress_struct d;
	struct codec_error e;
	/* volatile: changed after setjmp and read after a longjmp back to it */
	struct tile_cache_tile *volatile t = NULL;
	*out = NULL;
	if (denom != 1 && denom != 2 && denom != 4 && denom != 8)
		return iiifd_error_set(err, 500, "bad JPEG scale 1/%d", denom);
	codec_error_init(&e, (j_common_ptr)&d);
	jpeg_create_decompress(&d);
	if (setjmp(e.jump)) {
		jpeg_destroy_decompress(&d);
		tile_cache_tile_free(t);
		return iiifd_error_set(err, 500, "corrupt JPEG tile: %s", e.msg);
	}
	if (tables && tables_len)
		codec_read_tables(&d, tables, tables_len);
	jpeg_mem_src(&d, data, (unsigned long)len);
	jpeg_read_header(&d, TRUE);
	if (codec_start(&d, denom, width_max, height_max) < 0) {
		jpeg_destroy_decompress(&d);
		return iiifd_error_set(err, 500, "unexpected JPEG tile frame or colour space");
	}
	t = tile_cache_tile_new((int)d.output_width, (int)d.output_height, d.output_components);
	if (!t) {
		jpeg_destroy_decompress(&d);
		return iiifd_error_set(err, 500, "out of memory");
	}
	if (part)
		codec_read_part(&d, t, part);
	else
		codec_read_rows(&d, t);
	jpeg_destroy_decompress(&d);
	*out = t;
	return 0;
}

int jpeg_codec_decode_tile(const uint8_t *tables, size_t tables_len, const uint8_t *data,
			   size_t len, int denom, int width_max, int height_max,
			   struct tile_cache_tile **out, struct iiifd_error *err)
{
	return codec_decode(tables, tables_len, data, len, denom, width_max, height_max, NULL,
			    out, err);
}

int jpeg_codec_decode_tile_part(const uint8_t *tables, size_t tables_len, const uint8_t *data,
				size_t len, int denom, int width_max, int height_max,
				const int part[4], struct tile_cache_tile **out,
				struct iiifd_error *err)
{
	if (part[0] < 0 || part[1] < 0 || part[2] <= part[0] || part[3] <= part[1])
		return iiifd_error_set(err, 500, "bad part of a JPEG tile");
	return codec_decode(tables, tables_len, data, len, denom, width_max, height_max, part,
			    out, err);
}

int jpeg_codec_encode(const uint8_t *pixels, int width, int height, int bands, size_t stride,
		      int quality, void **out, size_t *len, struct iiifd_error *err)
{
	struct jpeg_compress_struct c;
	struct codec_error e;
	/* libjpeg updates these through their addresses, so they live in memory across longjmp */
	unsigned char *mem = NULL, *first = NULL;
	unsigned long size = 0;
	*out = NULL;
	*len = 0;
	if (bands != 1 && bands != 3)
		return iiifd_error_set(err, 500, "cannot encode %d bands as JPEG", bands);
	codec_error_init(&e, (j_common_ptr)&c);
	jpeg_create_compress(&c);
	if (setjmp(e.jump)) {
		jpeg_destroy_compress(&c);
		if (mem != first)
			free(mem);
		free(first);
		return iiifd_error_set(err, 500, "JPEG encoding failed: %s", e.msg);
	}
	/*
	 * Room for half a byte per sample from the start (only the pages written are ever touched),
	 * not libjpeg's 4 KiB doubled and copied over and over; it still grows if that is not enough.
	 */
	size = (unsigned long)width * (unsigned long)height * (unsigned long)bands / 2 + 4096;
	first = mem = malloc(size);
	if (!mem)
		size = 0; /* libjpeg allocates its own */
	jpeg_mem_dest(&c, &mem, &size);
	c.image_width = (JDIMENSION)width;
	c.image_height = (JDIMENSION)height;
	c.input_components = bands;
	c.in_color_space = bands == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	c.dct_method = JDCT_ISLOW;
	if (bands == 3 && quality >= 90) /* defaults are 2x2 luma sampling, i.e. 4:2:0 */
		c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(pixels + (size_t)c.next_scanline * stride);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	if (mem != first) /* libjpeg outgrew the first buffer: that one is still ours */
		free(first);
	*out = mem;
	*len = size;
	return 0;
}
