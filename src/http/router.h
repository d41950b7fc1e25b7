/*
 * router.h: maps URL paths to the area that answers them (health, Image API 2 and 3,
 * Presentation 3 and 2.1, media files) and answers
 * CORS preflights for all of them.
 */
#ifndef IIIFD_HTTP_ROUTER_H
#define IIIFD_HTTP_ROUTER_H

#include "discovery/service.h"
#include "auth/state.h"
#include "http/message.h"
#include "image/service.h"
#include "presentation/service.h"

struct router {
	struct image_service image;
	struct pres_service presentation;
	struct discovery_service discovery;
	struct auth_state *auth; /* borrowed; access control (auth/) */
};

/* An http_handler_fn; ctx is a struct router. */
void router_handle(void *ctx, const struct http_request *req, struct http_response *resp);

/* An http_body_check_fn: only annotation writes take a body, authorised, up to 1 MiB. */
int router_body_check(void *ctx, const struct http_request *req, size_t *max_body,
		      struct iiifd_error *err);

#endif
