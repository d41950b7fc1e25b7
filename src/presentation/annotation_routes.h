/*
 * annotation_routes.h: the annotation and search endpoints below a Presentation Collection or
 * Manifest (Canvas AnnotationPages, the annotation container, Content Search 1.0/2.0 and
 * autocomplete, 2.1 AnnotationLists), and the background import of a folder's annotation files
 * they wait for.
 */
#ifndef IIIFD_PRESENTATION_ANNOTATION_ROUTES_H
#define IIIFD_PRESENTATION_ANNOTATION_ROUTES_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"
#include "http/message.h"
#include "presentation/context.h"
#include "presentation/target.h"

struct pres_service;

/*
 * Queues the annotation files of the folder a Manifest lives in for background import, and
 * waits (up to import-wait-ms) for them, so the first visitor already sees OCR and tags.
 * Returns whether the folder's imports are done. svc->ingest must be set.
 */
bool pres_auto_import(const struct pres_service *svc, const struct pres_target *t);

/*
 * Answers t's tail when it names an annotation or search endpoint of a Presentation 3 document
 * (true); false when it names none (then it is a part of the document itself) or annotations
 * are off.
 */
bool pres_annotation_routes(const struct pres_service *svc, const char *origin,
			    const struct pres_target *t, const struct http_request *req,
			    struct http_response *resp);

/* The same for a 2.1 document: its Canvases' AnnotationLists and Search 1.0 / autocomplete. */
bool pres_v2_annotation_routes(const struct pres_service *svc, const char *origin,
			       const struct pres_target *t, const struct http_request *req,
			       struct http_response *resp);

/*
 * The search of kind (annotation/search.h) below t, whose service URL is service, for req,
 * under admission control and leaving out what req may not see. New reference, or NULL with
 * err.
 */
json_t *pres_annotation_search(const struct pres_service *svc, const struct pres_context *c,
			       int kind, const char *service, const struct pres_target *t,
			       const struct http_request *req, struct iiifd_error *err);

#endif
