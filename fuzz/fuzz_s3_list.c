/*
 * fuzz_s3_list.c: a ListObjectsV2 page from object storage (src/storage/s3_list.c). Whatever the
 * server sends, every key returned is safe as a path below the root, every string is owned and
 * NUL-terminated, and a truncated page always has its continuation token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/s3_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_listing l;
	struct iiifd_error err;
	if (s3_list_parse((const char *)data, size, &l, &err))
		return 0;
	if (l.n_objects + l.n_prefixes > S3_LIST_MAX_ENTRIES)
		abort();
	for (size_t i = 0; i < l.n_objects; i++)
		if (!s3_key_safe(l.objects[i].key) || !l.objects[i].etag)
			abort();
	for (size_t i = 0; i < l.n_prefixes; i++)
		if (!s3_key_safe(l.prefixes[i]))
			abort();
	if (l.truncated && (!l.next_token || !*l.next_token))
		abort();
	s3_listing_release(&l);
	return 0;
}
