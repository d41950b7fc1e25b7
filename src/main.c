/*
 * main.c: the iiifd command line. `iiifd serve` runs the server until SIGINT/SIGTERM and
 * re-reads its config on SIGHUP.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error.
 */
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vips/vips.h>
#include <vips/vector.h> /* after vips.h, which it needs */

#include "core/config.h"
#include "core/config_live.h"
#include "core/log.h"
#include "http/router.h"
#include "http/server.h"
#include "storage/root.h"
#include "tools/convert.h"
#include "tools/tiles.h"
#include "tools/cache.h"
#include "tools/check.h"
#include "tools/verify_codestream.h"
#include "tools/dataset.h"
#include "tools/activity.h"
#include "tools/import.h"
#include "tools/cite.h"
#include "tools/manifest.h"
#include "tools/user.h"
#include "version.h"

/*
 * Every connection has its own thread, and glibc gives busy threads malloc arenas of their own,
 * each keeping what is freed in it. So image-sized buffers are always mapped and unmapped (a
 * fixed mmap threshold, which also stops glibc raising it after each large free), and arenas are
 * limited to two per core.
 */
static void main_tune_malloc(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_ARENA_MAX, (int)(cores > 0 ? 2 * cores : 4));
}

static void main_usage(FILE *out)
{
	fprintf(out,
		"iiifd %s: a IIIF server for a folder of images\n\n"
		"usage:\n"
		"  iiifd serve [options] [ROOT]   serve ROOT (default: current folder)\n"
		"  iiifd convert IN OUT.tif [--tile 256|512] [--quality Q]\n"
		"                                 IN as a pyramidal tiled JPEG TIFF (fastest to serve)\n"
		"  iiifd convert DIR OUTDIR [--jobs N] ...\n"
		"                                 every image below DIR, in parallel, resumable\n"
		"  iiifd tiles IN OUTDIR --id BASE_URL [--version 2|3] [--tile-size N] [--quality Q]\n"
		"                                 a static level 0 IIIF tree for a plain web server\n"
		"  iiifd cache purge [IDENTIFIER] remove cached renders (all, or of one image)\n"
		"  iiifd import PATH...           import ALTO/PAGE/hOCR/WebVTT/COCO/CSV/YOLO/Label Studio\n"
		"                                 and timed (Whisper, segments) annotations\n"
		"  iiifd dataset SCOPE --format coco|yolo|voc|csv|jsonl --out DIR\n"
		"                                 a training set from stored annotations (docs/ml.md)\n"
		"  iiifd activity [ROOT] [--rebuild] [--json]\n"
		"                                 print the Change Discovery log, or rebuild it\n"
		"  iiifd check ROOT               list unservable files and sidecar errors\n"
		"  iiifd manifest ROOT --public-url URL --out OUTDIR\n"
		"                                 every Collection and Manifest as static JSON files\n"
		"  iiifd cite URL [--region x,y,w,h] [--canvas N | --time a,b] [--viewer NAME]\n"
		"                                 a IIIF Content State: a viewer link and its JSON\n"
		"  iiifd user add|passwd|remove NAME [--roles R,R]\n"
		"                                 the users file of logins (password on stdin)\n"
		"  (convert, tiles, manifest, import and check show progress on standard error;\n"
		"   --quiet turns it off)\n"
		"  iiifd --help | --version\n\n"
		"serve options (each is also a `key = value` line in the --config file):\n"
		"  --%-18s %s\n",
		IIIFD_VERSION, "config FILE", "read settings from an INI file; flags override it");
	iiifd_config_print_help(out);
	fprintf(out, "\nImage API: /iiif/3/{identifier}/info.json and /iiif/2/{identifier}/info.json,\n"
		     "where identifier is the file's path below ROOT with '/' written as %%2F.\n");
}

static enum log_level main_log_level(const char *name)
{
	if (strcmp(name, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcmp(name, "warn") == 0)
		return LOG_LEVEL_WARN;
	if (strcmp(name, "error") == 0)
		return LOG_LEVEL_ERROR;
	return LOG_LEVEL_INFO;
}

/* Blocks the signals main sigwait()s for in every thread (the pool inherits the mask). */
static void main_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int main_workers(const struct iiifd_config *cfg)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cfg->workers > 0 ? cfg->workers : 32 + 8 * (int)(cores > 0 ? cores : 1);
}

/*
 * Each connection costs a descriptor: raise the soft limit to the hard one, and warn when even
 * that cannot hold max-connections plus the files renders open.
 */
static void main_raise_fd_limit(const struct iiifd_config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)cfg->max_connections + 256)
		log_warn("max-connections is %d but only %llu files may be open (ulimit -n)",
			 cfg->max_connections, (unsigned long long)rl.rlim_cur);
}

