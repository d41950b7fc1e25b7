/*
 * pyramid_queue.h: background conversion of large flat sources (big JPEGs, PNGs, strip TIFFs)
 * into pyramidal tiled TIFFs in a folder (pyramid-dir) that several processes or nodes may share:
 * each pyramid is built once, by the one that claims it. Until a pyramid is ready, requests are
 * served from the original; afterwards from the pyramid.
 */
#ifndef IIIFD_IMAGE_PYRAMID_QUEUE_H
#define IIIFD_IMAGE_PYRAMID_QUEUE_H

#include <stdint.h>

#include "db/db.h"
#include "image/source.h"

struct pyramid_queue;

/*
 * Pyramids go to dir (created when needed), built one at a time by a background thread, for
 * sources of at least min_pixels, and take at most max_bytes there (least recently used ones are
 * deleted). Leftovers of builds that a crash interrupted are deleted here. Free with
 * pyramid_queue_free(), which waits for a running build.
 */
struct pyramid_queue *pyramid_queue_new(const char *dir, int64_t min_pixels, int tile,
					int quality, int64_t max_bytes);
void pyramid_queue_free(struct pyramid_queue *q);

/*
 * Claims builds through db (borrowed) when it is a shared store, so that nodes sharing the folder
 * build each pyramid once; NULL (or a local store) goes back to the lock file in the folder.
 * Waits for a running build; call with NULL before closing db. q may be NULL.
 */
void pyramid_queue_use_store(struct pyramid_queue *q, struct db *db);

/* Whether src is worth a pyramid: flat, single page, large enough, no alpha to lose. */
int pyramid_queue_wants(const struct pyramid_queue *q, const struct image_source *src);

/*
 * The path (malloc'd; caller frees) of a finished pyramid for this version of src, or NULL after
 * making sure a build is queued (once per source version; a failed build is not retried, one
 * evicted for space or deleted by `iiifd cache purge` is, one claimed by another process is
 * looked for again after a few seconds).
 */
char *pyramid_queue_lookup(struct pyramid_queue *q, const struct image_source *src);

#endif
