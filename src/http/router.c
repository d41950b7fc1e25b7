/*
 * router.c: path prefix dispatch. Areas receive the rest of the raw path after their prefix.
 */
#include "http/router.h"

#include <stdbool.h>
#include <string.h>

#include "annotation/api.h"
#include "annotation/webanno.h"
#include "auth/pages.h"
#include "core/config_live.h"
#include "contentstate/content_state.h"
#include "core/metrics.h"
#include "http/ops.h"
#include "web/viewer.h"
#include "web/pdf_download.h"
#include "version.h"
#include "web/service.h"

static const char *router_strip(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

/*
 * A fixed list, never the client's own Access-Control-Request-Headers: Authorization for IIIF
 * auth probes and the write API, the validators and Range for viewers.
 */
#define ROUTER_ALLOW_HEADERS                                                                    \
	"Accept, Accept-Language, Authorization, Content-Type, If-Match, If-None-Match, "      \
	"If-Modified-Since, Range"

static void router_preflight(struct http_response *resp)
{
	resp->status = 204;
	http_response_header(resp, "Access-Control-Allow-Methods",
			     "GET, HEAD, OPTIONS, POST, PUT, DELETE");
	http_response_header(resp, "Access-Control-Allow-Headers", ROUTER_ALLOW_HEADERS);
	http_response_header(resp, "Access-Control-Max-Age", "86400");
	http_response_header(resp, "Allow", "GET, HEAD, OPTIONS, POST, PUT, DELETE");
}

static void router_json(struct http_response *resp, const char *json)
{
	http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Cache-Control", "no-store");
	http_response_body(resp, (void *)json, strlen(json), NULL);
}

/* The answers made from memory, fine on the I/O thread: health, preflight, static documents. */
static bool router_is_inline(const struct http_request *req)
{
	return strcmp(req->method, "OPTIONS") == 0 || strcmp(req->path, "/health") == 0 ||
	       strcmp(req->path, "/") == 0 || strcmp(req->path, WEBANNO_CONTEXT_PATH) == 0;
}

/* Image API requests may be answered on the I/O thread when cheap (image_service_handle). */
static bool router_may_try_inline(const struct http_request *req)
{
	return router_is_inline(req) || router_strip(req->path, "/iiif/3/") ||
	       router_strip(req->path, "/iiif/2/") || web_service_is_inline(req);
}

int router_body_check(void *ctx, const struct http_request *req, size_t *max_body,
		      struct iiifd_error *err)
{
	if (strcmp(req->method, "POST") == 0 && router_strip(req->path, "/auth/access/")) {
		*max_body = AUTH_FORM_MAX_BODY; /* the login and terms forms */
		return 0;
	}
	const char *rest = router_strip(req->path, "/iiif/presentation/");
	if (strcmp(req->method, "POST") == 0 && router_strip(req->path, "/viewer/")) {
		/* a content state posted to a viewer page (§3.2), %-encoded when a form */
		*max_body = CONTENT_STATE_MAX * 3 + 64;
		return 0;
	}
	if ((strcmp(req->method, "POST") != 0 && strcmp(req->method, "PUT") != 0) || !rest)
		return iiifd_error_set(err, 405, "%s requests take no body here", req->method);
	if (!strstr(rest, "/annotations"))
		return iiifd_error_set(err, 404, "nothing at this path takes a body");
	char who[128];
	int rc = anno_api_authorise(config_live_now()->api_token, req, NULL, who, sizeof who, err);
	*max_body = ANNO_API_MAX_BODY;
	return rc;
}

/* The access, token and logout services (auth/pages.h); false when none is at this path. */
static bool router_auth(struct router *router, const struct http_request *req,
			struct http_response *resp)
{
	char origin[900];
	const struct iiifd_config *cfg = config_live_now();
	http_request_base_url(req, cfg->public_url, cfg->trust_forwarded,
			      router->image.fallback_host, origin, sizeof origin);
	return auth_pages_handle(router->auth, origin, req, resp);
}

void router_handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct router *router = ctx;
	struct iiifd_error err = { 0 };
	const char *rest;
	if (ops_listener_refuses(req, resp))
		return;
	if (req->on_event_loop && !router_may_try_inline(req))
		return http_response_defer(resp);
	const char *host = http_request_header(req, "Host");
	if (host && !http_host_is_valid(host)) {
		iiifd_error_set(&err, 400, "invalid Host header");
		return http_response_error(resp, &err);
	}
	if (strcmp(req->method, "OPTIONS") == 0)
		return router_preflight(resp);
	bool reading = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool writing = strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
		       strcmp(req->method, "DELETE") == 0;
	/*
	 * only the annotation containers below /iiif/presentation/ take writes; viewer pages take a
	 * content state by POST, the access service its login and terms forms
	 */
	bool posting_state = strcmp(req->method, "POST") == 0 && router_strip(req->path, "/viewer/");
	bool form = strcmp(req->method, "POST") == 0 && router_strip(req->path, "/auth/access/");
	if (!reading && !posting_state && !form &&
	    !(writing && router_strip(req->path, "/iiif/presentation/"))) {
		http_response_header(resp, "Allow", "GET, HEAD, OPTIONS");
		iiifd_error_set(&err, 405, "method %s is not allowed here", req->method);
		return http_response_error(resp, &err);
	}
	if (strcmp(req->path, "/metrics") == 0)
		return ops_metrics(router->presentation.cfg, req, resp);
	if (strcmp(req->path, "/ready") == 0)
		return ops_ready(&router->presentation, req, resp);
	if (strcmp(req->path, "/health") == 0)
		return router_json(resp, "{\"status\":\"ok\",\"version\":\"" IIIFD_VERSION "\"}\n");
	/* the HTML interface: its own URLs, / and the Presentation URLs for browsers (web/) */
	if (web_service_handle(&router->presentation, req, resp))
		return (void)(resp->route = METRICS_ROUTE_WEB);
	if (strcmp(req->path, "/") == 0)
		return http_response_header(resp, "Vary", "Accept"), router_json(resp, "{\"service\":\"iiifd\",\"version\":\"" IIIFD_VERSION
					 "\",\"image\":[\"/iiif/3/{identifier}/info.json\","
					 "\"/iiif/2/{identifier}/info.json\"],"
					 "\"presentation\":\"/iiif/presentation/collection\"}\n");
	if (strcmp(req->path, WEBANNO_CONTEXT_PATH) == 0) {
		http_response_header(resp, "Content-Type", "application/ld+json");
		http_response_header(resp, "Cache-Control", "public, max-age=86400");
		return http_response_body(resp, (void *)webanno_context_document,
					  strlen(webanno_context_document), NULL);
	}
	if ((rest = router_strip(req->path, "/auth/2/probe/media/")))
		return pres_media_probe(&router->presentation, rest, req, resp);
	if ((rest = router_strip(req->path, "/auth/2/probe/")))
		return image_service_probe(&router->image, rest, req, resp);
	if (router_strip(req->path, "/auth/") && router_auth(router, req, resp))
		return;
	if ((rest = router_strip(req->path, "/iiif/3/")))
		return image_service_handle(&router->image, IMAGE_API_V3, rest, req, resp);
	if ((rest = router_strip(req->path, "/iiif/2/")))
		return image_service_handle(&router->image, IMAGE_API_V2, rest, req, resp);
	if ((rest = router_strip(req->path, "/iiif/discovery/activity/")))
		return discovery_service_handle(&router->discovery, &router->presentation, rest,
						req, resp);
	if ((rest = router_strip(req->path, "/iiif/presentation/")))
		return pres_service_handle(&router->presentation, 3, rest, req, resp);
	if ((rest = router_strip(req->path, "/iiif/presentation-v2/")))
		return pres_service_handle(&router->presentation, 2, rest, req, resp);
	if ((rest = router_strip(req->path, "/iiif/media/")))
		return pres_media_handle(&router->presentation, rest, req, resp);
	if ((rest = router_strip(req->path, "/viewer/")) && (resp->route = METRICS_ROUTE_WEB))
		return web_viewer_handle(router->presentation.cfg, rest, req, resp);
	if ((rest = router_strip(req->path, "/pdf/")) && (resp->route = METRICS_ROUTE_DOWNLOAD))
		return pdf_download_handle(&router->image, &router->presentation, rest, req, resp);
	iiifd_error_set(&err, 404, "nothing is served at this path");
	http_response_error(resp, &err);
}
