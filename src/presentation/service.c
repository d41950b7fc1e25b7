/*
 * service.c: the Presentation area's state: the annotation store, import queue and caches it
 * owns from start to stop, whether it can answer (readiness), and the per-request origin and
 * document context. Answering lives in route.c (documents), annotation_routes.c and
 * media_routes.c.
 */
#include "presentation/service.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "annotation/ingest.h"
#include "annotation/page_cache.h"
#include "core/config_live.h"
#include "db/db.h"
#include "image/service.h"
#include "presentation/canvas_index.h"

int pres_service_init(struct pres_service *svc, const struct iiifd_config *cfg,
		      const char *root_real, struct image_source_cache *sources,
		      const struct image_limits *limits, struct iiifd_error *err)
{
	memset(svc, 0, sizeof *svc);
	svc->cfg = cfg;
	svc->root_real = root_real;
	svc->sources = sources;
	svc->limits = *limits;
	snprintf(svc->fallback_host, sizeof svc->fallback_host, "%s:%d", cfg->host, cfg->port);
	svc->media = media_probe_cache_new((size_t)cfg->source_cache_entries);
	svc->indexes = pres_index_cache_new();
	if (!svc->media || !svc->indexes) {
		pres_service_release(svc);
		return iiifd_error_set(err, 500, "out of memory");
	}
	if (!cfg->annotations)
		return 0;
	char *path = db_location(cfg->database, cfg->data_dir, err);
	int rc = path ? db_open(path, &svc->db, err) : -1;
	svc->pages = page_cache_new(path ? path : "", 64u << 20);
	svc->db_path = path;
	svc->db_shared = rc == 0 && db_is_shared(svc->db);
	page_cache_use_store(svc->pages, svc->db);
	struct stat st;
	if (rc == 0 && !svc->db_shared && stat(path, &st) == 0) {
		svc->db_dev = (unsigned long long)st.st_dev;
		svc->db_ino = (unsigned long long)st.st_ino;
	}
	if (rc < 0) {
		pres_service_release(svc);
		return -1;
	}
	if (cfg->auto_import) {
		struct pres_context c = { .root_real = root_real, .base = "", .sources = sources,
					  .media = svc->media, .limits = *limits, .db = svc->db,
					  .words_listed = svc->cfg->canvas_words };
		svc->ingest = ingest_queue_new(svc->db, &c, cfg->auto_import_max_mb << 20,
					       ingest_workers(svc->db, cfg->import_workers,
							      cfg->database_pool));
	}
	return 0;
}

void pres_service_release(struct pres_service *svc)
{
	ingest_queue_free(svc->ingest); /* before the store it writes to */
	svc->ingest = NULL;
	if (svc->db)
		db_close(svc->db);
	svc->db = NULL;
	page_cache_free(svc->pages);
	svc->pages = NULL;
	g_free(svc->db_path);
	svc->db_path = NULL;
	media_probe_cache_free(svc->media);
	svc->media = NULL;
	pres_index_cache_free(svc->indexes);
	svc->indexes = NULL;
}

/* Whether the SQLite file is still the one opened (a shared store has no file to check). */
static bool pres_service_file_same(const struct pres_service *svc, char *reason, size_t n)
{
	struct stat st;
	if (svc->db_shared)
		return true;
	if (stat(svc->db_path, &st) < 0) {
		snprintf(reason, n, "the annotation database file is gone (deleted or moved); "
				    "restart iiifd");
		return false;
	}
	if ((unsigned long long)st.st_dev != svc->db_dev ||
	    (unsigned long long)st.st_ino != svc->db_ino) {
		snprintf(reason, n, "the annotation database file was replaced; restart iiifd");
		return false;
	}
	return true;
}

bool pres_service_ready(const struct pres_service *svc, char *reason, size_t n)
{
	struct iiifd_error err = { 0 };
	int64_t count;
	if (!svc->db)
		return true;
	if (!pres_service_file_same(svc, reason, n))
		return false;
	/* one indexed lookup of a Canvas no file can have (a shared store: it answers again) */
	if (db_count_target(svc->db, "\x01ready", 0, "ready", &count, &err) < 0) {
		snprintf(reason, n, "the annotation database does not answer: %s", err.msg);
		return false;
	}
	return true;
}

void pres_service_origin(const struct pres_service *svc, const struct http_request *req,
			 char *origin, size_t n)
{
	const struct iiifd_config *cfg = config_live_now(); /* public-url is reloadable */
	http_request_base_url(req, cfg->public_url, cfg->trust_forwarded, svc->fallback_host, origin,
			      n);
}

void pres_service_context(const struct pres_service *svc, const char *origin,
			  struct pres_context *c)
{
	*c = (struct pres_context){ .root_real = svc->root_real, .base = origin,
				    .sources = svc->sources, .media = svc->media, .db = svc->db,
				    .indexes = svc->indexes, .words_listed = svc->cfg->canvas_words,
				    .ingest = svc->ingest };
	image_service_limits(config_live_now(), &c->limits); /* reloadable */
}
