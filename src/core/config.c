/*
 * config.c: a table of keys drives defaults, INI parsing (libinih), flag parsing and --help,
 * so adding a setting is one table row.
 */
#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/rights.h"

enum config_type { CONFIG_STRING, CONFIG_INT, CONFIG_INT64, CONFIG_BOOL, CONFIG_DOUBLE };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	int64_t min, max; /* for integer keys */
	const char *help;
};

#define KEY(n, t, field, d, lo, hi, h) \
	{ n, t, offsetof(struct iiifd_config, field), d, lo, hi, h }

static const struct config_key config_keys[] = {
	KEY("host", CONFIG_STRING, host, "127.0.0.1", 0, 0, "address to listen on"),
	KEY("port", CONFIG_INT, port, "8182", 1, 65535, "TCP port"),
	KEY("root", CONFIG_STRING, root, ".", 0, 0,
	    "folder of images to serve (or positional ROOT), or s3://bucket/prefix, or an "
	    "http(s)://host/path origin"),
	KEY("s3-endpoint", CONFIG_STRING, s3_endpoint, "", 0, 0,
	    "S3-compatible endpoint of an s3:// root, scheme://host[:port]; empty = "
	    "AWS_ENDPOINT_URL, else AWS in s3-region"),
	KEY("s3-region", CONFIG_STRING, s3_region, "", 0, 0,
	    "region requests to an s3:// root are signed for; empty = AWS_REGION, "
	    "AWS_DEFAULT_REGION, else us-east-1"),
	KEY("s3-access-key", CONFIG_STRING, s3_access_key, "", 0, 0,
	    "access key of an s3:// root; empty = AWS_ACCESS_KEY_ID"),
	KEY("s3-secret-key", CONFIG_STRING, s3_secret_key, "", 0, 0,
	    "secret key of an s3:// root (keep it in the config file, not on the command line); "
	    "empty = AWS_SECRET_ACCESS_KEY"),
	KEY("s3-session-token", CONFIG_STRING, s3_session_token, "", 0, 0,
	    "session token of temporary credentials; empty = AWS_SESSION_TOKEN"),
	KEY("storage-ttl", CONFIG_INT, storage_ttl, "10", 0, 86400,
	    "seconds what an s3:// or http(s):// root's stats and listings said is trusted (a "
	    "replaced object shows within this time); 0 = ask on every request"),
	KEY("storage-block-kb", CONFIG_INT, storage_block_kb, "64", 4, 65536,
	    "KiB per ranged GET of an s3:// or http(s):// root (reads are rounded to blocks)"),
	KEY("storage-cache-mb", CONFIG_INT64, storage_cache_mb, "256", 1, INT64_C(1) << 20,
	    "MiB of blocks of an s3:// or http(s):// root kept in memory (TIFF directories, tile "
	    "indexes, recent tiles)"),
	KEY("public-url", CONFIG_STRING, public_url, "", 0, 0,
	    "base URL for every absolute URL emitted, e.g. https://images.example.org"),
	KEY("threads", CONFIG_INT, threads, "0", 0, 1024,
	    "images rendered at once (tile-sized); 0 = 2 x cores"),
	KEY("large-renders", CONFIG_INT, large_renders, "0", 0, 1024,
	    "large images rendered at once; 0 = half the cores, at least 1"),
	KEY("large-output-pixels", CONFIG_INT64, large_output_pixels, "1048576", 1,
	    INT64_C(1) << 40, "outputs with more pixels than this count as large"),
	KEY("memory-budget-mb", CONFIG_INT64, memory_budget_mb, "2048", 1, INT64_C(1) << 30,
	    "estimated decode memory all renders may use at once, in MiB"),
	KEY("simd", CONFIG_BOOL, simd, "false", 0, 0,
	    "let libvips run liborc SIMD code: faster scaling, but liborc 0.4.33 can crash when "
	    "threads free such code at once"),
	KEY("queue-wait-ms", CONFIG_INT, queue_wait_ms, "10000", 0, 3600000,
	    "how long a render waits for a free slot before answering 503"),
	KEY("request-timeout", CONFIG_INT, request_timeout, "60", 1, 86400,
	    "seconds a render may take before it is abandoned with 503"),
	KEY("max-connections", CONFIG_INT, max_connections, "10000", 1, 1000000,
	    "open client connections at most (each costs a socket, not a thread)"),
	KEY("max-connections-per-client", CONFIG_INT, max_connections_per_client, "256", 0, 1000000,
	    "open connections one client address may hold; 0 = no limit (trusted proxies exempt)"),
	KEY("trusted-proxies", CONFIG_STRING, trusted_proxies, "", 0, 0,
	    "comma-separated addresses or CIDR ranges of proxies whose Forwarded/X-Forwarded-For "
	    "name the client"),
	KEY("metrics-allow", CONFIG_STRING, metrics_allow, "127.0.0.0/8, ::1", 0, 0,
	    "addresses or CIDR ranges that may read /metrics (the client as trusted-proxies "
	    "resolve it; loopback only if forwarded by no proxy); empty = nobody"),
	KEY("metrics-address", CONFIG_STRING, metrics_address, "", 0, 0,
	    "host:port of a second listener that serves /metrics (to anyone reaching it), /ready "
	    "and /health only; empty = none"),
	KEY("header-timeout", CONFIG_INT, header_timeout, "10", 1, 3600,
	    "seconds a request's headers may take in total before the connection is closed"),
	KEY("body-timeout", CONFIG_INT, body_timeout, "30", 1, 3600,
	    "seconds a request body may take in total once the headers are in"),
	KEY("keepalive-timeout", CONFIG_INT, keepalive_timeout, "15", 1, 3600,
	    "seconds an idle keep-alive connection stays open waiting for its next request"),
	KEY("workers", CONFIG_INT, workers, "0", 0, 4096,
	    "threads that run request handlers; 0 = 32 + 8 x cores"),
	KEY("trust-forwarded", CONFIG_BOOL, trust_forwarded, "false", 0, 0,
	    "build URLs from X-Forwarded-Proto/Host (only behind a proxy you control)"),
	KEY("cache-control", CONFIG_STRING, cache_control, "public, max-age=86400", 0, 0,
	    "Cache-Control header on images and info.json"),
	KEY("presentation-cache-control", CONFIG_STRING, presentation_cache_control, "no-cache", 0,
	    0, "Cache-Control on Collections and Manifests (they change with the folders)"),
	KEY("max-width", CONFIG_INT64, max_width, "0", 0, INT32_MAX, "largest output width; 0 = none"),
	KEY("max-height", CONFIG_INT64, max_height, "0", 0, INT32_MAX,
	    "largest output height; 0 = none"),
	KEY("max-area", CONFIG_INT64, max_area, "100000000", 1, INT64_C(1) << 40,
	    "largest output area in pixels"),
	KEY("max-upscale", CONFIG_DOUBLE, max_upscale, "2", 0, 1000,
	    "largest enlargement of a region by a ^ size (1 = none; 0 = no limit)"),
	KEY("jpeg-quality", CONFIG_INT, jpeg_quality, "85", 1, 100, "JPEG output quality"),
	KEY("webp-quality", CONFIG_INT, webp_quality, "85", 1, 100, "WebP output quality"),
	KEY("tile-size", CONFIG_INT, tile_size, "512", 64, 4096,
	    "tile edge advertised for sources that are not tiled"),
	KEY("rights", CONFIG_STRING, rights, "", 0, 0, "rights URL for info.json (v3)"),
	KEY("access-log", CONFIG_BOOL, access_log, "true", 0, 0, "log one line per request"),
	KEY("shutdown-timeout", CONFIG_INT, shutdown_timeout, "10", 0, 3600,
	    "seconds in-flight requests may take after SIGTERM"),
	KEY("log-level", CONFIG_STRING, log_level, "info", 0, 0, "debug, info, warn or error"),
	KEY("annotations", CONFIG_BOOL, annotations, "true", 0, 0,
	    "annotation store, Content Search and imports"),
	KEY("data-dir", CONFIG_STRING, data_dir, "/var/tmp/iiifd-data", 0, 0,
	    "folder of the annotation database (annotations.sqlite)"),
	KEY("database", CONFIG_STRING, database, "", 0, 0,
	    "shared annotation store, postgresql://... (libpq URI); empty = data-dir's SQLite file"),
	KEY("database-pool", CONFIG_INT, database_pool, "16", 4, 1000,
	    "connections to the postgresql:// store one process opens at most (an import holds 2 "
	    "and a pyramid build 1 while they run; requests beyond wait up to 5 s, then 503)"),
	KEY("api-token", CONFIG_STRING, api_token, "", 0, 0,
	    "annotation write tokens, 'name=token, name2=token2' (the name becomes the creator); "
	    "empty = writes refused"),
	KEY("auth-secrets", CONFIG_STRING, auth_secrets, "", 0, 0,
	    "secrets that sign access cookies and tokens, 'current, previous' (16+ characters "
	    "each; the same on every node); empty = a random one per start (docs/access.md)"),
	KEY("auth-users", CONFIG_STRING, auth_users, "", 0, 0,
	    "users file for logins (iiifd user add); empty = data-dir/users"),
	KEY("auth-token-ttl", CONFIG_INT, auth_token_ttl, "300", 10, 86400,
	    "seconds an access token given to a viewer stays valid"),
	KEY("auth-session-ttl", CONFIG_INT, auth_session_ttl, "28800", 60, 31536000,
	    "seconds a login or accepted terms stay valid (the access cookie)"),
	KEY("auth-user-header", CONFIG_STRING, auth_user_header, "", 0, 0,
	    "header naming the logged-in user, believed from trusted-proxies only (SSO in front, "
	    "e.g. X-Remote-User); empty = none"),
	KEY("auth-roles-header", CONFIG_STRING, auth_roles_header, "", 0, 0,
	    "header with that user's comma-separated roles (from trusted-proxies only)"),
	KEY("auth-log", CONFIG_STRING, auth_log, "", 0, 0,
	    "file for the access log of logins, failures and denials; empty = the server log"),
	KEY("access-file", CONFIG_STRING, access_file, "", 0, 0,
	    "YAML file in access.yml's format: the policy of the root and, under folders:, of "
	    "folders, beneath every access.yml sidecar (docs/access.md); empty = none"),
	KEY("auth-origins", CONFIG_STRING, auth_origins, "", 0, 0,
	    "origins (space or comma separated) whose pages get tokens when an address or a "
	    "trusted header admits without an access service visit; empty = the server's own"),
	KEY("auto-import", CONFIG_BOOL, auto_import, "true", 0, 0,
	    "import ALTO/hOCR/WebVTT/COCO/CSV files found next to the media, in the background"),
	KEY("auto-import-max-mb", CONFIG_INT64, auto_import_max_mb, "512", 0, INT64_C(1) << 30,
	    "annotation files larger than this are not imported automatically; 0 = no limit"),
	KEY("import-workers", CONFIG_INT, import_workers, "0", 0, 64,
	    "annotation files imported at once (iiifd import and auto-import), each in its own "
	    "transaction and two connections, with a postgresql:// store (0 = min(4, cores); at most "
	    "database-pool / 4); SQLite: 1"),
	KEY("annotation-page-size", CONFIG_INT, annotation_page_size, "20000", 1, 100000000,
	    "annotations in one page of a Canvas's AnnotationPage before it continues in next"),
	KEY("import-wait-ms", CONFIG_INT, import_wait_ms, "5000", 0, 600000,
	    "how long a Manifest or annotation page request waits for its folder's annotation "
	    "imports (a page still importing after that answers 503)"),
	KEY("web-assets-dir", CONFIG_STRING, web_assets_dir, "", 0, 0,
	    "folder of the viewers served under /viewer/ (scripts/install-web); empty = "
	    "build/web/assets beside the binary's build folder, else <prefix>/share/iiifd/web"),
	KEY("canvas-words", CONFIG_BOOL, canvas_words, "false", 0, 0,
	    "Canvases list their OCR words rather than their lines (the other level is linked from "
	    "seeAlso)"),
	KEY("pdf-max-pages", CONFIG_INT, pdf_max_pages, "500", 1, 100000,
	    "image pages a Manifest PDF download may have; larger Manifests get 400"),
	KEY("pdf-max-width", CONFIG_INT, pdf_max_width, "2000", 16, 14400,
	    "largest page image width (?width=) of a Manifest PDF download"),
	KEY("discovery", CONFIG_BOOL, discovery, "true", 0, 0,
	    "Change Discovery 1.0: the activity stream at /iiif/discovery/activity/all-changes, "
	    "kept by watching root (inotify) and scanning it"),
	KEY("discovery-page-size", CONFIG_INT, discovery_page_size, "100", 1, 100000,
	    "activities in one page of the activity stream"),
	KEY("discovery-scan-interval", CONFIG_INT, discovery_scan_interval, "300", 0, 604800,
	    "seconds between scans of root for changes inotify cannot see (network filesystems); "
	    "0 = scan only at start and on inotify events"),
	KEY("web", CONFIG_BOOL, web, "true", 0, 0,
	    "the HTML interface: / for browsers, /view/{path}/collection|manifest, /sitemap.xml"),
	KEY("html-pages-on-json-urls", CONFIG_BOOL, html_pages_on_json_urls, "true", 0, 0,
	    "a browser asking a Collection or Manifest URL for text/html gets its page (IIIF "
	    "clients keep the JSON; answers carry Vary: Accept)"),
	KEY("web-page-size", CONFIG_INT, web_page_size, "100", 1, 10000,
	    "Collection members or Manifest pages listed on one HTML page"),
	KEY("source-cache-entries", CONFIG_INT, source_cache_entries, "4096", 0, 10000000,
	    "probed images (size, levels, tile index) kept in memory"),
	KEY("tile-cache-mb", CONFIG_INT64, tile_cache_mb, "128", 0, INT64_C(1) << 20,
	    "decoded source tiles kept in memory for renders, shared by all requests, in MiB; 0 = none"),
	KEY("direct-render", CONFIG_BOOL, direct_render, "true", 0, 0,
	    "render tiled JPEG TIFFs and JPEG 2000 as JPEG with iiifd's own paths (libjpeg-turbo, "
	    "OpenJPEG); false = libvips for every render"),
	KEY("htj2k-check", CONFIG_BOOL, htj2k_check, "true", 0, 0,
	    "decode each HTJ2K file (each version) once in a child process before serving it, so "
	    "that a damaged one gets a 500 instead of stopping the server (OpenJPEG 2.5.0 aborts "
	    "on some); verdicts kept in cache-dir/htj2k-checked; false = trust the files"),
	KEY("cache", CONFIG_BOOL, cache, "true", 0, 0, "keep rendered images in cache-dir"),
	KEY("cache-dir", CONFIG_STRING, cache_dir, "/var/tmp/iiifd-cache", 0, 0,
	    "folder for the disk cache (created if missing)"),
	KEY("cache-size-mb", CONFIG_INT64, cache_size_mb, "1024", 1, INT64_C(1) << 30,
	    "disk cache size limit in MiB; least recently used files go first"),
	KEY("pyramid-threshold-mp", CONFIG_INT64, pyramid_threshold_mp, "50", 0, 1000000,
	    "flat images of at least this many megapixels get a pyramid built in pyramid-dir; 0 = never"),
	KEY("pyramid-cache-size-mb", CONFIG_INT64, pyramid_cache_size_mb, "10240", 1,
	    INT64_C(1) << 30,
	    "size limit in MiB of the pyramids in pyramid-dir; least recently used go first"),
	KEY("pyramid-dir", CONFIG_STRING, pyramid_dir, "", 0, 0,
	    "folder of the background pyramids, shared by every node that names the same one "
	    "(each pyramid built once, by one node); empty = cache-dir/pyramids"),
	KEY("content-state-origins", CONFIG_STRING, content_state_origins, "", 0, 0,
	    "other servers' origins (https://host[:port], space-separated) whose resources an "
	    "iiif-content content state may open in the viewers; empty = this server's only"),
};

