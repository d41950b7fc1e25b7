/*
 * htj2k_write.c: the JPH file around OpenJPH's codestream (see htj2k_write.h). The image is
 * streamed through vips_sink_disc (rows in order, decoded by libvips' worker threads) into the
 * encoder; TLM segments are added to the codestream (j2k_tlm.h: OpenJPH writes none), and the
 * codestream box is written with a 64-bit length patched in at the end.
 */
#include "image/htj2k_write.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "image/htj2k_encode.h"
#include "image/j2k_tlm.h"
#include "image/pyramid.h"

float htj2k_quality_step(int quality)
{
	quality = quality < 1 ? 1 : quality > 100 ? 100 : quality;
	return (float)(exp2((100 - quality) / 12.5) / 1024.0);
}

int htj2k_decompositions(int64_t width, int64_t height, int tile)
{
	int64_t side = width > height ? width : height;
	int levels = 0, most = 0;
	while (((int64_t)tile >> (most + 1)) > 0 && most < 32)
		most++;
	while ((side >> levels) > tile && levels < most)
		levels++;
	return levels < 1 && most >= 1 ? 1 : levels;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_box_header(uint8_t *p, uint32_t length, const char type[4])
{
	put_be32(p, length);
	memcpy(p + 4, type, 4);
}

/*
 * Signature, file type and JP2 header boxes, then the codestream box's header with a 64-bit
 * length of 0 for now (XLBox, patched by jph_finish_boxes). Returns the offset of that header.
 */
static long jph_start_boxes(FILE *f, uint32_t width, uint32_t height, int bands)
{
	uint8_t b[12 + 20 + 45 + 16], *p = b;
	static const uint8_t signature[12] = { 0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10 };
	memcpy(p, signature, 12), p += 12;
	put_box_header(p, 20, "ftyp"), p += 8;
	memcpy(p, "jph ", 4), put_be32(p + 4, 0), memcpy(p + 8, "jph ", 4), p += 12;
	put_box_header(p, 8 + 22 + 15, "jp2h"), p += 8;
	put_box_header(p, 22, "ihdr"), p += 8;
	put_be32(p, height), put_be32(p + 4, width);
	p[8] = 0, p[9] = (uint8_t)bands, p[10] = 7; /* NC, BPC: 8-bit unsigned */
	p[11] = 7, p[12] = 0, p[13] = 0, p += 14;   /* C: JPEG 2000, UnkC, IPR */
	put_box_header(p, 15, "colr"), p += 8;
	p[0] = 1, p[1] = 0, p[2] = 0; /* METH enumerated, PREC, APPROX */
	put_be32(p + 3, bands == 1 ? 17 : 16), p += 7; /* greyscale or sRGB */
	long codestream_box = (long)(p - b);
	put_box_header(p, 1, "jp2c"), put_be32(p + 8, 0), put_be32(p + 12, 0), p += 16;
	return fwrite(b, 1, (size_t)(p - b), f) == (size_t)(p - b) ? codestream_box : -1;
}

static int jph_finish_boxes(FILE *f, long codestream_box)
{
	off_t end = ftello(f);
	uint64_t length = (uint64_t)(end - codestream_box);
	uint8_t xl[8];
	put_be32(xl, (uint32_t)(length >> 32));
	put_be32(xl + 4, (uint32_t)length);
	if (end < 0 || fseeko(f, codestream_box + 8, SEEK_SET) < 0 || fwrite(xl, 1, 8, f) != 8)
		return -1;
	return fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
}

struct jph_sink {
	struct htj2k_encoder *encoder;
	char error[300];
};

static int jph_sink_rows(VipsRegion *region, VipsRect *area, void *user)
{
	struct jph_sink *s = user;
	for (int y = area->top; y < area->top + area->height; y++)
		if (htj2k_encoder_push_row(s->encoder, VIPS_REGION_ADDR(region, area->left, y),
					   s->error, sizeof s->error) < 0)
			return -1;
	return 0;
}

static int jph_encode(VipsImage *img, FILE *f, int tile, int quality, char *error, size_t len)
{
	struct htj2k_encode_params params = {
		.width = (uint32_t)img->Xsize,
		.height = (uint32_t)img->Ysize,
		.bands = img->Bands,
		.tile = (uint32_t)tile,
		.decompositions = htj2k_decompositions(img->Xsize, img->Ysize, tile),
		.quant_step = htj2k_quality_step(quality),
	};
	struct jph_sink sink = { .encoder = htj2k_encoder_new(&params, f, error, len) };
	if (!sink.encoder)
		return -1;
	int rc = vips_sink_disc(img, jph_sink_rows, &sink);
	if (rc == 0)
		rc = htj2k_encoder_finish(sink.encoder, error, len);
	else if (sink.error[0])
		snprintf(error, len, "%s", sink.error);
	htj2k_encoder_free(sink.encoder);
	return rc;
}

int image_htj2k_write(const struct image_source *src, const char *path, int tile, int quality,
		      struct iiifd_error *err)
{
	VipsImage *img = image_pyramid_load_srgb(src);
	if (!img)
		return image_pyramid_vips_error(err, "cannot decode", src->path);
	char error[300] = "";
	int rc = -1;
	FILE *f = fopen(path, "w+b"); /* read back by j2k_insert_tlm */
	if (!f) {
		snprintf(error, sizeof error, "cannot write %s: %s", path, strerror(errno));
	} else {
		long box = jph_start_boxes(f, (uint32_t)img->Xsize, (uint32_t)img->Ysize, img->Bands);
		bool written = box >= 0;
		rc = written ? jph_encode(img, f, tile, quality, error, sizeof error) : -1;
		if (rc == 0 && j2k_insert_tlm(f, box + 16, error, sizeof error) < 0)
			rc = -1;
		if (rc == 0 && jph_finish_boxes(f, box) < 0)
			rc = -1, written = false;
		if (fclose(f) != 0)
			rc = -1, written = false;
		if (!written)
			snprintf(error, sizeof error, "cannot write %s: %s", path, strerror(errno));
	}
	g_object_unref(img);
	if (rc < 0 && !error[0])
		return image_pyramid_vips_error(err, "cannot decode", src->path);
	vips_error_clear();
	return rc < 0 ? iiifd_error_set(err, 500, "%s: %s", src->path, error) : 0;
}
