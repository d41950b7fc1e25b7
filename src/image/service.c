/*
 * service.c: the Image API endpoints. Order per request: split and decode the path, parse the
 * parameters, resolve the identifier under the root, probe, then answer 304 before any decoding.
 */
#include "image/service.h"

#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/gate.h"
#include "core/config_live.h"
#include "core/metrics.h"
#include "core/path.h"
#include "core/strings.h"
#include "image/degraded.h"
#include "image/ht_guard.h"
#include "image/passthrough.h"
#include "image/render_tiff.h"
#include "media/derived.h"
#include "media/probe.h"

#define SERVICE_MAX_SEGMENTS 6
#define SERVICE_SEGMENT_MAX (PATH_IDENTIFIER_MAX * 3 + 1)

struct service_target {
	char identifier[SERVICE_SEGMENT_MAX]; /* decoded */
	char encoded[SERVICE_SEGMENT_MAX];    /* re-encoded for URLs we emit */
	char base[1024];                      /* e.g. https://host/iiif/3 */
	const struct image_source *src;       /* held from svc->sources until the end */
	bool on_event_loop; /* answering on the I/O thread: cached sources only, no decoding */
	char origin[900];                     /* the server's base URL */
	char policy_path[PATH_MAX];           /* the resolved file whose policy applies: no folder */
	bool degraded;       /* the identifier names the degraded tier (AUTH_DEGRADED_SUFFIX) */
	enum auth_resource policy_kind;       /* a media file's stills follow its media policy */
	struct auth_gate gate;                /* this request's access decision */
};

void image_service_limits(const struct iiifd_config *cfg, struct image_limits *out)
{
	out->max_width = cfg->max_width;
	/* the spec lets clients assume maxHeight = maxWidth when only maxWidth is given */
	out->max_height = cfg->max_height ? cfg->max_height : cfg->max_width;
	out->max_area = cfg->max_area;
	out->max_upscale = cfg->max_upscale;
}

/*
 * svc's Image API options with the settings a reload may change taken from this request's config
 * (config_live_now()); svc->info and svc->encode keep those of the start.
 */
static struct image_info_options service_info_now(const struct image_service *svc)
{
	const struct iiifd_config *cfg = config_live_now();
	struct image_info_options info = svc->info;
	image_service_limits(cfg, &info.limits);
	info.default_tile_size = cfg->tile_size;
	info.rights = cfg->rights;
	return info;
}

static struct image_encode_options service_encode_now(const struct image_service *svc)
{
	struct image_encode_options opt = svc->encode;
	opt.jpeg_quality = config_live_now()->jpeg_quality;
	opt.webp_quality = config_live_now()->webp_quality;
	return opt;
}

/* HTJ2K files checked in a child process before the server decodes them (ht_guard.h). */
static int service_start_ht_guard(const struct iiifd_config *cfg, struct iiifd_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/htj2k-checked", cfg->cache_dir);
	struct ht_guard_options opt = ht_guard_defaults(dir, cfg->request_timeout);
	return ht_guard_start(&opt, err);
}

