/*
 * canvas_index.h: which file and page each Canvas of a Manifest shows, and its size, without
 * building the Manifest: what annotations and search need to turn stored targets (file, page)
 * into Canvas URLs and to check that a written annotation fits its Canvas.
 */
#ifndef IIIFD_PRESENTATION_CANVAS_INDEX_H
#define IIIFD_PRESENTATION_CANVAS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "presentation/context.h"

struct pres_canvas_ref {
	char *file;            /* owned; path below the root */
	int page;              /* 0-based */
	int64_t width, height; /* 0 for audio */
	double duration;       /* 0 for images */
};

struct pres_index_cache;

struct pres_canvas_index {
	char *manifest_id;     /* owned; URL of the Manifest */
	struct pres_canvas_ref *items; /* owned; Canvas n is items[n - 1] */
	size_t count;
};

/*
 * Indexes the Canvases of the Manifest rel (a folder of pages, or one file), numbered exactly as
 * pres_manifest_build() numbers them. 404 when rel is not a Manifest.
 */
int pres_canvas_index_build(const struct pres_context *c, const char *rel, bool is_folder,
			    struct pres_canvas_index *out, struct iiifd_error *err);
void pres_canvas_index_release(struct pres_canvas_index *idx);

/*
 * Indexes are kept for reuse across requests: an entry is used while the Manifest's folder has
 * the same modification time (files added, removed or renamed change it) and for at most
 * PRES_INDEX_TTL seconds (a file replaced in place is seen after that). Thread-safe.
 */
#define PRES_INDEX_TTL 10
struct pres_index_cache *pres_index_cache_new(void);
void pres_index_cache_free(struct pres_index_cache *cache);

/* The 1-based Canvas number showing file/page, or 0. */
size_t pres_canvas_index_find(const struct pres_canvas_index *idx, const char *file, int page);

/* The Manifest (path below the root) that file belongs to, and whether it is a folder (g_free). */
char *pres_manifest_of_file(const char *root_real, const char *file, bool *is_folder);

#endif
