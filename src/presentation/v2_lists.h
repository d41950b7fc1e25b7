/*
 * v2_lists.h: a Canvas's stored annotations as a Presentation 2.1 sc:AnnotationList, the
 * otherContent of a 2.1 Canvas, so viewers that only read 2.1 show OCR, cues and tags too.
 */
#ifndef IIIFD_PRESENTATION_V2_LISTS_H
#define IIIFD_PRESENTATION_V2_LISTS_H

#include <jansson.h>

#include "core/error.h"
#include "db/db.h"
#include "presentation/canvas_index.h"

struct pres_v2_list_request {
	const struct pres_canvas_index *idx; /* of the Manifest (3.0 ids) */
	size_t canvas;                       /* 1-based */
	const char *name;                    /* the page: a motivation or DB_PAGE_WORDS */
	const char *list_id;                 /* this list's 2.1 URL, without a query */
	const char *manifest_v2;             /* the 2.1 Manifest's URL */
	const char *after;                   /* "SEQ.ROWID" of a next link, or NULL */
	int page_size;                       /* annotations in one list; more continue in next */
};

/*
 * The sc:AnnotationList (new reference): resources with their text (cnt:ContentAsText) on the
 * 2.1 Canvas (#xywh or #t), motivation as 2.1 names it, and `next` when more follow. NULL with
 * err: 404 (no such Canvas, or nothing on it), 400 (a malformed after), 500 from the store.
 */
json_t *pres_v2_list(struct db *db, const struct pres_v2_list_request *r,
		     struct iiifd_error *err);

#endif