/*
 * The server's handler and body check: each call holds the config current when it starts, as
 * this thread's config_live_now(), so a reload in the middle of a request neither frees nor mixes
 * the settings it reads (core/config_live.h).
 */
static void main_handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
	config_live_enter();
	router_handle(ctx, req, resp);
	config_live_leave();
}

static int main_body_check(void *ctx, const struct http_request *req, size_t *max_body,
			   struct iiifd_error *err)
{
	config_live_enter();
	int rc = router_body_check(ctx, req, max_body, err);
	config_live_leave();
	return rc;
}

static bool main_has_config_file(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0)
			return true;
	return false;
}

/* Publishes next, then applies what a reload changes outside config_live_now()'s readers. */
static void main_apply(struct http_server *server, struct iiifd_config *next)
{
	enum log_level level = main_log_level(next->log_level);
	bool access_log = next->access_log;
	int header_s = next->header_timeout, body_s = next->body_timeout;
	int keepalive_s = next->keepalive_timeout;
	if (config_live_publish(next) < 0) { /* next is then still ours */
		log_error("reload: out of memory, keeping the running settings");
		iiifd_config_release(next);
		return;
	}
	log_set_level(level);
	http_server_set_access_log(server, access_log);
	http_server_set_timeouts(server, header_s, body_s, keepalive_s);
}

/*
 * SIGHUP: re-reads the --config file with the same flags overriding it, as at the start. A file
 * that does not load or validate changes nothing; otherwise the settings a reload can change take
 * effect for the requests that start from now on, and the others keep their running values
 * (the log names them) until a restart.
 */
/* Reload: the access-file named by the settings now in force is read again (auth/state.h). */
static void main_reload_access_file(struct auth_state *auth)
{
	const struct iiifd_config *now = config_live_hold();
	auth_state_reload_access_file(auth, now->access_file);
	config_live_drop(now);
}

static void main_reload(int argc, char **argv, struct http_server *server,
			struct auth_state *auth)
{
	if (!main_has_config_file(argc, argv)) {
		log_warn("SIGHUP: no --config file to re-read; only the access-file is read again");
		main_reload_access_file(auth);
		return;
	}
	struct iiifd_config next;
	struct iiifd_error err = { 0 };
	iiifd_config_init(&next);
	if (iiifd_config_parse_args(&next, argc, argv, &err) < 0 ||
	    iiifd_config_validate(&next, &err) < 0) {
		log_error("reload failed, keeping the running settings: %s", err.msg);
		iiifd_config_release(&next);
		return;
	}
	const struct iiifd_config *cur = config_live_hold();
	char applied[1024], restart[1024];
	iiifd_config_changes(cur, &next, applied, sizeof applied, restart, sizeof restart);
	int kept = iiifd_config_keep_restart_only(&next, cur);
	/* a more verbose log-level first, so that the lines below show under it */
	if (main_log_level(next.log_level) < main_log_level(cur->log_level))
		log_set_level(main_log_level(next.log_level));
	config_live_drop(cur);
	if (kept < 0) {
		log_error("reload: out of memory, keeping the running settings");
		iiifd_config_release(&next);
		return;
	}
	if (*restart)
		log_warn("reload: these changed settings take effect only after a restart: %s",
			 restart);
	/* logged before a less verbose log-level hides it */
	log_info("reloading the configuration; applying: %s", *applied ? applied : "no changes");
	main_apply(server, &next);
	main_reload_access_file(auth);
}

