/*
 * stream.h: the Change Discovery 1.0 documents (pure: plain data in, JSON out): the
 * OrderedCollection, its OrderedCollectionPages, and the URL grammar below
 * /iiif/discovery/activity/.
 */
#ifndef IIIFD_DISCOVERY_STREAM_H
#define IIIFD_DISCOVERY_STREAM_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "db/activity.h"

#define DISCOVERY_PREFIX "/iiif/discovery/activity/"
#define DISCOVERY_CONTEXT "http://iiif.io/api/discovery/1/context.json"

/* What a path below DISCOVERY_PREFIX names. */
struct discovery_target {
	bool collection; /* "all-changes" */
	int64_t page;    /* "page/N": N (a decimal without leading zeros, at most 15 digits) */
};

/*
 * Parses the raw path below DISCOVERY_PREFIX. 404 with a reason for anything else (an
 * unknown name, a malformed or too large number, a trailing slash).
 */
int discovery_stream_parse(const char *path, struct discovery_target *out,
			   struct iiifd_error *err);

/* Pages the stream has for total activities at page_size per page: at least 1. */
int64_t discovery_stream_pages(int64_t total, int64_t page_size);

/* URL of the collection (page < 0) or of page N, for origin base (g_free). */
char *discovery_stream_url(const char *base, int64_t page);

/* The OrderedCollection. New reference. */
json_t *discovery_stream_collection(const char *base, int64_t total, int64_t page_size);

/*
 * Page `page` holding items[0..count) (the activities of index page * page_size on), of a
 * stream of total activities. New reference.
 */
json_t *discovery_stream_page(const char *base, int64_t page, int64_t page_size, int64_t total,
			      const struct db_activity *items, size_t count);

/* One activity as the stream shows it. New reference. */
json_t *discovery_stream_activity(const char *base, const struct db_activity *a);

#endif