#define CONFIG_NKEYS (sizeof config_keys / sizeof config_keys[0])

/*
 * The settings a reload (SIGHUP) applies to a running server: each is read from the request's
 * config snapshot (config_live_now(), see core/config_live.h) or applied by main_reload(). Any
 * other setting, including every one added without being listed here, takes effect only after a
 * restart, and a reload that changes it says so.
 */
static const char *const config_reloadable[] = {
	"log-level", "access-log", "public-url", "trust-forwarded", "cache-control",
	"presentation-cache-control", "max-width", "max-height", "max-area", "max-upscale",
	"jpeg-quality", "webp-quality", "tile-size", "rights", "api-token", "queue-wait-ms",
	"request-timeout", "large-output-pixels", "annotation-page-size", "shutdown-timeout",
	"header-timeout", "body-timeout", "keepalive-timeout", "import-wait-ms",
	"access-file", /* read again on every reload (main_reload_access_file) */
};

static const struct config_key *config_find(const char *name)
{
	char norm[64];
	size_t i;
	for (i = 0; name[i] && i < sizeof norm - 1; i++)
		norm[i] = name[i] == '_' ? '-' : name[i];
	norm[i] = '\0';
	for (size_t k = 0; k < CONFIG_NKEYS; k++)
		if (strcmp(config_keys[k].name, norm) == 0)
			return &config_keys[k];
	return NULL;
}

