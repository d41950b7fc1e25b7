/*
 * fuzz_jp2_index.c: the JPEG 2000 index (src/image/jp2_index.c): boxes, main header and
 * tile-part headers of a file from outside, classic or HTJ2K (Part 15: .jph, .j2c; seeds of
 * both kinds in fuzz/corpus/jp2_index). The input is written to a temporary file, since the
 * index reads with pread; for a file that indexes, the size of every level is computed and a
 * small area decoded at full resolution and at the smallest level (a reduced decode, which
 * skips the higher resolutions' code-blocks), directly and through the decoded-tile cache,
 * then a strip a few tiles wide through the cache (runs of tiles decoded in one call; the
 * whole smallest level, in bands when it has 64 tiles or more). jp2_index_scan_ht() (the HT
 * scan of files the index leaves to libvips) runs on every input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <vips/vips.h>

#include "fuzz_input.h"
#include "image/jp2.h"
#include "image/jp2_internal.h"

/* Decodes up to 32x32 pixels at the top-left of reduction level `reduce` (w x h), directly
 * and through the shared tile cache (jp2_shared.c, as renders do). */
static void fuzz_decode(const struct jp2_index *ix, const char *path, int reduce, int64_t w,
			int64_t h, struct tile_cache *cache)
{
	struct jp2_rect a = { 0, 0, w < 32 ? w : 32, h < 32 ? h : 32 };
	struct tile_cache_key file = { .ino = 1 };
	VipsImage *out = NULL;
	if (w <= 0 || h <= 0 || w * h >= (1 << 22))
		return;
	if (jp2_decode(ix, path, reduce, &a, 0, &out) == JP2_DECODED)
		g_object_unref(out);
	out = NULL;
	if (jp2_decode_shared(ix, path, reduce, &a, 0, cache, &file, &out) == JP2_DECODED)
		g_object_unref(out);
	/* a strip a few tiles wide: runs of missing tiles decoded in one call, one of them
	 * cached now (jp2_shared.c), as the direct JPEG path reads them */
	struct jp2_rect strip = { 0, 0, w < 600 ? w : 600, h < 40 ? h : 40 };
	uint8_t *pixels = NULL;
	if (jp2_shared_applies(ix, cache) &&
	    jp2_decode_shared_pixels(ix, path, reduce, &strip, 0, cache, &file, &pixels) ==
		    JP2_DECODED)
		g_free(pixels);
	vips_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (VIPS_INIT("fuzz"))
			abort();
		ready = 1;
	}
	const char *path = fuzz_input_file("input.jp2", data, size);
	if (!path)
		return 0;
	struct jp2_index *ix = NULL;
	struct iiifd_error err = { 0 };
	/* the HT scan of files the index leaves to libvips (image/source.c asks it for those) */
	(void)jp2_index_scan_ht(path, NULL);
	if (jp2_index_open(path, &ix, &err) == 0) {
		/* every level's size, as info.json lists them (a crafted COD once made this shift
		 * by 108: fuzz/regressions/jp2_index/cod-108-levels.jp2) */
		const struct jp2_layout *l = jp2_index_layout(ix);
		int64_t w, h;
		for (int r = l->reductions - 1; r > 0; r--)
			jp2_layout_level_size(l, r, &w, &h);
		jp2_layout_level_size(l, 0, &w, &h);
		struct tile_cache *cache = tile_cache_new(1 << 20); /* one input's tiles only */
		/* HTJ2K code-blocks are indexed but not decoded here: Debian's OpenJPEG 2.5.0
		 * aborts on an assert() in ht_dec.c (mel_init) for a malformed HT code-block, a
		 * crash in the library that iiifd cannot turn into an error in-process (reproducer:
		 * fuzz/known-upstream/openjpeg-2.5.0-ht-mel-assert.j2c). The server decodes an HT
		 * file only after a child process decoded all of it (image/ht_guard.h); doing that
		 * here per input (a fork of this ASan process) made the target some 50 times
		 * slower, so HT decoding is left to the end-to-end tests (docs/internals/fuzzing.md) */
		if (l->ht)
			w = h = 0;
		fuzz_decode(ix, path, 0, w, h, cache);
		if (l->reductions > 1 && !l->ht) {
			jp2_layout_level_size(l, l->reductions - 1, &w, &h);
			fuzz_decode(ix, path, l->reductions - 1, w, h, cache);
		}
		tile_cache_free(cache);
		jp2_index_free(ix);
	}
	vips_error_clear();
	return 0;
}