/* Serves until SIGTERM/SIGINT, reloading on SIGHUP; signals: those main_block_signals() set. */
static int main_run_server(const struct iiifd_config *cfg, const char *root_real, int argc,
			   char **argv, const sigset_t *signals)
{
	main_raise_fd_limit(cfg);
	struct router router;
	struct iiifd_error err = { 0 };
	struct auth_state *auth = auth_state_new(cfg, root_real, &err);
	if (!auth || image_service_init(&router.image, cfg, root_real, &err) < 0) {
		log_error("%s", err.msg);
		auth_state_free(auth);
		return 1;
	}
	router.image.auth = router.auth = auth;
	if (pres_service_init(&router.presentation, cfg, root_real, router.image.sources,
			      &router.image.info.limits, &err) < 0) {
		log_error("%s", err.msg);
		image_service_release(&router.image);
		auth_state_free(auth);
		return 1;
	}
	router.presentation.admission = router.image.admission;
	router.presentation.auth = auth;
	auth_state_set_db(auth, router.presentation.db); /* logouts seen by every node */
	pyramid_queue_use_store(router.image.pyramids, router.presentation.db); /* built once */
	db_pool_limit(router.presentation.db, cfg->database_pool);
	if (discovery_service_init(&router.discovery, cfg, root_real, router.presentation.db,
				   &err) < 0) {
		log_error("%s", err.msg);
		pres_service_release(&router.presentation);
		image_service_release(&router.image);
		auth_state_free(auth);
		return 1;
	}
	router.presentation.activity_stream = router.discovery.enabled;
	struct http_server_options opt = {
		.host = cfg->host, .port = cfg->port, .max_connections = cfg->max_connections,
		.max_per_client = cfg->max_connections_per_client,
		.trusted_proxies = cfg->trusted_proxies, .ops_address = cfg->metrics_address,
		.header_timeout = cfg->header_timeout,
		.body_timeout = cfg->body_timeout, .keepalive_timeout = cfg->keepalive_timeout,
		.workers = main_workers(cfg), .access_log = cfg->access_log,
		.handler = main_handle, .body_check = main_body_check, .ctx = &router,
	};
	struct http_server *server = http_server_start(&opt, &err);
	if (!server) {
		log_error("%s", err.msg);
		discovery_service_release(&router.discovery);
		pres_service_release(&router.presentation);
		image_service_release(&router.image);
		auth_state_free(auth);
		return 1;
	}
	log_info("iiifd %s serving %s on http://%s:%d/", IIIFD_VERSION, root_real, cfg->host,
		 cfg->port);
	int sig = 0;
	while (sigwait(signals, &sig) == 0 && sig == SIGHUP)
		main_reload(argc, argv, server, auth);
	const struct iiifd_config *now = config_live_hold(); /* the last reload's */
	int timeout = now->shutdown_timeout;
	config_live_drop(now);
	log_info("received %s, finishing requests in flight (up to %d s)",
		 sig == SIGINT ? "SIGINT" : "SIGTERM", timeout);
	http_server_stop(server, timeout);
	discovery_service_release(&router.discovery);
	pyramid_queue_use_store(router.image.pyramids, NULL); /* before its store closes */
	pres_service_release(&router.presentation);
	image_service_release(&router.image);
	auth_state_free(auth);
	log_info("stopped");
	return 0;
}

static int main_serve(int argc, char **argv)
{
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	char root_real[PATH_MAX];
	struct storage_root *root = NULL; /* the served files (storage/root.h) */
	int rc = 2;
	/* from the start: a reload or stop sent while starting waits until the server runs */
	sigset_t signals;
	main_block_signals(&signals);
	iiifd_config_init(&cfg);
	if (iiifd_config_parse_args(&cfg, argc, argv, &err) < 0 ||
	    iiifd_config_validate(&cfg, &err) < 0) {
		fprintf(stderr, "iiifd: %s\n(see iiifd --help)\n", err.msg);
		goto out;
	}
	log_set_level(main_log_level(cfg.log_level));
	rc = 1;
	if (storage_root_open_config(&cfg, &root, &err) < 0) {
		log_error("root '%s': %s", cfg.root, err.msg);
		goto out;
	}
	snprintf(root_real, sizeof root_real, "%s", storage_root_name(root));
	main_tune_malloc();
	if (VIPS_INIT("iiifd")) {
		log_error("libvips failed to start: %s", vips_error_buffer());
		goto out;
	}
	vips_cache_set_max(0);     /* every request is different; caching ops only costs memory */
	vips_concurrency_set(1);   /* parallelism comes from the HTTP thread pool */
	vips_vector_set_enabled(cfg.simd);
	/* cfg stays the services' (restart-only settings); a copy is the first live config */
	struct iiifd_config live;
	bool copied = iiifd_config_copy(&live, &cfg) == 0;
	if (!copied || config_live_publish(&live) < 0) {
		log_error("out of memory");
		if (copied)
			iiifd_config_release(&live);
		vips_shutdown();
		goto out;
	}
	rc = main_run_server(&cfg, root_real, argc, argv, &signals);
	config_live_shutdown();
	vips_shutdown();
out:
	storage_root_close(root);
	iiifd_config_release(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	log_init();
	if (argc < 2) {
		main_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("iiifd %s\n", IIIFD_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return main_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "convert") == 0)
		return tools_convert_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "tiles") == 0)
		return tools_tiles_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "user") == 0)
		return tools_user_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "cache") == 0)
		return tools_cache_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "check") == 0)
		return tools_check_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "manifest") == 0)
		return tools_manifest_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "cite") == 0)
		return tools_cite_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "import") == 0)
		return tools_import_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "dataset") == 0)
		return tools_dataset_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "activity") == 0)
		return tools_activity_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "verify-codestream") == 0) /* the HTJ2K check's child (ht_guard.h) */
		return tools_verify_codestream_main(argc - 2, argv + 2);
	fprintf(stderr, "iiifd: unknown command '%s'\n(see iiifd --help)\n", argv[1]);
	return 2;
}
