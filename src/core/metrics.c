/*
 * metrics.c: one static block of atomics, one writer of the text format. Histograms keep
 * per-bucket (not cumulative) counts so an observation is one increment; the writer adds them
 * up, and derives _count from the same snapshot so that it always equals the +Inf bucket.
 */
#include "core/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "version.h"

#define METRICS_CODES 600 /* status codes 0..599; anything else is counted as 599 */
#define METRICS_LATENCY_N 15
#define METRICS_IMPORT_N 11

const double metrics_latency_bounds[METRICS_LATENCY_N] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};
const size_t metrics_latency_nbounds = METRICS_LATENCY_N;

static const double metrics_import_bounds[METRICS_IMPORT_N] = {
	0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900,
};

/* bucket[i] counts observations in (bound[i-1], bound[i]]; bucket[n] those above the last */
struct metrics_histogram {
	atomic_uint_fast64_t bucket[METRICS_LATENCY_N + 1];
	atomic_uint_fast64_t sum_us;
};

static const char *const metrics_route_names[METRICS_ROUTE_COUNT] = {
	[METRICS_ROUTE_OTHER] = "other",
	[METRICS_ROUTE_TILE] = "tile",
	[METRICS_ROUTE_RENDER] = "render",
	[METRICS_ROUTE_INFO] = "info",
	[METRICS_ROUTE_PRESENTATION] = "presentation",
	[METRICS_ROUTE_SEARCH] = "search",
	[METRICS_ROUTE_ANNOTATIONS] = "annotations",
	[METRICS_ROUTE_MEDIA] = "media",
	[METRICS_ROUTE_WEB] = "web",
	[METRICS_ROUTE_DOWNLOAD] = "download",
};

static const char *const metrics_cache_names[METRICS_CACHE_COUNT] = {
	[METRICS_CACHE_RENDER] = "render",
	[METRICS_CACHE_PYRAMID] = "pyramid",
	[METRICS_CACHE_SOURCE] = "source",
	[METRICS_CACHE_MEDIA_PROBE] = "media_probe",
	[METRICS_CACHE_ANNOTATION_PAGE] = "annotation_page",
	[METRICS_CACHE_CANVAS_INDEX] = "canvas_index",
};

/* the caches that know their size in bytes; the others only count entries */
static const bool metrics_cache_counts_bytes[METRICS_CACHE_COUNT] = {
	[METRICS_CACHE_RENDER] = true,
	[METRICS_CACHE_PYRAMID] = true,
	[METRICS_CACHE_ANNOTATION_PAGE] = true,
};

static const char *const metrics_render_names[] = { "ok", "timeout", "error" };
static const char *const metrics_via_names[METRICS_IMAGE_SOURCE_COUNT] = {
	"passthrough", "edge", "cache", "render",
};
static const char *const metrics_import_names[] = { "ok", "unchanged", "failed" };
static const char *const metrics_class_names[] = { "small", "large" };

static struct {
	atomic_uint_fast64_t requests[METRICS_ROUTE_COUNT][METRICS_CODES];
	struct metrics_histogram latency[METRICS_ROUTE_COUNT];
	atomic_uint_fast64_t cache_hits[METRICS_CACHE_COUNT], cache_misses[METRICS_CACHE_COUNT];
	atomic_int_fast64_t cache_entries[METRICS_CACHE_COUNT], cache_bytes[METRICS_CACHE_COUNT];
	atomic_int admission_waiting[2], admission_running[2];
	atomic_int_fast64_t admission_bytes;
	atomic_uint_fast64_t admission_rejected[2][2]; /* [large][too_large] */
	atomic_uint_fast64_t renders[3], decoded_pixels, output_pixels;
	atomic_uint_fast64_t produced[METRICS_IMAGE_SOURCE_COUNT];
	atomic_uint_fast64_t imports[3], import_records;
	struct metrics_histogram import_duration; /* uses the first METRICS_IMPORT_N + 1 buckets */
	atomic_int import_queue;
	atomic_uint_fast64_t pyramid_builds[2], pyramid_busy;
	atomic_int connections;
	atomic_uint_fast64_t connections_refused, connections_expired;
	atomic_llong start_time_ms;
} metrics;

#define ADD(field, n) atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)
#define GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

