/*
 * config.h: iiifd's settings, their defaults, and loading them from an INI file and flags.
 * Every key works both as `key = value` in the file and as `--key value` on the command line.
 */
#ifndef IIIFD_CORE_CONFIG_H
#define IIIFD_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

struct iiifd_config {
	/*
	 * strings are owned by the config (heap), freed by iiifd_config_release(). Every field is a
	 * row of config.c's key table: copies, reload diffs and releases walk that table only.
	 */
	char *host;
	int port;
	char *root;            /* a folder, s3://bucket/prefix or http(s)://host/path (storage/root.h) */
	char *s3_endpoint, *s3_region;          /* "" = from the environment (AWS_*) */
	char *s3_access_key, *s3_secret_key, *s3_session_token; /* "" = from the environment */
	int storage_ttl;          /* seconds a remote root's stats and listings are trusted */
	int storage_block_kb;     /* bytes per ranged GET of a remote root, in KiB */
	int64_t storage_cache_mb; /* a remote root's block cache */
	char *public_url;      /* "" = derive from the request's Host header */
	int threads;           /* concurrent small renders; 0 = twice the number of cores */
	int large_renders;     /* concurrent large renders; 0 = half the cores, at least 1 */
	int64_t large_output_pixels; /* outputs above this many pixels are "large" */
	int64_t memory_budget_mb;    /* estimated decode memory all renders may hold at once */
	int queue_wait_ms;     /* how long a render waits for a slot before 503 */
	int request_timeout;   /* seconds a render may take before it is abandoned with 503 */
	int max_connections;
	int max_connections_per_client; /* 0 = no limit; trusted proxies are exempt */
	char *trusted_proxies;  /* "addr, addr/bits, ..." whose forwarding headers are believed */
	char *metrics_allow;    /* "addr, addr/bits, ..." that may read /metrics; "" = nobody */
	char *metrics_address;  /* "host:port" of a listener for /metrics, /ready, /health; "" = none */
	int header_timeout;     /* seconds: total time for a request's headers */
	int body_timeout;       /* seconds: total time for a request body after its headers */
	int keepalive_timeout;  /* seconds an idle keep-alive connection is kept */
	int workers;            /* handler threads; 0 = 32 + 8 x cores */
	bool trust_forwarded;  /* honour X-Forwarded-Proto / X-Forwarded-Host */
	char *cache_control;
	char *presentation_cache_control;
	int64_t max_width;     /* 0 = no limit */
	int64_t max_height;    /* 0 = no limit */
	int64_t max_area;
	double max_upscale;    /* largest factor a ^ size may enlarge by */
	int jpeg_quality;
	int webp_quality;
	int tile_size;         /* tile edge advertised for sources that are not tiled */
	char *rights;          /* "" = no rights property */
	bool access_log;
	bool simd;                   /* libvips' liborc code paths (see config.c) */
	int shutdown_timeout;  /* seconds in-flight requests get after SIGTERM */
	char *log_level;
	int source_cache_entries; /* probed images kept in memory; 0 = none */
	int64_t tile_cache_mb;    /* decoded tiles kept for renders (image/tile_cache.h); 0 = none */
	bool direct_render;       /* tiled JPEG TIFFs rendered by image/render_tiff.c */
	bool htj2k_check;         /* HTJ2K files decoded in a child once first (image/ht_guard.h) */
	bool cache;               /* the disk cache of rendered images */
	char *cache_dir;
	int64_t cache_size_mb;
	int64_t pyramid_threshold_mp;
	int64_t pyramid_cache_size_mb; /* limit of cache-dir/pyramids */
	char *pyramid_dir;        /* where pyramids are built and shared; "" = cache-dir/pyramids */
	bool annotations;         /* the annotation store, search, and automatic imports */
	char *data_dir;           /* where the annotation database lives */
	char *database;           /* postgresql:// URI of a shared store; "" = SQLite in data_dir */
	int database_pool;        /* connections to that store per process, at most */
	char *api_token;          /* bearer token for annotation writes; "" = writes refused */
	char *auth_secrets;       /* signing secrets, "current, previous"; "" = random per start */
	char *auth_users;         /* users file; "" = data_dir/users */
	int auth_token_ttl;       /* seconds an access token lives */
	int auth_session_ttl;     /* seconds an access cookie lives */
	char *auth_user_header;   /* user header from trusted proxies; "" = none */
	char *auth_roles_header;  /* roles header from trusted proxies; "" = none */
	char *auth_log;           /* access log file; "" = the server log */
	char *access_file;        /* the root's policy, access.yml format; "" = none */
	char *auth_origins;       /* "origin, origin": token origins when no access visit recorded */
	bool auto_import;         /* import OCR/VTT/COCO/CSV files found next to the images */
	int64_t auto_import_max_mb; /* larger annotation files are skipped by auto-import; 0 = any */
	int import_workers;       /* files imported at once; 0 = ingest_workers()'s default */
	int annotation_page_size; /* annotations per page of a Canvas AnnotationPage */
	char *web_assets_dir;     /* the viewers' files (scripts/install-web); "" = found by itself */
	bool canvas_words;        /* Canvases list OCR words rather than lines (lines in seeAlso) */
	int import_wait_ms;       /* how long a request waits for its folder's annotation imports */
	int pdf_max_pages;        /* image Canvases a Manifest PDF may have (/pdf/...) */
	int pdf_max_width;        /* largest ?width= of a Manifest PDF's page images */
	bool web;                 /* the HTML interface: /, /view/..., /sitemap.xml (web/) */
	bool html_pages_on_json_urls; /* browsers asking a Collection/Manifest URL for HTML get its page */
	int web_page_size;        /* members or pages listed on one HTML page */
	char *content_state_origins; /* other origins iiif-content may open ("" = this server's) */
	bool discovery;           /* the Change Discovery activity stream (discovery/) */
	int discovery_page_size;  /* activities per OrderedCollectionPage */
	int discovery_scan_interval; /* seconds between scheduled scans; 0 = none */
};

