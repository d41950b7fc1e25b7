/*
 * s3_list.h: reading a ListObjectsV2 answer (ListBucketResult XML) from S3-compatible storage.
 * The XML comes from outside (any server at the configured endpoint): it is parsed without
 * network access or entity expansion, sizes and counts are bounded, and a key that could escape
 * the listed prefix ("..", empty segments, a leading "/") is dropped, never returned.
 */
#ifndef IIIFD_STORAGE_S3_LIST_H
#define IIIFD_STORAGE_S3_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* One object of a listing. */
struct s3_object {
	char *key;  /* owned; the full key, prefix included */
	char *etag; /* owned; as the server wrote it (quotes kept), "" when absent */
	int64_t size;
	int64_t modified; /* LastModified, seconds since the epoch; 0 when absent or malformed */
};

/* One page of a listing (owned by the caller: s3_listing_release). */
struct s3_listing {
	struct s3_object *objects;
	size_t n_objects;
	char **prefixes; /* CommonPrefixes ("folders" under a delimiter), each ending in it */
	size_t n_prefixes;
	bool truncated;
	char *next_token; /* NextContinuationToken when truncated, else NULL */
	size_t dropped;	  /* keys left out because they were unsafe as paths */
};

/* The most objects plus prefixes one page may hold (S3 itself gives at most 1000). */
#define S3_LIST_MAX_ENTRIES 10000

/*
 * Parses one page of len bytes. 502 (the storage answered something unusable) for XML that is
 * not a ListBucketResult, an S3 <Error> (its Code and Message in the reason), a truncated page
 * without a token, or more than S3_LIST_MAX_ENTRIES entries.
 */
int s3_list_parse(const char *xml, size_t len, struct s3_listing *out, struct iiifd_error *err);
void s3_listing_release(struct s3_listing *l);

/* Whether key is safe to map to a path below the root: no "." or ".." segment, none empty. */
bool s3_key_safe(const char *key);

#endif