int image_service_init(struct image_service *svc, const struct iiifd_config *cfg,
		       const char *root_real, struct iiifd_error *err)
{
	memset(svc, 0, sizeof *svc);
	svc->root_real = root_real;
	svc->root = storage_root_of(root_real); /* NULL for a folder: path_resolve() as always */
	svc->cfg = cfg;
	image_service_limits(cfg, &svc->info.limits);
	svc->info.default_tile_size = cfg->tile_size;
	svc->info.rights = cfg->rights;
	for (int f = 0; f < IMAGE_FORMAT_COUNT; f++)
		if (image_pipeline_can_encode(f))
			svc->info.formats |= 1u << f;
	svc->encode.jpeg_quality = cfg->jpeg_quality;
	svc->encode.webp_quality = cfg->webp_quality;
	snprintf(svc->fallback_host, sizeof svc->fallback_host, "%s:%d", cfg->host, cfg->port);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	cores = cores > 0 ? cores : 2;
	svc->sources = image_source_cache_new((size_t)cfg->source_cache_entries);
	svc->tiles = tile_cache_new((size_t)cfg->tile_cache_mb << 20);
	svc->encode.tiles = svc->tiles;
	svc->encode.direct = cfg->direct_render;
	svc->admission = admission_new(cfg->threads ? cfg->threads : (int)cores * 2,
				       cfg->large_renders ? cfg->large_renders
							  : (int)(cores > 1 ? cores / 2 : 1),
				       cfg->memory_budget_mb << 20);
	if (cfg->pyramid_threshold_mp > 0) {
		char dir[PATH_MAX];
		if (cfg->pyramid_dir && *cfg->pyramid_dir)
			snprintf(dir, sizeof dir, "%s", cfg->pyramid_dir);
		else
			snprintf(dir, sizeof dir, "%s/pyramids", cfg->cache_dir);
		svc->pyramids = pyramid_queue_new(dir, cfg->pyramid_threshold_mp * 1000000, 256, 90,
						  cfg->pyramid_cache_size_mb << 20);
	}
	if (!svc->sources || !svc->admission || !svc->tiles ||
	    (cfg->pyramid_threshold_mp > 0 && !svc->pyramids)) {
		image_service_release(svc);
		return iiifd_error_set(err, 500, "out of memory");
	}
	if (cfg->htj2k_check && service_start_ht_guard(cfg, err) < 0) {
		image_service_release(svc);
		return -1;
	}
	if (cfg->cache) {
		svc->derivatives = derivative_cache_open(cfg->cache_dir,
							 cfg->cache_size_mb << 20, err);
		if (!svc->derivatives) {
			image_service_release(svc);
			return -1;
		}
	}
	return 0;
}

void image_service_release(struct image_service *svc)
{
	ht_guard_stop();
	image_source_cache_free(svc->sources);
	svc->sources = NULL;
	derivative_cache_close(svc->derivatives);
	svc->derivatives = NULL;
	admission_free(svc->admission);
	svc->admission = NULL;
	pyramid_queue_free(svc->pyramids);
	svc->pyramids = NULL;
	tile_cache_free(svc->tiles);
	svc->tiles = NULL;
}

/* Renders under admission control and the request time limit. */
static int service_render(const struct image_service *svc, const struct image_source *src,
			  const struct image_request *ir, const struct image_geometry *g,
			  const char *client, void **body, size_t *len, struct iiifd_error *err)
{
	const struct iiifd_config *cfg = config_live_now();
	bool large = g->out_w * g->out_h > cfg->large_output_pixels;
	int64_t bytes = image_pipeline_estimate_bytes(src, ir, g);
	if (image_source_ready(src, err) < 0) /* before taking a render slot */
		return -1;
	if (admission_enter(svc->admission, large, bytes, cfg->queue_wait_ms, client, err) < 0)
		return -1;
	struct image_encode_options opt = service_encode_now(svc);
	opt.deadline_us = g_get_monotonic_time() + (int64_t)cfg->request_timeout * 1000000;
	int rc = image_pipeline_render(src, ir, g, &opt, body, len, err);
	admission_leave(svc->admission, large, bytes, client);
	return rc;
}

/* Everything the bytes of a rendered image depend on besides the source path. */
static void service_variant(const struct image_service *svc, const struct image_source *src,
			    const char *canonical, char *out, size_t n)
{
	struct image_encode_options enc = service_encode_now(svc);
	char version[160];
	snprintf(out, n, "%s|%s|%d|q%d|w%d", canonical,
		 image_source_version(src, version, sizeof version), src->page, enc.jpeg_quality,
		 enc.webp_quality);
}