static int config_parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int config_parse_int(const struct config_key *k, const char *v, int64_t *out,
			    struct iiifd_error *err)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < k->min || n > k->max)
		return iiifd_error_set(err, 400, "%s: '%s' is not a whole number from %lld to %lld",
				       k->name, v, (long long)k->min, (long long)k->max);
	*out = n;
	return 0;
}

static int config_parse_double(const struct config_key *k, const char *v, double *out,
			       struct iiifd_error *err)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= (double)k->min && d <= (double)k->max))
		return iiifd_error_set(err, 400, "%s: '%s' is not a number from %lld to %lld",
				       k->name, v, (long long)k->min, (long long)k->max);
	*out = d;
	return 0;
}

static int config_assign(struct iiifd_config *cfg, const struct config_key *k, const char *v,
			 struct iiifd_error *err)
{
	char *field = (char *)cfg + k->offset;
	int64_t n;
	switch (k->type) {
	case CONFIG_STRING: {
		char *copy = strdup(v);
		if (!copy)
			return iiifd_error_set(err, 500, "out of memory");
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case CONFIG_BOOL:
		if (config_parse_bool(v, (bool *)field) < 0)
			return iiifd_error_set(err, 400, "%s: '%s' is not true or false", k->name,
					       v);
		return 0;
	case CONFIG_INT:
		if (config_parse_int(k, v, &n, err) < 0)
			return -1;
		*(int *)field = (int)n;
		return 0;
	case CONFIG_INT64:
		if (config_parse_int(k, v, &n, err) < 0)
			return -1;
		*(int64_t *)field = n;
		return 0;
	case CONFIG_DOUBLE:
		return config_parse_double(k, v, (double *)field, err);
	}
	return iiifd_error_set(err, 500, "%s: unknown key type", k->name);
}

void iiifd_config_init(struct iiifd_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t k = 0; k < CONFIG_NKEYS; k++)
		if (config_assign(cfg, &config_keys[k], config_keys[k].def, NULL) < 0)
			abort(); /* a default that does not parse is a programming error */
}