/* at load time, so no caller has to remember it */
__attribute__((constructor)) static void metrics_start(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	atomic_store(&metrics.start_time_ms, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
}

static void metrics_observe(struct metrics_histogram *h, const double *bounds, size_t n,
			    double seconds)
{
	size_t i = 0;
	while (i < n && seconds > bounds[i])
		i++;
	ADD(h->bucket[i], 1);
	ADD(h->sum_us, (uint_fast64_t)(seconds > 0 ? seconds * 1e6 + 0.5 : 0));
}

void metrics_request_done(enum metrics_route route, int status, double seconds)
{
	if ((unsigned)route >= METRICS_ROUTE_COUNT)
		route = METRICS_ROUTE_OTHER;
	if (status < 0 || status >= METRICS_CODES)
		status = METRICS_CODES - 1;
	ADD(metrics.requests[route][status], 1);
	metrics_observe(&metrics.latency[route], metrics_latency_bounds, METRICS_LATENCY_N,
			seconds);
}

void metrics_cache_hit(enum metrics_cache cache)
{
	ADD(metrics.cache_hits[cache], 1);
}

void metrics_cache_miss(enum metrics_cache cache)
{
	ADD(metrics.cache_misses[cache], 1);
}

void metrics_cache_size(enum metrics_cache cache, int64_t entries, int64_t bytes)
{
	atomic_store_explicit(&metrics.cache_entries[cache], entries, memory_order_relaxed);
	atomic_store_explicit(&metrics.cache_bytes[cache], bytes, memory_order_relaxed);
}

void metrics_admission_waiting(bool large, int delta)
{
	ADD(metrics.admission_waiting[large], delta);
}

void metrics_admission_running(bool large, int delta, int64_t bytes)
{
	ADD(metrics.admission_running[large], delta);
	ADD(metrics.admission_bytes, delta < 0 ? -bytes : bytes);
}

void metrics_admission_rejected(bool large, bool too_large)
{
	ADD(metrics.admission_rejected[large][too_large], 1);
}

void metrics_render_done(enum metrics_render_result result, int64_t decoded_pixels,
			 int64_t output_pixels)
{
	ADD(metrics.renders[result], 1);
	ADD(metrics.decoded_pixels, (uint_fast64_t)(decoded_pixels > 0 ? decoded_pixels : 0));
	ADD(metrics.output_pixels, (uint_fast64_t)(output_pixels > 0 ? output_pixels : 0));
}

void metrics_image_produced(enum metrics_image_source via)
{
	ADD(metrics.produced[via], 1);
}

void metrics_import_done(enum metrics_import_result result, int64_t records, double seconds)
{
	ADD(metrics.imports[result], 1);
	ADD(metrics.import_records, (uint_fast64_t)(records > 0 ? records : 0));
	metrics_observe(&metrics.import_duration, metrics_import_bounds, METRICS_IMPORT_N, seconds);
}

void metrics_import_queued(int delta)
{
	ADD(metrics.import_queue, delta);
}

void metrics_pyramid_build(enum metrics_pyramid_result result)
{
	if (result == METRICS_PYRAMID_BUSY)
		ADD(metrics.pyramid_busy, 1);
	else
		ADD(metrics.pyramid_builds[result == METRICS_PYRAMID_FAILED], 1);
}

void metrics_connections(int delta)
{
	ADD(metrics.connections, delta);
}

void metrics_connection_refused(void)
{
	ADD(metrics.connections_refused, 1);
}

void metrics_connections_expired(int n)
{
	ADD(metrics.connections_expired, (uint_fast64_t)n);
}

/* ---- the exposition ------------------------------------------------------------------- */

static void metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric with one unlabelled series: its HELP, TYPE and value. */
static void metrics_scalar(FILE *f, const char *name, const char *type, const char *help,
			   long long value)
{
	metrics_head(f, name, type, help);
	fprintf(f, "%s %lld\n", name, value);
}

/* One histogram series; label is "" or `route="tile",` (with the trailing comma). */
static void metrics_histogram_write(FILE *f, const char *name, const char *label,
				    const struct metrics_histogram *h, const double *bounds,
				    size_t n)
{
	uint_fast64_t cumulative = 0;
	for (size_t i = 0; i <= n; i++) {
		cumulative += GET(h->bucket[i]);
		if (i < n)
			fprintf(f, "%s_bucket{%sle=\"%g\"} %llu\n", name, label, bounds[i],
				(unsigned long long)cumulative);
		else
			fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, label,
				(unsigned long long)cumulative);
	}
	size_t bare = label[0] ? strlen(label) - 1 : 0; /* without the trailing comma */
	fprintf(f, "%s_sum%s%.*s%s %.6f\n", name, bare ? "{" : "", (int)bare, label,
		bare ? "}" : "", (double)GET(h->sum_us) / 1e6);
	fprintf(f, "%s_count%s%.*s%s %llu\n", name, bare ? "{" : "", (int)bare, label,
		bare ? "}" : "", (unsigned long long)cumulative);
}

