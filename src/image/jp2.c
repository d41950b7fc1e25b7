/*
 * jp2.c: decoding a region of a tiled JPEG 2000 through a codestream assembled for the request
 * (see jp2.h): the indexed main header with SIZ narrowed to the covered tiles, then each of those
 * tiles' tile-parts with its tile number rewritten, then EOC. OpenJPEG reads it through a stream
 * of segments, some in memory and some preads of the file, and decodes one tile at a time into
 * 32-bit planes that are copied into one interleaved libvips image.
 */
#include "image/jp2_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <malloc.h>
#include <math.h>
#include <openjpeg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

/* ---- geometry ------------------------------------------------------------------------------- */

/* ceil(v / 2^r), the way JPEG 2000 maps grid coordinates onto a reduced resolution */
static int64_t reduced(int64_t v, int r)
{
	return (v + ((int64_t)1 << r) - 1) >> r;
}

void jp2_layout_level_size(const struct jp2_layout *l, int reduce, int64_t *w, int64_t *h)
{
	*w = reduced((int64_t)l->origin_x + l->width, reduce) - reduced(l->origin_x, reduce);
	*h = reduced((int64_t)l->origin_y + l->height, reduce) - reduced(l->origin_y, reduce);
}

/* The span [*lo, *hi) tile `index` of a grid axis covers at reduction r, in level pixels. */
static void tile_span(uint32_t grid0, uint32_t step, uint32_t image0, uint32_t extent,
		      uint32_t index, int r, int64_t *lo, int64_t *hi)
{
	int64_t a = (int64_t)grid0 + (int64_t)index * step, b = a + step;
	int64_t image1 = (int64_t)image0 + extent;
	a = a > image0 ? a : image0;
	b = b < image1 ? b : image1;
	*lo = reduced(a, r) - reduced(image0, r);
	*hi = reduced(b, r) - reduced(image0, r);
}

/* The tiles [*first, *last] of one axis whose pixels at reduction r meet [lo, hi). */
static int tiles_covering(uint32_t grid0, uint32_t step, uint32_t image0, uint32_t extent,
			  uint32_t count, int r, int64_t lo, int64_t hi, uint32_t *first,
			  uint32_t *last)
{
	bool found = false;
	for (uint32_t i = 0; i < count; i++) {
		int64_t a, b;
		tile_span(grid0, step, image0, extent, i, r, &a, &b);
		if (b <= lo || a >= hi || b <= a)
			continue;
		if (!found)
			*first = i;
		*last = i;
		found = true;
	}
	return found ? 0 : -1;
}

void jp2_layout_tile_span(const struct jp2_layout *l, int reduce, uint32_t col, uint32_t row,
			  struct jp2_rect *span)
{
	tile_span(l->tile_origin_x, l->tile_width, l->origin_x, l->width, col, reduce, &span->x0,
		  &span->x1);
	tile_span(l->tile_origin_y, l->tile_height, l->origin_y, l->height, row, reduce, &span->y0,
		  &span->y1);
}

int jp2_layout_tiles_under(const struct jp2_layout *l, int reduce, const struct jp2_rect *area,
			   struct jp2_rect *tiles)
{
	uint32_t c0, c1, r0, r1;
	if (tiles_covering(l->tile_origin_x, l->tile_width, l->origin_x, l->width,
			   l->tiles_across, reduce, area->x0, area->x1, &c0, &c1) < 0 ||
	    tiles_covering(l->tile_origin_y, l->tile_height, l->origin_y, l->height,
			   l->tiles_down, reduce, area->y0, area->y1, &r0, &r1) < 0)
		return -1;
	*tiles = (struct jp2_rect){ c0, r0, (int64_t)c1 + 1, (int64_t)r1 + 1 };
	return 0;
}

/* ---- the assembled codestream --------------------------------------------------------------- */

/* A piece of the assembled codestream: bytes in memory, or a run of the file. */
struct segment {
	uint64_t start;       /* offset in the assembled codestream */
	uint64_t length;
	const uint8_t *bytes; /* NULL: read from the file at file_offset */
	uint64_t file_offset;
};

struct assembled {
	struct storage_file *file; /* the indexed version of the file */
	struct segment *segments;
	size_t count;
	uint64_t length, pos;
	size_t cursor;        /* segment of the last read: reads are mostly sequential */
	uint8_t *header;      /* owned: the narrowed main header */
	uint8_t *sots;        /* owned: rewritten SOT marker segments, 12 bytes each */
};

