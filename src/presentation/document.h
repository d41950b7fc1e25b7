/*
 * document.h: builds the Collection or Manifest a resolved Presentation URL names, in version 3
 * or 2.1 for the origin of the request, and answers with it.
 */
#ifndef IIIFD_PRESENTATION_DOCUMENT_H
#define IIIFD_PRESENTATION_DOCUMENT_H

#include <jansson.h>

#include "core/error.h"
#include "http/message.h"
#include "presentation/target.h"

struct pres_service;

/*
 * The document of t as version (3 or 2) builds it for origin, with its auth services and, for
 * the root Collection, the Change Discovery link. New reference, or NULL with err.
 */
json_t *pres_document_build(const struct pres_service *svc, const char *origin, int version,
			    const struct pres_target *t, struct iiifd_error *err);

/* Answers with doc (borrowed) as a Presentation version document, with presentation-cache-control. */
void pres_document_respond(int version, json_t *doc, const struct http_request *req,
			   struct http_response *resp);

#endif