static void metrics_write_http(FILE *f)
{
	metrics_head(f, "iiifd_http_requests_total", "counter",
		     "HTTP requests answered, by route family and status code.");
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++)
		for (int c = 0; c < METRICS_CODES; c++) {
			uint_fast64_t n = GET(metrics.requests[r][c]);
			if (n)
				fprintf(f, "iiifd_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
					metrics_route_names[r], c, (unsigned long long)n);
		}
	metrics_head(f, "iiifd_http_request_duration_seconds", "histogram",
		     "Time from a request's headers being in to its response being ready to send.");
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++) {
		char label[48];
		snprintf(label, sizeof label, "route=\"%s\",", metrics_route_names[r]);
		metrics_histogram_write(f, "iiifd_http_request_duration_seconds", label,
					&metrics.latency[r], metrics_latency_bounds,
					METRICS_LATENCY_N);
	}
	metrics_scalar(f, "iiifd_http_open_connections", "gauge", "Client connections open now.",
		       (long long)GET(metrics.connections));
	metrics_scalar(f, "iiifd_http_connections_refused_total", "counter",
		     "Connections refused at accept: the client held max-connections-per-client.",
		       (long long)GET(metrics.connections_refused));
	metrics_scalar(f, "iiifd_http_connections_expired_total", "counter",
		     "Connections closed for passing a header, body or keep-alive deadline.",
		       (long long)GET(metrics.connections_expired));
}

/* The per-cache series; bytes only for the caches that count them. */
static void metrics_write_caches(FILE *f)
{
	static const struct {
		const char *name, *type, *help;
	} series[] = {
		{ "iiifd_cache_hits_total", "counter", "Cache lookups that found a current entry." },
		{ "iiifd_cache_misses_total", "counter", "Cache lookups that found nothing current." },
		{ "iiifd_cache_entries", "gauge", "Entries in the cache now." },
		{ "iiifd_cache_bytes", "gauge", "Bytes the cache holds now (caches that count them)." },
	};
	for (size_t s = 0; s < sizeof series / sizeof series[0]; s++) {
		metrics_head(f, series[s].name, series[s].type, series[s].help);
		for (int c = 0; c < METRICS_CACHE_COUNT; c++) {
			long long v = s == 0   ? (long long)GET(metrics.cache_hits[c])
				      : s == 1 ? (long long)GET(metrics.cache_misses[c])
				      : s == 2 ? (long long)GET(metrics.cache_entries[c])
					       : (long long)GET(metrics.cache_bytes[c]);
			if (s < 3 || metrics_cache_counts_bytes[c])
				fprintf(f, "%s{cache=\"%s\"} %lld\n", series[s].name,
					metrics_cache_names[c], v);
		}
	}
}

static void metrics_write_admission(FILE *f)
{
	metrics_head(f, "iiifd_admission_waiting", "gauge",
		     "Renders and searches waiting for a slot, by size class.");
	for (int l = 0; l < 2; l++)
		fprintf(f, "iiifd_admission_waiting{class=\"%s\"} %d\n", metrics_class_names[l],
			GET(metrics.admission_waiting[l]));
	metrics_head(f, "iiifd_admission_running", "gauge",
		     "Renders and searches holding a slot, by size class.");
	for (int l = 0; l < 2; l++)
		fprintf(f, "iiifd_admission_running{class=\"%s\"} %d\n", metrics_class_names[l],
			GET(metrics.admission_running[l]));
	metrics_scalar(f, "iiifd_admission_memory_bytes", "gauge",
		     "Estimated decode memory held by running renders (of memory-budget-mb).",
		       (long long)GET(metrics.admission_bytes));
	metrics_head(f, "iiifd_admission_rejected_total", "counter",
		     "Requests refused by admission control: busy (503 after queue-wait-ms) or "
		     "too_large (400, more than the memory budget).");
	for (int l = 0; l < 2; l++)
		for (int t = 0; t < 2; t++)
			fprintf(f, "iiifd_admission_rejected_total{class=\"%s\",reason=\"%s\"} %llu\n",
				metrics_class_names[l], t ? "too_large" : "busy",
				(unsigned long long)GET(metrics.admission_rejected[l][t]));
}

