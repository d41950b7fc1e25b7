/*
 * remote.h: reading objects of S3-compatible storage (or a plain HTTP(S) origin) by byte range, through a bounded block
 * cache shared by every thread, so that a tile of a pyramidal TIFF or JPEG 2000 costs a few small
 * ranged GETs (its directory and tile index are read once, then stay in the cache) and never a
 * whole-file download.
 *
 * Thread-safe: one remote_store serves every worker. Connections are kept open in a pool of
 * libcurl handles (keep-alive), as many as threads use at once.
 * Blocks are keyed by object key, ETag and block number: a replaced object has a new ETag, so its
 * old blocks are never read again (they age out of the cache).
 */
#ifndef IIIFD_STORAGE_REMOTE_H
#define IIIFD_STORAGE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "storage/s3.h"
#include "storage/s3_list.h"

struct remote_store;

/* What a HEAD tells of an object. */
struct remote_stat {
	int64_t size;
	int64_t modified; /* seconds since the epoch, 0 when the server gave none */
	char etag[80];	  /* as sent (quotes kept), "" when none */
};

/* Counters since the store was opened (for /metrics and the benchmarks). */
struct remote_counters {
	uint64_t requests;    /* HTTP requests made: GET, HEAD, listing pages */
	uint64_t bytes;	      /* body bytes received */
	uint64_t block_hits;  /* blocks read from the cache */
	uint64_t block_reads; /* blocks fetched by a ranged GET */
};

/*
 * Opens a store on the bucket of c (copied). block_size: bytes per ranged GET (rounded up to
 * 4 KiB; 0 = 64 KiB); cache_bytes: the most the block cache holds (0 = 64 MiB).
 */
int remote_store_open(const struct s3_config *c, size_t block_size, size_t cache_bytes,
		      struct remote_store **out, struct iiifd_error *err);
void remote_store_close(struct remote_store *s);

/* HEAD of key (below the store's prefix): 404 when there is no such object. */
int remote_stat(struct remote_store *s, const char *key, struct remote_stat *st,
		struct iiifd_error *err);

/*
 * Reads up to len bytes of key at offset into buf, through the block cache; st is the object's
 * remote_stat (its size bounds the read, its ETag keys the blocks). Returns the bytes read (0 at
 * or past the end) or -1. A read that finds the object changed (412, or a different ETag) fails
 * with 409: the caller stats again and starts over, never mixing two versions.
 */
ssize_t remote_read(struct remote_store *s, const char *key, const struct remote_stat *st,
		    int64_t offset, void *buf, size_t len, struct iiifd_error *err);

/*
 * Every object and common prefix below prefix (relative to the store's prefix; "" = all), one
 * level deep (delimiter '/'), all pages followed; keys in out are relative to the store's
 * prefix. At most max_entries (413 beyond).
 */
int remote_list(struct remote_store *s, const char *prefix, size_t max_entries,
		struct s3_listing *out, struct iiifd_error *err);

struct remote_counters remote_store_counters(struct remote_store *s);

/*
 * Takes what a response header line (len bytes, CRLF or not) says of the object into st: ETag,
 * Content-Length (-1 when malformed), Last-Modified (0 when malformed). Returns whether the
 * header was one of those. Public for the fuzz target: the line comes from the storage server.
 */
bool remote_header_parse(const char *line, size_t len, struct remote_stat *st);

#endif