/* The source to take pixels from: a background-built pyramid when one is ready. Hold it. */
static const struct image_source *service_pixels(const struct image_service *svc,
						 const struct image_source *src)
{
	if (!pyramid_queue_wants(svc->pyramids, src))
		return NULL;
	char *pyramid = pyramid_queue_lookup(svc->pyramids, src);
	if (!pyramid)
		return NULL;
	const struct image_source *p = image_source_cache_get(svc->sources, pyramid, 0, NULL);
	free(pyramid);
	return p;
}

/*
 * Produces the image bytes: stored tile, cached derivative, or a fresh render (then cached).
 * src names the image (cache keys); pixels, when not NULL, is where to read it from instead.
 * The Server-Timing header says which path answered, for operators and tests.
 */
static int service_produce(const struct image_service *svc, const struct image_source *src,
			   const struct image_source *pixels, const struct image_request *ir,
			   const struct image_geometry *g, const char *canonical,
			   const struct http_request *req, struct http_response *resp,
			   struct iiifd_error *err)
{
	void *body;
	size_t len;
	char variant[1024];
	const struct image_source *from = pixels ? pixels : src;
	int64_t start = g_get_monotonic_time();
	if (image_passthrough(from, ir, g, &body, &len)) {
		metrics_image_produced(METRICS_IMAGE_PASSTHROUGH);
		http_response_header(resp, "Server-Timing", "passthrough");
		http_response_body(resp, body, len, free);
		return 0;
	}
	service_variant(svc, src, canonical, variant, sizeof variant);
	if (derivative_cache_get(svc->derivatives, src->path, variant, &body, &len)) {
		metrics_cache_hit(METRICS_CACHE_RENDER);
		metrics_image_produced(METRICS_IMAGE_CACHED);
		http_response_header(resp, "Server-Timing", "cache");
		http_response_body(resp, body, len, free);
		return 0;
	}
	if (req->on_event_loop) {
		http_response_defer(resp); /* decoding is a worker's job */
		return 0;
	}
	if (svc->derivatives) /* once per request: the I/O thread's look does not count */
		metrics_cache_miss(METRICS_CACHE_RENDER);
	struct image_encode_options enc = service_encode_now(svc);
	bool direct = render_tiff_applies(from, ir, g, &enc); /* edge tiles too (render_tiff.h) */
	if (!direct && image_passthrough_edge(from, ir, g, enc.jpeg_quality, &body, &len)) {
		metrics_image_produced(METRICS_IMAGE_EDGE);
		http_response_header(resp, "Server-Timing", "passthrough;desc=\"edge\"");
		derivative_cache_put(svc->derivatives, src->path, variant, body, len);
		http_response_body(resp, body, len, free);
		return 0;
	}
	if (service_render(svc, from, ir, g, req->client, &body, &len, err) < 0)
		return -1;
	metrics_image_produced(METRICS_IMAGE_RENDERED);
	http_response_header(resp, "Server-Timing", "render;desc=\"%s\";dur=%.1f%s",
			     pixels ? "pyramid" : "original",
			     (double)(g_get_monotonic_time() - start) / 1000.0,
			     direct ? ", direct" : "");
	derivative_cache_put(svc->derivatives, src->path, variant, body, len);
	http_response_body(resp, body, len, g_free);
	return 0;
}

/* The ETag covers what the body depends on: the resource, the URL base, and the file's version. */
static void service_etag(const struct service_target *t, const char *what, char *out, size_t n)
{
	char version[200], file[160];
	snprintf(version, sizeof version, "%s|%d",
		 image_source_version(t->src, file, sizeof file), t->src->page);
	uint64_t h = STRINGS_HASH_SEED;
	h = strings_hash(h, what);
	h = strings_hash(h, t->base);
	h = strings_hash(h, t->encoded);
	h = strings_hash(h, version);
	snprintf(out, n, "\"%016" PRIx64 "\"", h);
}