static void metrics_write_images(FILE *f)
{
	metrics_head(f, "iiifd_image_responses_total", "counter",
		     "Image bytes produced, by how: stored tile, edge crop, render cache, render.");
	for (int v = 0; v < METRICS_IMAGE_SOURCE_COUNT; v++)
		fprintf(f, "iiifd_image_responses_total{via=\"%s\"} %llu\n", metrics_via_names[v],
			(unsigned long long)GET(metrics.produced[v]));
	metrics_head(f, "iiifd_image_renders_total", "counter", "Renders finished, by result.");
	for (int r = 0; r < 3; r++)
		fprintf(f, "iiifd_image_renders_total{result=\"%s\"} %llu\n",
			metrics_render_names[r], (unsigned long long)GET(metrics.renders[r]));
	metrics_scalar(f, "iiifd_image_decoded_pixels_total", "counter",
		     "Source pixels decoded by successful renders (at the resolution level read).",
		       (long long)GET(metrics.decoded_pixels));
	metrics_scalar(f, "iiifd_image_output_pixels_total", "counter",
		     "Pixels of the images successful renders produced.",
		       (long long)GET(metrics.output_pixels));
}

static void metrics_write_imports(FILE *f)
{
	metrics_head(f, "iiifd_annotation_imports_total", "counter",
		     "Annotation files imported (ok), found current (unchanged) or refused (failed).");
	for (int r = 0; r < 3; r++)
		fprintf(f, "iiifd_annotation_imports_total{result=\"%s\"} %llu\n",
			metrics_import_names[r], (unsigned long long)GET(metrics.imports[r]));
	metrics_scalar(f, "iiifd_annotation_import_records_total", "counter",
		     "Annotations stored by imports.",
		       (long long)GET(metrics.import_records));
	metrics_head(f, "iiifd_annotation_import_duration_seconds", "histogram",
		     "Time one annotation file import took (parse and store).");
	metrics_histogram_write(f, "iiifd_annotation_import_duration_seconds", "",
				&metrics.import_duration, metrics_import_bounds, METRICS_IMPORT_N);
	metrics_scalar(f, "iiifd_annotation_import_queue", "gauge",
		     "Annotation files waiting for the background importer.",
		       (long long)GET(metrics.import_queue));
}

static void metrics_write_pyramids(FILE *f)
{
	metrics_head(f, "iiifd_pyramid_builds_total", "counter",
		     "Background pyramids this process built (ok) or failed to build (failed).");
	for (int r = 0; r < 2; r++)
		fprintf(f, "iiifd_pyramid_builds_total{result=\"%s\"} %llu\n", r ? "failed" : "ok",
			(unsigned long long)GET(metrics.pyramid_builds[r]));
	metrics_scalar(f, "iiifd_pyramid_claims_busy_total", "counter",
		       "Pyramid builds found claimed by another node or process, left to it.",
		       (long long)GET(metrics.pyramid_busy));
}

/* Resident pages (second field of statm) times the page size; -1 when unreadable. */
static long long metrics_rss(const char *statm_path)
{
	FILE *f = fopen(statm_path, "re");
	long long size, resident;
	int n = f ? fscanf(f, "%lld %lld", &size, &resident) : 0;
	if (f)
		fclose(f);
	return n == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
}

static void metrics_write_process(FILE *f, const char *statm_path)
{
	metrics_head(f, "iiifd_build_info", "gauge", "Always 1; the labels say which build runs.");
	fprintf(f, "iiifd_build_info{version=\"%s\"} 1\n", IIIFD_VERSION);
	metrics_head(f, "process_start_time_seconds", "gauge",
		     "When the server started, in seconds since the Unix epoch.");
	fprintf(f, "process_start_time_seconds %.3f\n",
		(double)atomic_load(&metrics.start_time_ms) / 1e3);
	long long rss = metrics_rss(statm_path);
	if (rss >= 0) {
		metrics_head(f, "process_resident_memory_bytes", "gauge",
			     "Resident memory of the server process (from /proc/self/statm).");
		fprintf(f, "process_resident_memory_bytes %lld\n", rss);
	}
}

char *metrics_exposition(const char *statm_path, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	if (!f)
		return NULL;
	metrics_write_process(f, statm_path);
	metrics_write_http(f);
	metrics_write_caches(f);
	metrics_write_admission(f);
	metrics_write_images(f);
	metrics_write_imports(f);
	metrics_write_pyramids(f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*len = n;
	return text;
}