/* Tiles [c0, c1] x [r0, r1] of the file, as a rectangle of the assembled image. */
struct tile_rect {
	uint32_t c0, c1, r0, r1;
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void add_segment(struct assembled *a, const uint8_t *bytes, uint64_t file_offset,
			uint64_t length)
{
	a->segments[a->count++] = (struct segment){ a->length, length, bytes, file_offset };
	a->length += length;
}

/* The main header with SIZ describing only the tiles in t (same reference grid, so the same
 * coordinates, tile boundaries and wavelet decomposition). */
static uint8_t *narrowed_header(const struct jp2_index *ix, const struct tile_rect *t)
{
	uint8_t *h = malloc(ix->main_header_len);
	if (!h)
		return NULL;
	memcpy(h, ix->main_header, ix->main_header_len);
	const struct jp2_layout *l = &ix->layout;
	uint64_t tx0 = l->tile_origin_x + (uint64_t)t->c0 * l->tile_width;
	uint64_t ty0 = l->tile_origin_y + (uint64_t)t->r0 * l->tile_height;
	uint64_t x1 = l->tile_origin_x + (uint64_t)(t->c1 + 1) * l->tile_width;
	uint64_t y1 = l->tile_origin_y + (uint64_t)(t->r1 + 1) * l->tile_height;
	uint64_t image_x1 = (uint64_t)l->origin_x + l->width, image_y1 = (uint64_t)l->origin_y + l->height;
	uint8_t *siz = h + ix->siz_at; /* marker, Lsiz, Rsiz, then the 32-bit fields */
	put_be32(siz + 6, (uint32_t)(x1 < image_x1 ? x1 : image_x1));
	put_be32(siz + 10, (uint32_t)(y1 < image_y1 ? y1 : image_y1));
	put_be32(siz + 14, (uint32_t)(tx0 > l->origin_x ? tx0 : l->origin_x));
	put_be32(siz + 18, (uint32_t)(ty0 > l->origin_y ? ty0 : l->origin_y));
	put_be32(siz + 30, (uint32_t)tx0);
	put_be32(siz + 34, (uint32_t)ty0);
	return h;
}

static size_t rect_parts(const struct jp2_index *ix, const struct tile_rect *t)
{
	size_t n = 0;
	for (uint32_t r = t->r0; r <= t->r1; r++)
		for (uint32_t c = t->c0; c <= t->c1; c++)
			for (uint32_t p = ix->first_part[r * ix->layout.tiles_across + c];
			     p != JP2_NO_PART; p = ix->parts[p].next)
				n++;
	return n;
}

/* Lays out header, tile-parts (SOT rewritten to the tile's number in t) and EOC. */
static int assemble(struct assembled *a, const struct jp2_index *ix, const struct tile_rect *t)
{
	static const uint8_t eoc[2] = { 0xff, 0xd9 };
	size_t parts = rect_parts(ix, t);
	a->segments = malloc((2 * parts + 2) * sizeof *a->segments);
	a->sots = malloc(parts * 12 + 1);
	a->header = narrowed_header(ix, t);
	if (!a->segments || !a->sots || !a->header)
		return -1;
	add_segment(a, a->header, 0, ix->main_header_len);
	uint32_t across = t->c1 - t->c0 + 1, n = 0;
	for (uint32_t r = t->r0; r <= t->r1; r++) {
		for (uint32_t c = t->c0; c <= t->c1; c++) {
			uint32_t number = (r - t->r0) * across + (c - t->c0);
			for (uint32_t p = ix->first_part[r * ix->layout.tiles_across + c];
			     p != JP2_NO_PART; p = ix->parts[p].next, n++) {
				const struct jp2_tile_part *part = &ix->parts[p];
				uint8_t *sot = a->sots + 12 * n;
				sot[0] = 0xff, sot[1] = 0x90, sot[2] = 0, sot[3] = 10; /* SOT, Lsot */
				sot[4] = (uint8_t)(number >> 8), sot[5] = (uint8_t)number;
				put_be32(sot + 6, part->length); /* a Psot of 0 made explicit */
				sot[10] = part->part, sot[11] = part->parts;
				add_segment(a, sot, 0, 12);
				add_segment(a, NULL, part->offset + 12, part->length - 12);
			}
		}
	}
	add_segment(a, eoc, 0, sizeof eoc);
	return 0;
}

static void assembled_release(struct assembled *a)
{
	free(a->segments);
	free(a->sots);
	free(a->header);
	storage_file_close(a->file);
}

/*
 * Reads the file's parts of the assembled codestream ahead, a run of adjacent tile-parts at a
 * time: for a remote file, one ranged GET per run rather than one per OpenJPEG read.
 */
static int assembled_prefetch(struct assembled *a)
{
	for (size_t i = 0; i < a->count;) {
		if (a->segments[i].bytes) {
			i++;
			continue;
		}
		uint64_t from = a->segments[i].file_offset;
		uint64_t to = from + a->segments[i].length;
		size_t j = i + 1;
		for (; j < a->count; j++) { /* the SOT between two parts comes from memory */
			const struct segment *s = &a->segments[j];
			if (s->bytes && s->length == 12 && s->file_offset == 0)
				continue;
			if (s->bytes || s->file_offset - 12 != to)
				break;
			to = s->file_offset + s->length;
		}
		if (storage_file_prefetch(a->file, (int64_t)from, (size_t)(to - from), NULL) < 0)
			return -1;
		i = j;
	}
	return 0;
}

/* The segment holding offset pos (pos < length). */
static const struct segment *segment_at(struct assembled *a, uint64_t pos)
{
	if (a->cursor >= a->count || pos < a->segments[a->cursor].start)
		a->cursor = 0;
	while (pos >= a->segments[a->cursor].start + a->segments[a->cursor].length)
		a->cursor++;
	return &a->segments[a->cursor];
}

static OPJ_SIZE_T stream_read(void *buffer, OPJ_SIZE_T n, void *user)
{
	struct assembled *a = user;
	uint8_t *out = buffer;
	OPJ_SIZE_T done = 0;
	while (done < n && a->pos < a->length) {
		const struct segment *s = segment_at(a, a->pos);
		uint64_t within = a->pos - s->start, take = s->length - within;
		take = take < n - done ? take : n - done;
		if (s->bytes) {
			memcpy(out + done, s->bytes + within, take);
		} else {
			if (storage_file_pread(a->file, out + done, take,
					       (int64_t)(s->file_offset + within), NULL) < 0)
				break;
		}
		done += take;
		a->pos += take;
	}
	return done ? done : (OPJ_SIZE_T)-1;
}

static OPJ_OFF_T stream_skip(OPJ_OFF_T n, void *user)
{
	struct assembled *a = user;
	a->pos += (uint64_t)n;
	return n;
}

static OPJ_BOOL stream_seek(OPJ_OFF_T to, void *user)
{
	struct assembled *a = user;
	a->pos = (uint64_t)to;
	return OPJ_TRUE;
}

/* ---- decoding ------------------------------------------------------------------------------- */

/* What OpenJPEG holds per tile of a codestream while decoding it (measured on 2.5: an opj_tcp_t
 * of some 5.6 KB, plus coding parameters per component). */
#define JP2_COST_PER_TILE 6144
#define JP2_COST_PER_TILE_COMPONENT 2048

/*
 * OpenJPEG keeps some 12 KB of small allocations per tile of a codestream while decoding it.
 * After a decode of this many tiles the freed blocks are handed back to the system: left in the
 * thread's malloc arena, they would stay resident, once per arena (there is one per busy thread).
 */
#define JP2_TRIM_AFTER_TILES 256

/* Areas of many tiles but few pixels (overviews) are decoded in one OpenJPEG call. */
#define JP2_AT_ONCE_MIN_TILES 64
#define JP2_AT_ONCE_MAX_PIXELS (4 << 20)

struct decoder {
	struct assembled source;
	int threads;     /* OpenJPEG threads for this decode (code-blocks, wavelet rows); 0: none */
	opj_stream_t *stream;
	opj_codec_t *codec;
	opj_image_t *image;
	char error[200]; /* OpenJPEG's last error message */
};

static void on_error(const char *msg, void *user)
{
	struct decoder *d = user;
	snprintf(d->error, sizeof d->error, "%s", msg);
	d->error[strcspn(d->error, "\n")] = '\0';
}

static void on_quiet(const char *msg, void *user)
{
	(void)msg;
	(void)user;
}

static int decoder_start(struct decoder *d, const struct jp2_index *ix, const char *path,
			 const struct tile_rect *t, int reduce)
{
	if (storage_file_open(path, &ix->file, &d->source.file, NULL) < 0 ||
	    assemble(&d->source, ix, t) < 0 || assembled_prefetch(&d->source) < 0) {
		snprintf(d->error, sizeof d->error, "cannot read the file");
		return -1;
	}
	for (uint32_t r = t->r0; r <= t->r1; r++)
		for (uint32_t c = t->c0; c <= t->c1; c++)
			if (!jp2_index_tile_headers_agree(ix, d->source.file,
							  r * ix->layout.tiles_across + c, reduce)) {
				snprintf(d->error, sizeof d->error, "a tile-part header disagrees "
					 "with the main header (HT code-blocks or fewer levels)");
				return -1;
			}
	d->stream = opj_stream_create(64 * 1024, OPJ_TRUE);
	d->codec = opj_create_decompress(OPJ_CODEC_J2K);
	if (!d->stream || !d->codec)
		return -1;
	opj_stream_set_user_data(d->stream, &d->source, NULL);
	opj_stream_set_user_data_length(d->stream, d->source.length);
	opj_stream_set_read_function(d->stream, stream_read);
	opj_stream_set_skip_function(d->stream, stream_skip);
	opj_stream_set_seek_function(d->stream, stream_seek);
	opj_set_error_handler(d->codec, on_error, d);
	opj_set_warning_handler(d->codec, on_quiet, d);
	opj_set_info_handler(d->codec, on_quiet, d);
	opj_dparameters_t params;
	opj_set_default_decoder_parameters(&params);
	return opj_setup_decoder(d->codec, &params) &&
			       (d->threads < 2 || opj_codec_set_threads(d->codec, d->threads)) &&
			       opj_read_header(d->stream, d->codec, &d->image) &&
			       opj_set_decoded_resolution_factor(d->codec, (OPJ_UINT32)reduce)
		       ? 0
		       : -1;
}

static void decoder_release(struct decoder *d)
{
	if (d->image)
		opj_image_destroy(d->image);
	if (d->codec)
		opj_destroy_codec(d->codec);
	if (d->stream)
		opj_stream_destroy(d->stream);
	assembled_release(&d->source);
}

struct canvas {
	uint8_t *pixels; /* interleaved, width * height * bands samples */
	int64_t x0, y0;  /* level coordinates of pixels[0] */
	int64_t width, height;
	int bands;
	int bytes;       /* per sample: 1 or 2 */
	int precision;
};

/* Scales a sample of `precision` bits to the canvas's 8 or 16 bits. */
static uint32_t canvas_sample(const struct canvas *c, OPJ_INT32 v)
{
	uint32_t max = (1u << c->precision) - 1, out_max = c->bytes == 1 ? 255u : 65535u;
	uint32_t u = v < 0 ? 0 : (uint32_t)v > max ? max : (uint32_t)v;
	return max == out_max ? u : (uint32_t)(((uint64_t)u * out_max + max / 2) / max);
}

static void canvas_store(struct canvas *c, size_t at, uint32_t sample)
{
	if (c->bytes == 1)
		c->pixels[at] = (uint8_t)sample;
	else
		((uint16_t *)c->pixels)[at] = (uint16_t)sample;
}

/* Full-range sYCC to RGB (the JFIF equations), in place, at precision bits. */
static void ycc_to_rgb(OPJ_INT32 v[3], int precision)
{
	double offset = (double)(1 << (precision - 1)), max = (double)((1 << precision) - 1);
	double y = v[0], cb = v[1] - offset, cr = v[2] - offset;
	double rgb[3] = { y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb };
	for (int i = 0; i < 3; i++)
		v[i] = (OPJ_INT32)lround(rgb[i] < 0 ? 0 : rgb[i] > max ? max : rgb[i]);
}

/* The canvas pixels [*x0, *x1) x [*y0, *y1) that the decoded tile covers; its first component
 * starts at level pixel (*tx, *ty). Returns false when they do not meet. */
static bool canvas_overlap(const struct canvas *c, const opj_image_t *image, int r,
			   const struct jp2_layout *l, int64_t *tx, int64_t *ty, int64_t *x0,
			   int64_t *y0, int64_t *x1, int64_t *y1)
{
	const opj_image_comp_t *first = &image->comps[0];
	*tx = reduced(first->x0, r) - reduced(l->origin_x, r);
	*ty = reduced(first->y0, r) - reduced(l->origin_y, r);
	*x0 = *tx > c->x0 ? *tx : c->x0;
	*y0 = *ty > c->y0 ? *ty : c->y0;
	*x1 = *tx + first->w < c->x0 + c->width ? *tx + first->w : c->x0 + c->width;
	*y1 = *ty + first->h < c->y0 + c->height ? *ty + first->h : c->y0 + c->height;
	return *x1 > *x0 && *y1 > *y0;
}

/* The slow way, for subsampled chroma or sYCC: each component's sample under every pixel. */
static void canvas_paste_sampled(struct canvas *c, const opj_image_t *image, int r,
				 const struct jp2_layout *l)
{
	int64_t tx, ty, x0, y0, x1, y1;
	if (!canvas_overlap(c, image, r, l, &tx, &ty, &x0, &y0, &x1, &y1))
		return;
	int64_t ox = reduced(l->origin_x, r), oy = reduced(l->origin_y, r);
	for (int64_t y = y0; y < y1; y++) {
		for (int64_t x = x0; x < x1; x++) {
			OPJ_INT32 v[3];
			for (int b = 0; b < c->bands; b++) {
				const opj_image_comp_t *cp = &image->comps[b];
				int64_t cx = (x + ox) / l->step_x[b] - reduced(cp->x0, r);
				int64_t cy = (y + oy) / l->step_y[b] - reduced(cp->y0, r);
				cx = cx < 0 ? 0 : cx >= cp->w ? cp->w - 1 : cx;
				cy = cy < 0 ? 0 : cy >= cp->h ? cp->h - 1 : cy;
				v[b] = cp->data[cy * cp->w + cx];
			}
			if (l->ycc)
				ycc_to_rgb(v, c->precision);
			size_t at = ((size_t)(y - c->y0) * (size_t)c->width + (size_t)(x - c->x0)) *
				    (size_t)c->bands;
			for (int b = 0; b < c->bands; b++)
				canvas_store(c, at + (size_t)b, canvas_sample(c, v[b]));
		}
	}
}

/* canvas_paste for 8-bit samples (the common case): all bands of a row in one pass, with the
 * canvas's fields in locals (stores through uint8_t * would make the compiler reload them). */
static void canvas_paste_8bit(struct canvas *c, const opj_image_t *image, int64_t tx, int64_t ty,
			      int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
	const int bands = c->bands;
	const int64_t w = image->comps[0].w, width = c->width;
	uint8_t *const pixels = c->pixels;
	const OPJ_INT32 *row[3];
	for (int64_t y = y0; y < y1; y++) {
		for (int b = 0; b < bands; b++)
			row[b] = image->comps[b].data + (y - ty) * w + (x0 - tx);
		uint8_t *out = pixels + ((size_t)(y - c->y0) * (size_t)width +
					 (size_t)(x0 - c->x0)) * (size_t)bands;
		for (int64_t x = 0; x < x1 - x0; x++)
			for (int b = 0; b < bands; b++) {
				OPJ_INT32 v = row[b][x];
				*out++ = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
			}
	}
}

/* Copies the part of the decoded tile in `image` that falls on the canvas. */
static void canvas_paste(struct canvas *c, const opj_image_t *image, int r,
			 const struct jp2_layout *l)
{
	for (int b = 1; b < c->bands; b++)
		if (l->step_x[b] != 1 || l->step_y[b] != 1 || l->ycc)
			return canvas_paste_sampled(c, image, r, l);
	const opj_image_comp_t *first = &image->comps[0];
	int64_t tx, ty, x0, y0, x1, y1;
	if (!canvas_overlap(c, image, r, l, &tx, &ty, &x0, &y0, &x1, &y1))
		return;
	if (c->bytes == 1 && c->precision == 8)
		return canvas_paste_8bit(c, image, tx, ty, x0, y0, x1, y1);
	for (int b = 0; b < c->bands; b++) {
		const OPJ_INT32 *plane = image->comps[b].data;
		for (int64_t y = y0; y < y1; y++) {
			const OPJ_INT32 *src = plane + (y - ty) * first->w + (x0 - tx);
			size_t at = ((size_t)(y - c->y0) * (size_t)c->width + (size_t)(x0 - c->x0)) *
					    (size_t)c->bands + (size_t)b;
			for (int64_t x = x0; x < x1; x++, at += (size_t)c->bands)
				canvas_store(c, at, canvas_sample(c, *src++));
		}
	}
}

static void image_free_buffer(VipsImage *image, void *buffer)
{
	(void)image;
	g_free(buffer);
}

/* Wraps the canvas in a libvips image that frees the pixels when it closes. */
static VipsImage *canvas_to_image(struct canvas *c, const struct jp2_index *ix)
{
	size_t len = (size_t)c->width * (size_t)c->height * (size_t)c->bands * (size_t)c->bytes;
	VipsImage *image = vips_image_new_from_memory(c->pixels, len, (int)c->width,
						      (int)c->height, c->bands,
						      c->bytes == 1 ? VIPS_FORMAT_UCHAR
								    : VIPS_FORMAT_USHORT);
	if (!image)
		return NULL;
	g_signal_connect(image, "postclose", G_CALLBACK(image_free_buffer), c->pixels);
	c->pixels = NULL;
	if (c->bands == 1)
		image->Type = c->bytes == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_GREY16;
	else
		image->Type = c->bytes == 1 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_RGB16;
	if (ix->icc)
		vips_image_set_blob_copy(image, VIPS_META_ICC_NAME, ix->icc, ix->icc_len);
	return image;
}

/* Decodes the tiles of t one by one, in codestream order, onto the canvas. */
static enum jp2_decode_status decode_tiles(struct decoder *d, const struct jp2_index *ix,
					   const struct tile_rect *t, int reduce,
					   struct canvas *c, int64_t deadline_us)
{
	uint32_t count = (t->c1 - t->c0 + 1) * (t->r1 - t->r0 + 1);
	for (uint32_t i = 0; i < count; i++) {
		if (deadline_us && g_get_monotonic_time() > deadline_us)
			return JP2_TIMED_OUT;
		if (!opj_get_decoded_tile(d->codec, d->stream, d->image, i)) {
			vips_error("jp2", "tile %u at reduction %d: %s",
				   (t->r0 + i / (t->c1 - t->c0 + 1)) * ix->layout.tiles_across +
					   t->c0 + i % (t->c1 - t->c0 + 1),
				   reduce, d->error[0] ? d->error : "cannot decode");
			return JP2_FAILED;
		}
		if (d->image->numcomps != (OPJ_UINT32)c->bands) {
			vips_error("jp2", "unexpected components");
			return JP2_FAILED;
		}
		canvas_paste(c, d->image, reduce, &ix->layout);
		for (OPJ_UINT32 b = 0; b < d->image->numcomps; b++) {
			opj_image_data_free(d->image->comps[b].data);
			d->image->comps[b].data = NULL;
		}
	}
	return JP2_DECODED;
}

/* Limits the decode to window (level pixels), given in full-resolution grid coordinates:
 * OpenJPEG then decodes only the code-blocks under it and holds only its samples. */
static bool decoder_set_area(struct decoder *d, const struct jp2_layout *l, int r,
			     const struct jp2_rect *window)
{
	int64_t rx = reduced(l->origin_x, r), ry = reduced(l->origin_y, r);
	int64_t x1 = (window->x1 + rx) << r, y1 = (window->y1 + ry) << r;
	int64_t image_x1 = (int64_t)l->origin_x + l->width, image_y1 = (int64_t)l->origin_y + l->height;
	return opj_set_decode_area(d->codec, d->image, (OPJ_INT32)((window->x0 + rx) << r),
				   (OPJ_INT32)((window->y0 + ry) << r),
				   (OPJ_INT32)(x1 < image_x1 ? x1 : image_x1),
				   (OPJ_INT32)(y1 < image_y1 ? y1 : image_y1));
}

/*
 * Decodes the window in one call. OpenJPEG then treats tile boundaries as in a whole-file
 * decode (subsampled chroma of neighbouring tiles included) and spares its per-call set-up for
 * each of many small tiles, but holds the window as 32-bit samples: see decode_area.
 */
static enum jp2_decode_status decode_at_once(struct decoder *d, const struct jp2_index *ix,
					     int reduce, const struct jp2_rect *window,
					     struct canvas *c, int64_t deadline_us)
{
	if (deadline_us && g_get_monotonic_time() > deadline_us)
		return JP2_TIMED_OUT;
	if (!decoder_set_area(d, &ix->layout, reduce, window) ||
	    !opj_decode(d->codec, d->stream, d->image) ||
	    d->image->numcomps != (OPJ_UINT32)c->bands) {
		vips_error("jp2", "reduction %d: %s", reduce,
			   d->error[0] ? d->error : "cannot decode");
		return JP2_FAILED;
	}
	canvas_paste(c, d->image, reduce, &ix->layout);
	return JP2_DECODED;
}

/*
 * How an area is decoded. Tile by tile holds one tile's 32-bit samples at a time; at once holds
 * the whole window's. At once is needed for a single-tile image (region decoding within it) and
 * for subsampled chroma (a tile's first chroma sample may lie in its neighbour, so the window
 * reaches one chroma sample further left and up), and is faster for overviews of many tiles.
 */
struct decode_plan {
	struct jp2_rect window; /* level pixels to decode: the area, plus chroma's reach */
	struct tile_rect tiles; /* the codestream tiles under the window */
	bool at_once;
};

static int decode_plan(const struct jp2_layout *l, int reduce, const struct jp2_rect *area,
		       struct decode_plan *p)
{
	int reach = 0;
	for (int b = 1; b < l->bands; b++) {
		int step = l->step_x[b] > l->step_y[b] ? l->step_x[b] : l->step_y[b];
		reach = step - 1 > reach ? step - 1 : reach;
	}
	p->window = (struct jp2_rect){ area->x0 > reach ? area->x0 - reach : 0,
				       area->y0 > reach ? area->y0 - reach : 0, area->x1,
				       area->y1 };
	struct tile_rect *t = &p->tiles;
	if (tiles_covering(l->tile_origin_x, l->tile_width, l->origin_x, l->width,
			   l->tiles_across, reduce, p->window.x0, p->window.x1, &t->c0, &t->c1) < 0 ||
	    tiles_covering(l->tile_origin_y, l->tile_height, l->origin_y, l->height, l->tiles_down,
			   reduce, p->window.y0, p->window.y1, &t->r0, &t->r1) < 0)
		return -1;
	uint64_t tiles = (uint64_t)(t->c1 - t->c0 + 1) * (t->r1 - t->r0 + 1);
	uint64_t pixels = (uint64_t)(area->x1 - area->x0) * (uint64_t)(area->y1 - area->y0);
	p->at_once = jp2_layout_single_tile(l) || jp2_layout_subsampled(l) ||
		     (tiles >= JP2_AT_ONCE_MIN_TILES && pixels <= JP2_AT_ONCE_MAX_PIXELS);
	return 0;
}

int64_t jp2_decode_bytes(const struct jp2_index *ix, int reduce, const struct jp2_rect *area)
{
	const struct jp2_layout *l = &ix->layout;
	struct decode_plan plan;
	if (reduce < 0 || reduce >= l->reductions || decode_plan(l, reduce, area, &plan) < 0)
		return 0;
	const struct tile_rect *t = &plan.tiles;
	int64_t tiles = (int64_t)(t->c1 - t->c0 + 1) * (t->r1 - t->r0 + 1);
	int64_t canvas = (area->x1 - area->x0) * (area->y1 - area->y0) * l->bands *
			 (l->precision > 8 ? 2 : 1);
	int64_t params = tiles * (JP2_COST_PER_TILE + l->bands * JP2_COST_PER_TILE_COMPONENT);
	/* 32-bit samples: a tile's while OpenJPEG decodes it (only the window's within a single
	 * tile), plus the window's, or a copy of the tile's, as it hands them over */
	int64_t tile = jp2_layout_single_tile(l) ? 0
						 : reduced(l->tile_width, reduce) *
							   reduced(l->tile_height, reduce);
	int64_t samples = tile + (plan.at_once ? (plan.window.x1 - plan.window.x0) *
							 (plan.window.y1 - plan.window.y0)
					       : tile);
	int64_t data = 0; /* OpenJPEG reads a whole tile's codestream before decoding it */
	uint32_t first = t->r0 * l->tiles_across + t->c0;
	for (uint32_t p = ix->first_part[first]; p != JP2_NO_PART; p = ix->parts[p].next)
		data += ix->parts[p].length;
	return canvas + params + samples * l->bands * 4 + data;
}

/*
 * Decodes in progress. One that runs alone and decodes in one OpenJPEG call a file jp2_shared.c
 * does not handle (single-tile, subsampled chroma, over 8 bits) gets an OpenJPEG thread per
 * core, so one request uses every core; other decodes are spread over the cores by
 * jp2_shared.c instead, and under load the cores are busy anyway. Counts every decode_area call (begin here, end after release).
 */
static atomic_int decodes_running;

int jp2_cores(void)
{
	static atomic_int cores;
	int n = atomic_load(&cores);
	if (!n) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		n = online < 1 ? 1 : online > JP2_MAX_THREADS ? JP2_MAX_THREADS : (int)online;
		atomic_store(&cores, n);
	}
	return n;
}

