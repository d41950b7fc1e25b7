/*
 * verify_codestream.c: `iiifd verify-codestream [--cpu-seconds N] FILE`, not listed in --help:
 * decodes every code-block of a JPEG 2000 file (JP2/JPH or bare codestream) with OpenJPEG, at
 * full resolution tile by tile (a large tile in windows, to bound memory), then its smallest
 * level, and prints "ok" when all of it decoded (exit 0), else OpenJPEG's error (exit 1). With
 * --cpu-seconds (as the server runs it) it limits its CPU time and address space (4 GiB). The
 * server runs it in a child process before decoding an HTJ2K file itself (image/ht_guard.h):
 * OpenJPEG 2.5.0 aborts on an assert() for some malformed HT code-blocks, which here ends only
 * this process.
 */
#include "tools/verify_codestream.h"

#include <openjpeg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A tile up to this many pixels is decoded whole; a larger one in windows of WINDOW^2. */
#define WHOLE_TILE_PIXELS (4096u * 4096u)
#define WINDOW 4096u
/* The smallest level is decoded whole when it has at most this many pixels. */
#define SMALLEST_LEVEL_PIXELS (64u << 20)

struct verify {
	const char *path;
	OPJ_CODEC_FORMAT format;
	opj_stream_t *stream;
	opj_codec_t *codec;
	opj_image_t *image;
	char error[200]; /* OpenJPEG's first error */
};

static void on_error(const char *msg, void *user)
{
	struct verify *v = user;
	if (!v->error[0])
		snprintf(v->error, sizeof v->error, "%.*s", (int)strcspn(msg, "\n"), msg);
}

static void on_quiet(const char *msg, void *user)
{
	(void)msg;
	(void)user;
}

static void verify_close(struct verify *v)
{
	if (v->image)
		opj_image_destroy(v->image);
	if (v->codec)
		opj_destroy_codec(v->codec);
	if (v->stream)
		opj_stream_destroy(v->stream);
	v->image = NULL, v->codec = NULL, v->stream = NULL;
}

/* Opens the file and reads its main header, decoding at reduction `reduce`. */
static int verify_open(struct verify *v, unsigned reduce)
{
	v->stream = opj_stream_create_default_file_stream(v->path, OPJ_TRUE);
	v->codec = opj_create_decompress(v->format);
	if (!v->stream || !v->codec)
		return -1;
	opj_set_error_handler(v->codec, on_error, v);
	opj_set_warning_handler(v->codec, on_quiet, v);
	opj_set_info_handler(v->codec, on_quiet, v);
	opj_dparameters_t params;
	opj_set_default_decoder_parameters(&params);
	return opj_setup_decoder(v->codec, &params) &&
			       opj_read_header(v->stream, v->codec, &v->image) &&
			       opj_set_decoded_resolution_factor(v->codec, reduce)
		       ? 0
		       : -1;
}

/* Every tile at full resolution, one at a time. */
static int verify_tiles(struct verify *v)
{
	OPJ_BYTE *data = NULL;
	OPJ_UINT32 capacity = 0, tile, size, comps;
	OPJ_INT32 x0, y0, x1, y1;
	OPJ_BOOL more = OPJ_TRUE;
	int rc = verify_open(v, 0);
	while (rc == 0 && opj_read_tile_header(v->codec, v->stream, &tile, &size, &x0, &y0, &x1,
					       &y1, &comps, &more) && more) {
		if (size > capacity) {
			free(data);
			data = malloc(size);
			capacity = data ? size : 0;
		}
		if (!data || !opj_decode_tile_data(v->codec, tile, data, size, v->stream))
			rc = -1;
	}
	if (rc == 0 && more) /* opj_read_tile_header failed */
		rc = -1;
	if (rc == 0 && !opj_end_decompress(v->codec, v->stream))
		rc = -1;
	free(data);
	verify_close(v);
	return rc;
}

/* One area (reference grid) at reduction `reduce`, or the whole image when area is NULL. */
static int verify_area(struct verify *v, unsigned reduce, const OPJ_INT32 *area)
{
	int rc = verify_open(v, reduce);
	if (rc == 0 && area && !opj_set_decode_area(v->codec, v->image, area[0], area[1],
						     area[2], area[3]))
		rc = -1;
	if (rc == 0 && (!opj_decode(v->codec, v->stream, v->image) ||
			!opj_end_decompress(v->codec, v->stream)))
		rc = -1;
	verify_close(v);
	return rc;
}