void iiifd_config_release(struct iiifd_config *cfg)
{
	for (size_t k = 0; k < CONFIG_NKEYS; k++) {
		if (config_keys[k].type != CONFIG_STRING)
			continue;
		char **field = (char **)((char *)cfg + config_keys[k].offset);
		free(*field);
		*field = NULL;
	}
}

int iiifd_config_copy(struct iiifd_config *dst, const struct iiifd_config *src)
{
	*dst = *src;
	for (size_t k = 0; k < CONFIG_NKEYS; k++) {
		if (config_keys[k].type != CONFIG_STRING)
			continue;
		char **field = (char **)((char *)dst + config_keys[k].offset);
		*field = NULL;
	}
	for (size_t k = 0; k < CONFIG_NKEYS; k++) {
		if (config_keys[k].type != CONFIG_STRING)
			continue;
		size_t off = config_keys[k].offset;
		const char *from = *(char *const *)((const char *)src + off);
		if (from && !(*(char **)((char *)dst + off) = strdup(from))) {
			iiifd_config_release(dst);
			return -1;
		}
	}
	return 0;
}

bool iiifd_config_reloadable(const char *key)
{
	for (size_t i = 0; i < sizeof config_reloadable / sizeof config_reloadable[0]; i++)
		if (strcmp(config_reloadable[i], key) == 0)
			return true;
	return false;
}