/* Only for the layouts jp2_shared.c leaves to jp2_decode (one tile, subsampled chroma, over 8
 * bits): the others are spread over the cores a run of tiles at a time, which costs far less
 * kernel time than OpenJPEG's pool (futex hand-offs per code-block). */
static int at_once_threads(const struct jp2_layout *l, bool at_once)
{
	bool alone = atomic_fetch_add(&decodes_running, 1) == 0;
	bool own_threads = jp2_layout_single_tile(l) || jp2_layout_subsampled(l) ||
			   l->precision > 8;
	return alone && at_once && own_threads && jp2_cores() > 1 ? jp2_cores() : 0;
}

static enum jp2_decode_status decode_area(const struct jp2_index *ix, const char *path,
					  int reduce, struct canvas *c, int64_t deadline_us,
					  bool area_only)
{
	struct jp2_rect area = { c->x0, c->y0, c->x0 + c->width, c->y0 + c->height };
	struct decode_plan plan;
	if (decode_plan(&ix->layout, reduce, &area, &plan) < 0) {
		vips_error("jp2", "no tiles under the area");
		return JP2_FAILED;
	}
	plan.at_once = plan.at_once || area_only;
	const struct tile_rect *t = &plan.tiles;
	struct decoder d = { .source = { .file = NULL },
			     .threads = at_once_threads(&ix->layout, plan.at_once) };
	enum jp2_decode_status s = JP2_FAILED;
	uint64_t tiles = (uint64_t)(t->c1 - t->c0 + 1) * (t->r1 - t->r0 + 1);
	if (decoder_start(&d, ix, path, t, reduce) == 0)
		s = plan.at_once ? decode_at_once(&d, ix, reduce, &plan.window, c, deadline_us)
				 : decode_tiles(&d, ix, t, reduce, c, deadline_us);
	else
		vips_error("jp2", "cannot start decoding: %s", d.error[0] ? d.error : "out of memory");
	decoder_release(&d);
	atomic_fetch_sub(&decodes_running, 1);
	if (tiles >= JP2_TRIM_AFTER_TILES)
		malloc_trim(0);
	return s;
}