/* Fills cfg with defaults; release with iiifd_config_release(). */
void iiifd_config_init(struct iiifd_config *cfg);
void iiifd_config_release(struct iiifd_config *cfg);

/* Deep copy into dst (release it too); -1 when out of memory, dst then needs no release. */
int iiifd_config_copy(struct iiifd_config *dst, const struct iiifd_config *src);

/* Whether a reload applies key ("max-area") to a running server; see config_reloadable[]. */
bool iiifd_config_reloadable(const char *key);

/*
 * Compares two configs: writes the names of the settings that differ, comma-separated, into
 * applied (those a reload applies) or restart (those that need a restart). Returns how many
 * differ.
 */
int iiifd_config_changes(const struct iiifd_config *from, const struct iiifd_config *to,
			 char *applied, size_t applied_n, char *restart, size_t restart_n);

/*
 * Gives next cur's values of the settings a reload cannot apply, so that the live config says
 * what is in effect. -1 when out of memory.
 */
int iiifd_config_keep_restart_only(struct iiifd_config *next, const struct iiifd_config *cur);

/* Sets one key ("public-url" and "public_url" are the same key). 400-style error on bad input. */
int iiifd_config_set(struct iiifd_config *cfg, const char *key, const char *value,
		     struct iiifd_error *err);

/* Loads an INI file; section headers are allowed and ignored. Errors name file and line. */
int iiifd_config_load_file(struct iiifd_config *cfg, const char *path, struct iiifd_error *err);

/*
 * Applies `serve` arguments: --config FILE first (wherever it appears), then every --key value /
 * --key=value flag and at most one positional ROOT, so flags override the file.
 */
int iiifd_config_parse_args(struct iiifd_config *cfg, int argc, char **argv,
			    struct iiifd_error *err);

/* Prints the option reference (used by --help). */
void iiifd_config_print_help(FILE *out);

/* Checks cross-field consistency (port range, root is a directory, ...). */
int iiifd_config_validate(const struct iiifd_config *cfg, struct iiifd_error *err);

#endif