static size_t config_type_size(enum config_type t)
{
	switch (t) {
	case CONFIG_STRING:
		return sizeof(char *);
	case CONFIG_BOOL:
		return sizeof(bool);
	case CONFIG_INT:
		return sizeof(int);
	case CONFIG_INT64:
		return sizeof(int64_t);
	case CONFIG_DOUBLE:
		return sizeof(double);
	}
	return 0;
}

static bool config_key_equal(const struct config_key *k, const struct iiifd_config *a,
			     const struct iiifd_config *b)
{
	const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
	switch (k->type) {
	case CONFIG_STRING: {
		const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
		return strcmp(sa ? sa : "", sb ? sb : "") == 0;
	}
	case CONFIG_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case CONFIG_INT:
		return *(const int *)fa == *(const int *)fb;
	case CONFIG_INT64:
		return *(const int64_t *)fa == *(const int64_t *)fb;
	case CONFIG_DOUBLE:
		return *(const double *)fa == *(const double *)fb;
	}
	return false;
}

/* Appends name to a comma-separated list in out (n bytes); ends it with "..." once it is full. */
static void config_list_add(char *out, size_t n, const char *name)
{
	size_t len = strlen(out);
	if (len >= 3 && strcmp(out + len - 3, "...") == 0)
		return;
	const char *sep = len ? ", " : "";
	if (len + strlen(sep) + strlen(name) + 6 > n)
		name = "...";
	snprintf(out + len, n - len, "%s%s", sep, name);
}

