/*
 * compress.c: one-shot deflate with a gzip wrapper (windowBits 15 + 16) at a fast level, since
 * this runs on the request path.
 */
#include "core/compress.h"

#include <stdlib.h>
#include <zlib.h>

void *compress_gzip(const void *data, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&zs, (uLong)len);
	unsigned char *out = malloc(cap);
	if (!out) {
		deflateEnd(&zs);
		return NULL;
	}
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	int rc = deflate(&zs, Z_FINISH);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}