static enum jp2_decode_status decode_into_image(const struct jp2_index *ix, const char *path,
						int reduce, const struct jp2_rect *area,
						int64_t deadline_us, bool area_only,
						VipsImage **out)
{
	*out = NULL;
	int64_t level_w = 0, level_h = 0;
	if (reduce >= 0 && reduce < ix->layout.reductions)
		jp2_layout_level_size(&ix->layout, reduce, &level_w, &level_h);
	if (area->x0 < 0 || area->y0 < 0 || area->x1 > level_w || area->y1 > level_h ||
	    area->x1 <= area->x0 || area->y1 <= area->y0) {
		vips_error("jp2", "area outside reduction %d", reduce);
		return JP2_FAILED;
	}
	struct canvas c = {
		.x0 = area->x0, .y0 = area->y0,
		.width = area->x1 - area->x0, .height = area->y1 - area->y0,
		.bands = ix->layout.bands,
		.bytes = ix->layout.precision > 8 ? 2 : 1,
		.precision = ix->layout.precision,
	};
	c.pixels = g_try_malloc0((size_t)c.width * (size_t)c.height * (size_t)c.bands *
				 (size_t)c.bytes);
	if (!c.pixels) {
		vips_error("jp2", "out of memory for %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT,
			   c.width, c.height);
		return JP2_FAILED;
	}
	enum jp2_decode_status s = decode_area(ix, path, reduce, &c, deadline_us, area_only);
	if (s == JP2_DECODED && !(*out = canvas_to_image(&c, ix)))
		s = JP2_FAILED;
	g_free(c.pixels);
	return s;
}

enum jp2_decode_status jp2_decode(const struct jp2_index *ix, const char *path, int reduce,
				  const struct jp2_rect *area, int64_t deadline_us,
				  VipsImage **out)
{
	return decode_into_image(ix, path, reduce, area, deadline_us, false, out);
}

enum jp2_decode_status jp2_decode_area_only(const struct jp2_index *ix, const char *path,
					    int reduce, const struct jp2_rect *area,
					    int64_t deadline_us, VipsImage **out)
{
	return decode_into_image(ix, path, reduce, area, deadline_us, true, out);
}