int iiifd_config_keep_restart_only(struct iiifd_config *next, const struct iiifd_config *cur)
{
	for (size_t k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_key *key = &config_keys[k];
		if (iiifd_config_reloadable(key->name) || config_key_equal(key, next, cur))
			continue;
		char *to = (char *)next + key->offset;
		const char *from = (const char *)cur + key->offset;
		if (key->type != CONFIG_STRING) {
			memcpy(to, from, config_type_size(key->type));
			continue;
		}
		char *copy = strdup(*(char *const *)from ? *(char *const *)from : "");
		if (!copy)
			return -1;
		free(*(char **)to);
		*(char **)to = copy;
	}
	return 0;
}

int iiifd_config_changes(const struct iiifd_config *from, const struct iiifd_config *to,
			 char *applied, size_t applied_n, char *restart, size_t restart_n)
{
	int count = 0;
	applied[0] = restart[0] = '\0';
	for (size_t k = 0; k < CONFIG_NKEYS; k++) {
		if (config_key_equal(&config_keys[k], from, to))
			continue;
		count++;
		if (iiifd_config_reloadable(config_keys[k].name))
			config_list_add(applied, applied_n, config_keys[k].name);
		else
			config_list_add(restart, restart_n, config_keys[k].name);
	}
	return count;
}

/* rights: a statement IIIF accepts, kept in the form the specifications require. */
static int config_rights(struct iiifd_config *cfg, struct iiifd_error *err)
{
	char canonical[512];
	if (!*cfg->rights)
		return 0;
	enum rights_result r = strlen(cfg->rights) < 400
				       ? rights_normalise(cfg->rights, canonical, sizeof canonical)
				       : RIGHTS_INVALID;
	if (r == RIGHTS_INVALID)
		return iiifd_error_set(err, 400, "rights: '%.100s' is not a Creative Commons or "
						 "RightsStatements.org URI (e.g. "
						 "http://creativecommons.org/licenses/by/4.0/)",
				       cfg->rights);
	if (r == RIGHTS_NORMALISED) {
		log_warn("rights: '%s' is written '%s', the form the specification requires",
			 cfg->rights, canonical);
		free(cfg->rights);
		cfg->rights = strdup(canonical);
	}
	return cfg->rights ? 0 : iiifd_error_set(err, 500, "out of memory");
}

int iiifd_config_set(struct iiifd_config *cfg, const char *key, const char *value,
		     struct iiifd_error *err)
{
	const struct config_key *k = config_find(key);
	if (!k)
		return iiifd_error_set(err, 400, "unknown setting '%s'", key);
	if (config_assign(cfg, k, value, err) < 0)
		return -1;
	return k->offset == offsetof(struct iiifd_config, rights) ? config_rights(cfg, err) : 0;
}

struct config_file_state {
	struct iiifd_config *cfg;
	struct iiifd_error *err;
	int failed;
};

