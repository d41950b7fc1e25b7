/*
 * context.h: what the Presentation builders need to know about the server (root, caches, limits,
 * public base URL), and the URLs of every resource they emit, built in one place.
 */
#ifndef IIIFD_PRESENTATION_CONTEXT_H
#define IIIFD_PRESENTATION_CONTEXT_H

#include <stdbool.h>

#include <jansson.h>

#include "image/request.h"
#include "image/source_cache.h"
#include "media/probe_cache.h"

struct db;
struct pres_index_cache;

struct ingest_queue;

struct pres_context {
	const char *root_real;             /* borrowed */
	const char *base;                  /* borrowed; origin without trailing slash */
	struct image_source_cache *sources; /* borrowed */
	struct media_probe_cache *media;   /* borrowed */
	struct image_limits limits;
	struct db *db;                     /* borrowed; NULL when annotations are off */
	struct pres_index_cache *indexes;  /* borrowed; NULL = no reuse of Canvas indexes */
	bool words_listed; /* Canvases list their OCR words page, lines in seeAlso (canvas-words) */
	struct ingest_queue *ingest;       /* borrowed; NULL = no background imports */
};

/*
 * URLs (all g_malloc'd; free with g_free). rel is a path below the root with '/' separators,
 * "" for the root; each segment is percent-encoded in the URL.
 */
char *pres_url_collection(const struct pres_context *c, const char *rel);
char *pres_url_manifest(const struct pres_context *c, const char *rel);
char *pres_url_media(const struct pres_context *c, const char *rel);

/* Image API identifier of rel (page 0-based; a ";N" suffix when the file has several pages). */
char *pres_image_identifier(const char *rel, int page, int npages);

/*
 * path_resolve() (or path_resolve_folder(), folder) of rel below root_real, which is a local
 * realpath or the name of a remote root ("s3://bkt/pre", storage/root.h): 0 with *abs the
 * file's location (malloc'd: free), or -1 with err (404 when there is no such file).
 */
int pres_resolve(const char *root_real, const char *rel, const char *const *extensions,
		 bool folder, char **abs, struct iiifd_error *err);

/* "a/b" + "c" -> "a/b/c"; "" + "c" -> "c". g_free the result. */
char *pres_join(const char *rel, const char *name);

/* Image objects for a service identifier: full/max body, and a thumbnail within 200 px. */
json_t *pres_image_body(const struct pres_context *c, const char *identifier, int64_t width,
			int64_t height);
json_t *pres_thumbnail(const struct pres_context *c, const char *identifier, int64_t width,
		       int64_t height);

#endif
