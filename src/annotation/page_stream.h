/*
 * page_stream.h: a Canvas's AnnotationPage written as it is sent, in constant memory, a batch of
 * records at a time (keyset paging in the store), so that a Canvas with a million annotations
 * costs one page of JSON at a time, not the whole list. Pages hold at most page_size
 * annotations; the rest continues in `next` (Presentation 3.0: next/prev/partOf).
 */
#ifndef IIIFD_ANNOTATION_PAGE_STREAM_H
#define IIIFD_ANNOTATION_PAGE_STREAM_H

#include <stdbool.h>

#include "db/db.h"
#include "http/message.h"
#include "presentation/canvas_index.h"

/* Records fetched per query while streaming. */
#define PAGE_STREAM_BATCH 500

struct page_stream_request {
	const struct pres_canvas_index *idx;
	const char *origin;     /* base URL, for the JSON-LD context */
	size_t canvas;          /* 1-based */
	const char *motivation;
	const char *after;      /* the page's `after` parameter ("SEQ.ROWID"), NULL for page 1 */
	int page_size;
};

/*
 * Answers the AnnotationPage. A page whose records fit one batch is returned as a document
 * (the caller sends and caches it); a longer one is streamed into resp (then NULL is returned
 * and *streamed is set). NULL with err: 404 (no such Canvas, or nothing on it), 400 (a
 * malformed `after`), 500/503 from the store.
 */
json_t *page_stream_answer(struct db *db, const struct page_stream_request *r,
			   struct http_response *resp, bool *streamed, struct iiifd_error *err);

/*
 * The AnnotationCollection the pages of one Canvas and motivation are part of
 * ({page}/collection): label, total, first and last page. NULL with err (404) when empty.
 */
json_t *page_stream_collection(struct db *db, const struct page_stream_request *r,
			       struct iiifd_error *err);

/*
 * The record key an `after` parameter ("SEQ.ROWID", as in a page's next link) names, in *c
 * (unchanged when after is NULL). 400 with err when it is malformed.
 */
int page_stream_parse_after(const char *after, struct db_cursor *c, struct iiifd_error *err);

#endif
