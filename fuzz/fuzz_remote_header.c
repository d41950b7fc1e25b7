/*
 * fuzz_remote_header.c: response header lines from object storage or an HTTP origin, as
 * remote_header_parse (src/storage/remote.c) reads them. Whatever the server sends, the size is
 * -1 or a real length, the date is 0 or a time, and the ETag stays a terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote_stat st = {.size = -1};
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		remote_header_parse(p, len, &st);
		p += len;
	}
	if (st.size < -1 || st.modified < 0 || strnlen(st.etag, sizeof st.etag) >= sizeof st.etag)
		abort();
	return 0;
}