/*
 * Splits the raw path on '/' in place; returns the number of segments. segs has room for
 * max + 1: with more than max segments, segs[max] is the unsplit rest and max + 1 is returned.
 */
static int service_split(char *path, char **segs, int max)
{
	int n = 0;
	char *p = path;
	for (; n < max; n++) {
		segs[n] = p;
		char *slash = strchr(p, '/');
		if (!slash)
			return n + 1;
		*slash = '\0';
		p = slash + 1;
	}
	segs[max] = p;
	return max + 1; /* more than max */
}

static int service_decode(const char *raw, char *out, size_t n)
{
	return strings_url_decode(raw, strlen(raw), out, n);
}

/* "clip.mp4;poster" / "talk.mp3;waveform": the still image made from a media file. */
static int service_open_derived(const struct image_service *svc, struct service_target *t,
				struct iiifd_error *err)
{
	char *semi = strrchr(t->identifier, ';');
	if (!semi || (strcmp(semi, ";poster") != 0 && strcmp(semi, ";waveform") != 0))
		return -1;
	enum media_derived_kind kind =
		strcmp(semi, ";poster") == 0 ? MEDIA_DERIVED_POSTER : MEDIA_DERIVED_WAVEFORM;
	char *media = NULL, dir[PATH_MAX];
	*semi = '\0';
	/* below a remote root, ffmpeg reads the recording by range (media/probe_io.c) */
	int rc = svc->root ? storage_resolve(svc->root, t->identifier, media_extensions, &media, err)
			   : path_resolve(svc->root_real, t->identifier, media_extensions, &media, err);
	*semi = ';';
	if (rc < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/derived", svc->cfg->cache_dir);
	snprintf(t->policy_path, sizeof t->policy_path, "%s", media);
	t->policy_kind = AUTH_RES_MEDIA;
	char *still = media_derived_image(media, kind, dir, err);
	free(media);
	if (!still)
		return -1;
	derivative_cache_adopt(svc->derivatives, still);
	t->src = image_source_cache_get(svc->sources, still, 0, err);
	free(still);
	return t->src ? 0 : -1;
}

/*
 * path_resolve() below the served folder, with the stat it made in *st (*known true; the source
 * cache compares it instead of a stat of its own), or storage_resolve() below a remote root.
 */
static int service_resolve(const struct image_service *svc, const char *identifier, char **file,
			   struct storage_stat *st, bool *known, struct iiifd_error *err)
{
	*known = false;
	if (svc->root)
		return storage_resolve(svc->root, identifier, image_source_extensions, file, err);
	struct stat sb;
	if (path_resolve_stat(svc->root_real, identifier, image_source_extensions, file, &sb,
			      err) < 0)
		return -1;
	storage_stat_of_local(&sb, st);
	*known = true;
	return 0;
}

/* Resolves "name" or, failing that, "name;N" as page N of name. */
static int service_open_source(const struct image_service *svc, struct service_target *t,
			       struct iiifd_error *err)
{
	char *file = NULL;
	int page = 0;
	struct storage_stat st;
	bool known;
	if (t->on_event_loop && svc->root)
		return -1; /* a remote root is asked over the network: a worker's job */
	if (service_resolve(svc, t->identifier, &file, &st, &known, err) < 0) {
		if (err && err->http_status >= 500) /* the storage failed: no other name helps */
			return -1;
		if (t->on_event_loop)
			return -1; /* derived stills and pages are worked out on a worker */
		if (service_open_derived(svc, t, err) == 0)
			return 0;
		char *semi = strrchr(t->identifier, ';');
		char *end;
		long n = semi ? strtol(semi + 1, &end, 10) : 0;
		if (!semi || end == semi + 1 || *end || n < 1 || n > 100000)
			return -1;
		*semi = '\0';
		int rc = service_resolve(svc, t->identifier, &file, &st, &known, err);
		*semi = ';';
		if (rc < 0)
			return -1;
		page = (int)n - 1;
	}
	snprintf(t->policy_path, sizeof t->policy_path, "%s", file);
	if (t->on_event_loop) /* only an image probed before: probing reads the file */
		t->src = image_source_cache_peek_known(svc->sources, file, page, known ? &st : NULL);
	else
		t->src = image_source_cache_get_known(svc->sources, file, page, known ? &st : NULL,
						      err);
	if (!t->src && err && err->http_status == 409)
		storage_forget(file); /* replaced while probed: a fresh stat next time */
	free(file);
	return t->src ? 0 : -1;
}

/*
 * After a failed render of a remote source: whether the object was replaced since it was
 * probed (its stat asked again), so that the request is answered from the new version.
 */
static bool service_source_changed(const struct image_source *src)
{
	if (!storage_spec_is_remote(src->path))
		return false;
	storage_forget(src->path);
	struct storage_stat now;
	return storage_stat(src->path, &now, NULL) < 0 || !storage_stat_same(&now, &src->file);
}

static int service_target_init(const struct image_service *svc, enum image_api_version v,
			       const char *raw_id, const struct http_request *req,
			       struct service_target *t, struct iiifd_error *err)
{
	if (service_decode(raw_id, t->identifier, sizeof t->identifier) <= 0 ||
	    strings_url_encode(t->identifier, t->encoded, sizeof t->encoded) < 0)
		return iiifd_error_set(err, 404, "no image with that identifier");
	const struct iiifd_config *cfg = config_live_now();
	http_request_base_url(req, cfg->public_url, cfg->trust_forwarded, svc->fallback_host,
			      t->origin, sizeof t->origin);
	snprintf(t->base, sizeof t->base, "%s/iiif/%d", t->origin, (int)v);
	size_t len = strlen(t->identifier), sl = strlen(AUTH_DEGRADED_SUFFIX);
	if (len > sl && strcmp(t->identifier + len - sl, AUTH_DEGRADED_SUFFIX) == 0) {
		t->identifier[len - sl] = '\0'; /* encoded keeps the suffix: ids name the tier */
		t->degraded = true;
	}
	return 0;
}

static void service_redirect(const struct service_target *t, struct http_response *resp)
{
	http_response_header(resp, "Location", "%s/%s/info.json", t->base, t->encoded);
	http_response_text(resp, 303, "See %s/%s/info.json\n", t->base, t->encoded);
}

/* Protected resources are for one user's browser only; the open degraded tier for anyone. */
static const char *service_cache_control(const struct service_target *t)
{
	return t->gate.policy && !t->degraded ? AUTH_PRIVATE_CACHE
					      : config_live_now()->cache_control;
}

/* The access services of a protected image (also on its degraded tier: the way to log in). */
static void service_describe_access(const struct service_target *t, json_t *info,
				    enum image_api_version v)
{
	char enc[SERVICE_SEGMENT_MAX], probe[sizeof t->origin + SERVICE_SEGMENT_MAX + 32];
	if (!t->gate.policy || strings_url_encode(t->identifier, enc, sizeof enc) < 0)
		return;
	snprintf(probe, sizeof probe, "%s/auth/2/probe/%s", t->origin, enc);
	auth_gate_describe_info(&t->gate, info, (int)v, t->origin, probe);
}

static void service_info(const struct image_service *svc, enum image_api_version v,
			 struct service_target *t, const struct http_request *req,
			 struct http_response *resp)
{
	char etag[40], id[sizeof t->base + sizeof t->encoded + 1], what[1200];
	struct image_info_options opt = service_info_now(svc);
	if (t->degraded) { /* the tier's file is all there is: no enlargement advertised */
		opt.limits.max_width = opt.limits.max_height = t->gate.policy->degraded;
		opt.limits.max_upscale = 1;
	}
	/* the document also depends on the settings a reload may change: so does its ETag */
	snprintf(what, sizeof what, "info%d|%lld|%lld|%lld|%g|%d|%s", (int)v,
		 (long long)opt.limits.max_width, (long long)opt.limits.max_height,
		 (long long)opt.limits.max_area, opt.limits.max_upscale, opt.default_tile_size,
		 opt.rights ? opt.rights : "");
	service_etag(t, what, etag, sizeof etag);
	http_response_header(resp, "Link", "<http://iiif.io/api/image/%d/level2.json>;rel=\"profile\"",
			     (int)v);
	if (http_wants_json_ld(req, false))
		http_response_header(resp, "Content-Type",
				     "application/ld+json;profile=\"http://iiif.io/api/image/%d/context.json\"",
				     (int)v);
	else
		http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Vary", "Accept");
	if (t->gate.policy && !t->degraded && t->gate.access != AUTH_FULL) {
		resp->status = 401; /* Auth 1.0 §3.1: the description, with the services, as 401 */
		http_response_header(resp, "Cache-Control", "no-store");
	} else if (http_response_validators(resp, req, etag, t->src->mtime, service_cache_control(t))) {
		return;
	}
	snprintf(id, sizeof id, "%s/%s", t->base, t->encoded);
	json_t *info = image_info_build(v, id, t->src, &opt);
	service_describe_access(t, info, v);
	char *text = json_dumps(info, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(info);
	if (text)
		http_response_body(resp, text, strlen(text), free);
}

static void service_image(const struct image_service *svc, enum image_api_version v,
			  struct service_target *t, char **params, const struct http_request *req,
			  struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct image_request ir;
	struct image_geometry g;
	char decoded[4][256], canonical[512], etag[40];
	struct image_limits limits;
	image_service_limits(config_live_now(), &limits);
	if (t->degraded) { /* nothing larger than the tier's file, and no enlargement of it */
		limits.max_width = limits.max_height = t->gate.policy->degraded;
		limits.max_upscale = 1;
	}
	for (int i = 0; i < 4; i++)
		if (service_decode(params[i], decoded[i], sizeof decoded[i]) < 0)
			return (void)(iiifd_error_set(&err, 400, "malformed %%-escape in '%s'",
						      params[i]),
				      http_response_error(resp, &err));
	if (image_request_parse(v, decoded[0], decoded[1], decoded[2], decoded[3], &ir, &err) < 0 ||
	    image_request_resolve(&ir, t->src->width, t->src->height, &limits, &g, &err) < 0)
		return http_response_error(resp, &err);
	int64_t out_w, out_h;
	image_request_output_size(&ir, &g, &out_w, &out_h);
	if (image_format_check_size(ir.format, out_w, out_h, &err) < 0)
		return http_response_error(resp, &err);
	if (!(svc->info.formats & (1u << ir.format))) {
		iiifd_error_set(&err, 415, "format '%s' is not available on this server",
				image_format_name(ir.format));
		return http_response_error(resp, &err);
	}
	if (image_info_is_tile(t->src, &svc->info, &ir, &g))
		resp->route = METRICS_ROUTE_TILE;
	image_request_canonical(&ir, &g, t->src->width, t->src->height, &limits, canonical,
				sizeof canonical);
	http_response_header(resp, "Link",
			     "<%s/%s/%s>;rel=\"canonical\", <http://iiif.io/api/image/%d/level2.json>;rel=\"profile\"",
			     t->base, t->encoded, canonical, (int)v);
	http_response_header(resp, "Content-Type", "%s", image_format_mime(ir.format));
	/* the bytes also depend on the output quality, which a reload may change */
	struct image_encode_options enc = service_encode_now(svc);
	char what[sizeof canonical + 32];
	snprintf(what, sizeof what, "%s|q%d|w%d", canonical, enc.jpeg_quality, enc.webp_quality);
	service_etag(t, what, etag, sizeof etag);
	if (http_response_validators(resp, req, etag, t->src->mtime, service_cache_control(t)))
		return;
	const struct image_source *pixels = service_pixels(svc, t->src);
	if (service_produce(svc, t->src, pixels, &ir, &g, canonical, req, resp, &err) < 0) {
		if (service_source_changed(t->src) || err.http_status == 409)
			iiifd_error_set(&err, 409, "the image changed while it was read");
		http_response_error(resp, &err);
	}
	/* counted once per request: not on the I/O thread's try when a worker takes over */
	if (!resp->deferred && pyramid_queue_wants(svc->pyramids, t->src))
		(pixels ? metrics_cache_hit : metrics_cache_miss)(METRICS_CACHE_PYRAMID);
	image_source_cache_put(svc->sources, pixels);
}

/* Swaps t->src for the degraded tier's file (made on first use). 0, 1 when deferred, or -1. */
static int service_open_degraded(const struct image_service *svc, struct service_target *t,
				 struct http_response *resp, struct iiifd_error *err)
{
	const struct auth_policy *p = t->gate.policy;
	if (!p || p->degraded <= 0 || p->broken)
		return iiifd_error_set(err, 404, "no image with that identifier");
	if (t->on_event_loop)
		return http_response_defer(resp), 1;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/derived", svc->cfg->cache_dir);
	struct image_encode_options enc = service_encode_now(svc);
	char *path = image_degraded_file(t->src, p->degraded, dir, &enc, err);
	if (!path)
		return -1;
	derivative_cache_adopt(svc->derivatives, path);
	const struct image_source *small = image_source_cache_get(svc->sources, path, 0, err);
	free(path);
	if (!small)
		return -1;
	image_source_cache_put(svc->sources, t->src);
	t->src = small;
	return 0;
}

/*
 * Applies the access policy before anything is read or sent: 0 to go on, 1 when answered (a
 * redirect to the degraded tier, or deferred), -1 with err (401 for a protected image).
 */
static int service_gate(const struct image_service *svc, struct service_target *t, bool info,
			const struct http_request *req, struct http_response *resp,
			struct iiifd_error *err)
{
	auth_gate_open_file(svc->auth, t->policy_path, t->policy_kind, req, &t->gate);
	if (t->degraded)
		return service_open_degraded(svc, t, resp, err);
	if (!t->gate.policy || t->gate.access == AUTH_FULL || info) {
		if (info && t->gate.access == AUTH_DEGRADED) { /* Auth 1.0 §3.2: to the lower tier */
			http_response_header(resp, "Location", "%s/%s" AUTH_DEGRADED_SUFFIX "/info.json",
					     t->base, t->encoded);
			http_response_header(resp, "Cache-Control", "no-store");
			http_response_text(resp, 302, "See the degraded tier\n");
			return 1;
		}
		return 0; /* a denied info.json is answered 401 with its services */
	}
	auth_gate_log_denial(svc->auth, &t->gate, req, t->identifier);
	return iiifd_error_set(err, 401, "this image is access-controlled: its info.json names the "
				    "services that give access");
}

void image_service_probe(const struct image_service *svc, const char *raw_id,
			 const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct service_target *t = calloc(1, sizeof *t);
	if (!t)
		return (void)(iiifd_error_set(&err, 500, "out of memory"),
			      http_response_error(resp, &err));
	t->on_event_loop = req->on_event_loop;
	if (service_target_init(svc, IMAGE_API_V3, raw_id, req, t, &err) < 0 || t->degraded ||
	    service_open_source(svc, t, &err) < 0) {
		if (req->on_event_loop)
			http_response_defer(resp);
		else
			http_response_error(resp, &err);
		goto out;
	}
	auth_gate_open_file(svc->auth, t->policy_path, t->policy_kind, req, &t->gate);
	const struct auth_policy *p = t->gate.policy;
	char svc_id[sizeof t->origin + SERVICE_SEGMENT_MAX + 32], sub[sizeof svc_id + 32];
	json_t *service = NULL;
	if (p && p->degraded > 0 && !p->broken) {
		snprintf(svc_id, sizeof svc_id, "%s/iiif/3/%s" AUTH_DEGRADED_SUFFIX, t->origin,
			 t->encoded);
		snprintf(sub, sizeof sub, "%s/full/max/0/default.jpg", svc_id);
		service = json_pack("{s:s, s:s, s:s}", "id", svc_id, "type", "ImageService3",
				    "profile", "level2");
	}
	auth_gate_probe(svc->auth, p, req, service ? sub : NULL, "Image", service, resp);
out:
	image_source_cache_put(svc->sources, t->src);
	auth_gate_release(&t->gate);
	free(t);
}

static void service_handle_once(const struct image_service *svc, enum image_api_version version,
				const char *path, const struct http_request *req,
				struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	char *copy = strdup(path), *segs[SERVICE_MAX_SEGMENTS];
	struct service_target *t = calloc(1, sizeof *t);
	if (!copy || !t) {
		iiifd_error_set(&err, 500, "out of memory");
		http_response_error(resp, &err);
		goto out;
	}
	int n = service_split(copy, segs, SERVICE_MAX_SEGMENTS - 1);
	if (n == 2 && segs[1][0] == '\0')
		n = 1; /* "{id}/" redirects like "{id}" */
	bool info = strcmp(segs[n - 1], "info.json") == 0;
	if ((info && n > 2) || n > 5) {
		/* an identifier with a '/' of its own: none exists, since ours are always escaped */
		iiifd_error_set(&err, 404,
				"no such image: a '/' in an identifier must be written %%2F "
				"(e.g. /iiif/%d/folder%%2Fimage.tif/info.json)",
				version == IMAGE_API_V3 ? 3 : 2);
		http_response_error(resp, &err);
		goto out;
	}
	if (n != 1 && n != 5 && !(n == 2 && info)) {
		iiifd_error_set(&err, n == 2 ? 404 : 400,
				"expected {identifier}/info.json or "
				"{identifier}/{region}/{size}/{rotation}/{quality}.{format}");
		http_response_error(resp, &err);
		goto out;
	}
	t->on_event_loop = req->on_event_loop;
	resp->route = n == 5 ? METRICS_ROUTE_RENDER : METRICS_ROUTE_INFO;
	if (service_target_init(svc, version, segs[0], req, t, &err) < 0 ||
	    service_open_source(svc, t, &err) < 0) {
		if (req->on_event_loop) /* errors, and what was not probed yet, come from a worker */
			http_response_defer(resp);
		else
			http_response_error(resp, &err);
		goto out;
	}
	int gate = service_gate(svc, t, n == 2, req, resp, &err);
	if (gate != 0) {
		if (gate < 0)
			http_response_error(resp, &err);
		goto out;
	}
	if (n == 1)
		service_redirect(t, resp);
	else if (n == 2)
		service_info(svc, version, t, req, resp);
	else
		service_image(svc, version, t, segs + 1, req, resp);
out:
	if (t && t->src && req->on_event_loop && !resp->deferred)
		metrics_cache_hit(METRICS_CACHE_SOURCE); /* peeked, and answered here */
	if (t)
		image_source_cache_put(svc->sources, t->src), auth_gate_release(&t->gate);
	free(t);
	free(copy);
}

void image_service_handle(const struct image_service *svc, enum image_api_version version,
			  const char *path, const struct http_request *req,
			  struct http_response *resp)
{
	bool fresh = resp->nheaders == 0 && !resp->body; /* nothing of the router's to keep */
	service_handle_once(svc, version, path, req, resp);
	if (resp->status != 409 || !svc->root || resp->deferred || !fresh)
		return;
	/* a remote object replaced while it was read: once more, from its new version */
	int route = resp->route;
	http_response_release(resp);
	http_response_init(resp);
	resp->route = route;
	service_handle_once(svc, version, path, req, resp);
}
