/*
 * metrics.h: the server's counters, gauges and histograms, declared once with fixed label sets,
 * updated with relaxed C11 atomics (no lock, no allocation: cheap enough for every tile) and
 * written out in the Prometheus text exposition format 0.0.4. See docs/metrics.md.
 */
#ifndef IIIFD_CORE_METRICS_H
#define IIIFD_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The family a request is counted under; 0 (other) is what a zeroed response says. */
enum metrics_route {
	METRICS_ROUTE_OTHER = 0, /* /, /health, /ready, /metrics, unknown paths, refused framing */
	METRICS_ROUTE_TILE,      /* an Image API request for one advertised tile */
	METRICS_ROUTE_RENDER,    /* any other Image API image request */
	METRICS_ROUTE_INFO,      /* info.json, and the bare identifier's redirect to it */
	METRICS_ROUTE_PRESENTATION, /* Collections, Manifests and their parts */
	METRICS_ROUTE_SEARCH,    /* Content Search and autocomplete */
	METRICS_ROUTE_ANNOTATIONS, /* Canvas AnnotationPages, the annotation containers (write API) */
	METRICS_ROUTE_MEDIA,     /* /iiif/media/ files */
	METRICS_ROUTE_WEB,       /* the HTML interface and its assets */
	METRICS_ROUTE_DOWNLOAD,  /* files made on demand for readers: /pdf/ Manifest PDFs */
	METRICS_ROUTE_COUNT,
};

enum metrics_cache {
	METRICS_CACHE_RENDER,      /* rendered images on disk (image/derivative_cache.c) */
	METRICS_CACHE_PYRAMID,     /* background-built pyramids on disk (image/pyramid_queue.c) */
	METRICS_CACHE_SOURCE,      /* probed images in memory (image/source_cache.c) */
	METRICS_CACHE_MEDIA_PROBE, /* probed audio/video in memory (media/probe_cache.c) */
	METRICS_CACHE_ANNOTATION_PAGE, /* serialised AnnotationPages (annotation/page_cache.c) */
	METRICS_CACHE_CANVAS_INDEX, /* Canvas lists of Manifests (presentation/canvas_index.c) */
	METRICS_CACHE_COUNT,
};

enum metrics_render_result { METRICS_RENDER_OK, METRICS_RENDER_TIMEOUT, METRICS_RENDER_ERROR };

/* How an image request's bytes were produced (image/service.c). */
enum metrics_image_source {
	METRICS_IMAGE_PASSTHROUGH, /* a stored JPEG tile, sent as it is */
	METRICS_IMAGE_EDGE,        /* an edge tile cropped from a stored one */
	METRICS_IMAGE_CACHED,      /* from the render cache */
	METRICS_IMAGE_RENDERED,    /* decoded and encoded now */
	METRICS_IMAGE_SOURCE_COUNT,
};

enum metrics_import_result { METRICS_IMPORT_OK, METRICS_IMPORT_UNCHANGED, METRICS_IMPORT_FAILED };

/* A request answered with status after seconds (headers in to response ready). */
void metrics_request_done(enum metrics_route route, int status, double seconds);

void metrics_cache_hit(enum metrics_cache cache);
void metrics_cache_miss(enum metrics_cache cache);
/* The cache's current size: entries, and bytes (ignored for caches that do not count them). */
void metrics_cache_size(enum metrics_cache cache, int64_t entries, int64_t bytes);

/* Admission control (image/admission.c): line length and running renders change by delta. */
void metrics_admission_waiting(bool large, int delta);
void metrics_admission_running(bool large, int delta, int64_t bytes);
/* A render refused: too_large for a request that can never fit (400), else busy (503). */
void metrics_admission_rejected(bool large, bool too_large);

/* A render finished: pixels decoded from the source (at the level read) and pixels sent. */
void metrics_render_done(enum metrics_render_result result, int64_t decoded_pixels,
			 int64_t output_pixels);
void metrics_image_produced(enum metrics_image_source via);

/* One annotation file import (records stored; seconds it took). */
void metrics_import_done(enum metrics_import_result result, int64_t records, double seconds);
void metrics_import_queued(int delta);

/*
 * Background pyramids (image/pyramid_queue.c): a build this process did (ok or failed), or a
 * build it found claimed by another node or process (busy; that one builds it).
 */
enum metrics_pyramid_result { METRICS_PYRAMID_OK, METRICS_PYRAMID_FAILED, METRICS_PYRAMID_BUSY };
void metrics_pyramid_build(enum metrics_pyramid_result result);

/* Connections (http/guard.c). */
void metrics_connections(int delta);
void metrics_connection_refused(void);
void metrics_connections_expired(int n);

/*
 * The exposition: every metric with HELP and TYPE lines, the process' resident memory read from
 * statm_path ("/proc/self/statm"). Returns malloc'd text (caller frees) with *len, or NULL when
 * out of memory.
 */
char *metrics_exposition(const char *statm_path, size_t *len);

/* Bucket upper bounds of the request latency histogram, in seconds (for tests and docs). */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_nbounds;

#endif
