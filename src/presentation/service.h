/*
 * service.h: the Presentation API area (/iiif/presentation/, /iiif/presentation-v2/) and the
 * media files it points at (/iiif/media/). Implemented in service.c (state, readiness),
 * route.c (documents, searches), media_routes.c (media files); annotation_routes.c, document.c
 * and target.c are its parts.
 */
#ifndef IIIFD_PRESENTATION_SERVICE_H
#define IIIFD_PRESENTATION_SERVICE_H

#include "auth/state.h"
#include "core/config.h"
#include "http/message.h"
#include "image/request.h"
#include "image/source_cache.h"
#include "media/probe_cache.h"
#include "presentation/context.h"

struct db;
struct ingest_queue;
struct pres_index_cache;
struct page_cache;
struct admission;

struct pres_service {
	/* borrowed: the settings of the start; per request, read those a reload changes from
	 * config_live_now() (core/config_live.h) */
	const struct iiifd_config *cfg;
	const char *root_real;              /* borrowed */
	struct image_source_cache *sources; /* borrowed (shared with the Image API) */
	struct media_probe_cache *media;    /* owned */
	struct image_limits limits;
	char fallback_host[300];
	struct db *db;                      /* owned; NULL when annotations are off */
	char *db_path;                      /* owned (g_free); the database file */
	unsigned long long db_dev, db_ino;  /* the file db_open() opened, for pres_service_ready() */
	bool db_shared;                     /* a database server (PostgreSQL), not a file */
	struct ingest_queue *ingest;        /* owned; NULL when auto-import is off */
	struct pres_index_cache *indexes;   /* owned */
	struct page_cache *pages;           /* owned; NULL when annotations are off */
	/*
	 * borrowed, set after pres_service_init(): the Image API's, so searches take turns with
	 * renders for the same slots; NULL = searches run unadmitted
	 */
	struct admission *admission;
	/* set after pres_service_init(): the Change Discovery stream runs (root Collection links it) */
	bool activity_stream;
	struct auth_state *auth; /* borrowed, set after pres_service_init(); NULL = all public */
};

/* Prepares svc; cfg, root_real and sources must outlive it. -1 with err when out of memory. */
int pres_service_init(struct pres_service *svc, const struct iiifd_config *cfg,
		      const char *root_real, struct image_source_cache *sources,
		      const struct image_limits *limits, struct iiifd_error *err);
void pres_service_release(struct pres_service *svc);

/* The base URL (scheme, host, any path of public-url) documents of req use, in origin (n). */
void pres_service_origin(const struct pres_service *svc, const struct http_request *req,
			 char *origin, size_t n);

/* The context documents are built in for a request from origin (c borrows from svc). */
void pres_service_context(const struct pres_service *svc, const char *origin,
			  struct pres_context *c);

/*
 * Whether the area can answer: with annotations on, the database file opened at start is still
 * in place (not deleted, moved or replaced) and answers a trivial query. false with a reason
 * for people otherwise. Called concurrently; may wait for the database's busy timeout.
 */
bool pres_service_ready(const struct pres_service *svc, char *reason, size_t n);

/* Answers the raw path below /iiif/presentation/ (version 3) or /iiif/presentation-v2/ (2). */
void pres_service_handle(const struct pres_service *svc, int version, const char *path,
			 const struct http_request *req, struct http_response *resp);

/*
 * For the HTML pages (web/): the Presentation 3 document at path (raw, below
 * /iiif/presentation/, naming a Collection or Manifest itself), built as pres_service_handle()
 * builds it for req's origin; *is_collection says which. New reference, or NULL with err.
 */
json_t *pres_service_document(const struct pres_service *svc, const char *path,
			      const struct http_request *req, bool *is_collection,
			      struct iiifd_error *err);

/*
 * Content Search 2.0 within the document at path, answered from req's q and page as its
 * /search service answers them (admission included). New reference, or NULL with err (404
 * when annotations are off).
 */
json_t *pres_service_search(const struct pres_service *svc, const char *path,
			    const struct http_request *req, struct iiifd_error *err);

/* Answers the raw path below /iiif/media/: audio, video and WebVTT files, with byte ranges. */
void pres_media_handle(const struct pres_service *svc, const char *path,
		       const struct http_request *req, struct http_response *resp);

/* The Auth 2.0 probe of the media file at the raw path below /auth/2/probe/media/. */
void pres_media_probe(const struct pres_service *svc, const char *path,
		      const struct http_request *req, struct http_response *resp);

#endif