/* The image in windows (for tiles too large to decode whole). */
static int verify_windows(struct verify *v, const opj_image_t *h)
{
	for (OPJ_UINT32 y = h->y0; y < h->y1; y += WINDOW)
		for (OPJ_UINT32 x = h->x0; x < h->x1; x += WINDOW) {
			OPJ_INT32 a[4] = { (OPJ_INT32)x, (OPJ_INT32)y,
					   (OPJ_INT32)(h->x1 - x < WINDOW ? h->x1 : x + WINDOW),
					   (OPJ_INT32)(h->y1 - y < WINDOW ? h->y1 : y + WINDOW) };
			if (verify_area(v, 0, a) < 0)
				return -1;
		}
	return 0;
}

static int verify_file(struct verify *v)
{
	if (verify_open(v, 0) < 0) {
		verify_close(v);
		return -1;
	}
	opj_codestream_info_v2_t *info = opj_get_cstr_info(v->codec);
	if (!info) {
		verify_close(v);
		return -1;
	}
	uint64_t tile_pixels = (uint64_t)info->tdx * info->tdy;
	unsigned levels = info->m_default_tile_info.tccp_info
				  ? info->m_default_tile_info.tccp_info[0].numresolutions
				  : 1;
	opj_image_t bounds = *v->image;
	opj_destroy_cstr_info(&info);
	verify_close(v);
	if (bounds.x1 <= bounds.x0 || bounds.y1 <= bounds.y0)
		return -1;
	int rc = tile_pixels <= WHOLE_TILE_PIXELS ? verify_tiles(v) : verify_windows(v, &bounds);
	/* the smallest level too: the decode that once reached the assert (fuzzing.md) */
	uint64_t r = levels > 1 ? levels - 1 : 0;
	uint64_t small = ((uint64_t)(bounds.x1 - bounds.x0) >> r) * ((bounds.y1 - bounds.y0) >> r);
	if (rc == 0 && r > 0 && small <= SMALLEST_LEVEL_PIXELS)
		rc = verify_area(v, (unsigned)r, NULL);
	return rc;
}

static OPJ_CODEC_FORMAT verify_format(const char *path)
{
	unsigned char head[4] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(head, 1, sizeof head, f) : 0;
	if (f)
		fclose(f);
	return got == 4 && head[0] == 0xff && head[1] == 0x4f ? OPJ_CODEC_J2K : OPJ_CODEC_JP2;
}

int tools_verify_codestream(const char *path, char *error, size_t n)
{
	struct verify v = { .path = path, .format = verify_format(path) };
	if (verify_file(&v) == 0)
		return 0;
	snprintf(error, n, "%s", v.error[0] ? v.error : "OpenJPEG cannot decode it");
	return -1;
}

/* Address space of the check: a tile (or window) at a time needs a few hundred MB at most; a
 * header asking for more is hostile. Sanitizer builds reserve terabytes: no limit there. */
#define VERIFY_ADDRESS_SPACE ((rlim_t)4 << 30)

static void verify_limit(int cpu_seconds)
{
	struct rlimit cpu = { .rlim_cur = (rlim_t)cpu_seconds,
			      .rlim_max = (rlim_t)cpu_seconds + 5 };
	setrlimit(RLIMIT_CPU, &cpu);
#ifndef __SANITIZE_ADDRESS__
	struct rlimit as = { .rlim_cur = VERIFY_ADDRESS_SPACE, .rlim_max = VERIFY_ADDRESS_SPACE };
	setrlimit(RLIMIT_AS, &as);
#endif
	if (nice(10) < 0) /* below the server's requests */
		perror("nice");
}

int tools_verify_codestream_main(int argc, char **argv)
{
	int cpu_seconds = 0;
	if (argc == 3 && strcmp(argv[0], "--cpu-seconds") == 0) {
		cpu_seconds = atoi(argv[1]);
		argc -= 2, argv += 2;
	}
	if (argc != 1 || cpu_seconds < 0) {
		fprintf(stderr, "usage: iiifd verify-codestream [--cpu-seconds N] FILE\n");
		return 2;
	}
	if (cpu_seconds > 0)
		verify_limit(cpu_seconds);
	char error[200];
	int rc = tools_verify_codestream(argv[0], error, sizeof error) == 0 ? 0 : 1;
	printf("%s\n", rc == 0 ? "ok" : error);
	fflush(stdout);
	/* no exit handlers: a leak report of a sanitizer build (OpenJPEG's error paths) would
	 * change the exit status the server reads */
	_exit(rc);
}