static int config_ini_handler(void *user, const char *section, const char *name,
			      const char *value)
{
	struct config_file_state *st = user;
	(void)section;
	if (iiifd_config_set(st->cfg, name, value, st->err) < 0) {
		st->failed = 1;
		return 0; /* inih reports this line number */
	}
	return 1;
}

int iiifd_config_load_file(struct iiifd_config *cfg, const char *path, struct iiifd_error *err)
{
	struct iiifd_error line_err = { 0 };
	struct config_file_state st = { cfg, &line_err, 0 };
	int rc = ini_parse(path, config_ini_handler, &st);
	if (rc == -1)
		return iiifd_error_set(err, 400, "%s: cannot open: %s", path, strerror(errno));
	if (rc == -2)
		return iiifd_error_set(err, 500, "%s: out of memory", path);
	if (rc > 0)
		return iiifd_error_set(err, 400, "%s:%d: %s", path, rc,
				       st.failed ? line_err.msg : "syntax error");
	return 0;
}

/* Splits "--key=value" or "--key value"; returns the number of argv slots used, or -1. */
static int config_flag(char **argv, int i, int argc, char *key, size_t keylen,
		       const char **value)
{
	const char *arg = argv[i] + 2;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	if (n >= keylen)
		return -1;
	memcpy(key, arg, n);
	key[n] = '\0';
	if (eq) {
		*value = eq + 1;
		return 1;
	}
	if (i + 1 >= argc)
		return -1;
	*value = argv[i + 1];
	return 2;
}

static int config_load_config_flag(struct iiifd_config *cfg, int argc, char **argv,
				   struct iiifd_error *err)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return iiifd_config_load_file(cfg, argv[i + 1], err);
		if (strncmp(argv[i], "--config=", 9) == 0)
			return iiifd_config_load_file(cfg, argv[i] + 9, err);
	}
	return 0;
}

int iiifd_config_parse_args(struct iiifd_config *cfg, int argc, char **argv,
			    struct iiifd_error *err)
{
	if (config_load_config_flag(cfg, argc, argv, err) < 0)
		return -1;
	int positional = 0;
	for (int i = 0; i < argc;) {
		if (strncmp(argv[i], "--", 2) != 0) {
			if (positional++)
				return iiifd_error_set(err, 400, "unexpected argument '%s'", argv[i]);
			if (iiifd_config_set(cfg, "root", argv[i], err) < 0)
				return -1;
			i++;
			continue;
		}
		char key[64];
		const char *value;
		int used = config_flag(argv, i, argc, key, sizeof key, &value);
		if (used < 0)
			return iiifd_error_set(err, 400, "option '%s' needs a value", argv[i]);
		if (strcmp(key, "config") != 0 && iiifd_config_set(cfg, key, value, err) < 0)
			return -1;
		i += used;
	}
	return 0;
}

void iiifd_config_print_help(FILE *out)
{
	for (size_t k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_key *key = &config_keys[k];
		fprintf(out, "  --%-18s %s (default: %s%s)\n", key->name, key->help,
			*key->def ? key->def : "none",
			iiifd_config_reloadable(key->name) ? "; reloadable" : "");
	}
}

int iiifd_config_validate(const struct iiifd_config *cfg, struct iiifd_error *err)
{
	struct stat st;
	bool remote = !strncmp(cfg->root, "s3://", 5) || !strncmp(cfg->root, "http://", 7) ||
		      !strncmp(cfg->root, "https://", 8); /* storage_root_open checks those */
	if (!remote && (stat(cfg->root, &st) < 0 || !S_ISDIR(st.st_mode)))
		return iiifd_error_set(err, 400, "root '%s' is not a readable folder", cfg->root);
	if (cfg->max_upscale > 0 && cfg->max_upscale < 1)
		return iiifd_error_set(err, 400, "max-upscale must be 0 (no limit) or at least 1");
	if (cfg->max_height && !cfg->max_width)
		return iiifd_error_set(err, 400, "max-height needs max-width (Image API 3.0, 5.3)");
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	for (size_t i = 0; i < 4; i++)
		if (strcmp(cfg->log_level, levels[i]) == 0)
			return 0;
	return iiifd_error_set(err, 400, "log-level: '%s' is not debug, info, warn or error",
			       cfg->log_level);
}
