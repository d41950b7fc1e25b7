/*
 * service.h: the Image API area: turns /iiif/{2,3}/... requests into info.json documents,
 * images and redirects, using request (grammar), source (probe), info and pipeline.
 */
#ifndef IIIFD_IMAGE_SERVICE_H
#define IIIFD_IMAGE_SERVICE_H

#include <stdbool.h>

#include "auth/state.h"
#include "core/config.h"
#include "http/message.h"
#include "image/info.h"
#include "image/pyramid_queue.h"
#include "image/pipeline.h"
#include "image/admission.h"
#include "image/derivative_cache.h"
#include "image/request.h"
#include "image/source_cache.h"

struct image_service {
	const char *root_real;  /* borrowed; realpath of the served folder, or a remote root's name */
	struct storage_root *root; /* borrowed; the remote root (storage/root.h), NULL for a folder */
	/*
	 * borrowed: the settings of the start. Those a reload changes (core/config_live.h) are read
	 * from config_live_now() per request; info and encode hold their start values.
	 */
	const struct iiifd_config *cfg;
	struct image_info_options info;
	struct image_encode_options encode;
	char fallback_host[300];
	struct image_source_cache *sources; /* owned */
	struct derivative_cache *derivatives; /* owned; NULL when the disk cache is off */
	struct admission *admission;          /* owned */
	struct pyramid_queue *pyramids;       /* owned; NULL when background pyramids are off */
	struct auth_state *auth;              /* borrowed; NULL = everything public (auth/) */
	struct tile_cache *tiles;             /* owned; decoded source tiles (tile-cache-mb) */
};

/* Prepares svc from cfg (both must outlive it); -1 with err set when it cannot. */
int image_service_init(struct image_service *svc, const struct iiifd_config *cfg,
		       const char *root_real, struct iiifd_error *err);
void image_service_release(struct image_service *svc);

/* The output limits cfg sets (maxHeight defaults to maxWidth). */
void image_service_limits(const struct iiifd_config *cfg, struct image_limits *out);

/* Answers GET/HEAD for the raw path below /iiif/{version}/ (e.g. "a%2Fb.jpg/info.json"). */
void image_service_handle(const struct image_service *svc, enum image_api_version version,
			  const char *path, const struct http_request *req,
			  struct http_response *resp);

/* Answers the Auth 2.0 probe of the image named by the raw identifier (below /auth/2/probe/). */
void image_service_probe(const struct image_service *svc, const char *raw_id,
			 const struct http_request *req, struct http_response *resp);

#endif
