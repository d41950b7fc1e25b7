/*
 * search.h: IIIF Content Search 2.0 and 1.0 (search and autocomplete) over the annotation
 * store, scoped to a Manifest or to every Manifest below a Collection's folder.
 */
#ifndef IIIFD_ANNOTATION_SEARCH_H
#define IIIFD_ANNOTATION_SEARCH_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"
#include "db/db.h"
#include "http/message.h"
#include "presentation/context.h"

enum search_kind { SEARCH_V2, SEARCH_V1, AUTOCOMPLETE_V2, AUTOCOMPLETE_V1 };

/* The service path segment of each kind: "search", "search1", "autocomplete", "autocomplete1". */
const char *search_kind_name(enum search_kind kind);
/* Parses a service path segment; -1 when it is none of them. */
int search_kind_from_name(const char *name);

struct page_cache;

/*
 * Answers one search or autocomplete request. service_url is the service's id (no query);
 * scope is the Manifest's path or, when scope_is_folder, the Collection's folder; exclude
 * (NULL-terminated, may be NULL) the Manifests and folders below it the request may not see. A search
 * without q (or a blank one) restricts nothing: it is paged by key ("after") and its total is
 * counted once per database state, kept in totals (NULL: counted every time).
 * Returns the response document (new reference) or NULL with err (400 for bad parameters,
 * including a malformed %-escape or invalid UTF-8, naming the parameter).
 */
json_t *search_handle(struct db *db, struct page_cache *totals, const struct pres_context *c,
		      enum search_kind kind, const char *service_url, const char *scope,
		      bool scope_is_folder, const char *const *exclude,
		      const struct http_request *req, struct iiifd_error *err);

/* The service blocks (Content Search 2 with Autocomplete 2, and 1.0) for a resource id. */
json_t *search_services(const char *resource_id);

#endif
