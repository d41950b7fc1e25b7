/*
 * service.c: serves the activity stream from the log, with caching suited to each document:
 * a page before the last never changes (a year's max-age, not `immutable`: an emptied data
 * folder starts a new log at page 0); the last page and the collection grow (short max-age).
 * Every answer has an ETag of its body.
 */
#include "discovery/service.h"

#include <glib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db/activity.h"
#include "db/db.h"
#include "discovery/discovery.h"
#include "discovery/stream.h"
#include "discovery/watch.h"
#include "presentation/service.h"

#define DISCOVERY_CACHE_FULL "public, max-age=31536000"
#define DISCOVERY_CACHE_GROWING "public, max-age=10"

char *discovery_service_db_path(const struct iiifd_config *cfg)
{
	return g_build_filename(cfg->data_dir, "annotations.sqlite", NULL);
}

int discovery_service_init(struct discovery_service *svc, const struct iiifd_config *cfg,
			   const char *root_real, struct db *db, struct iiifd_error *err)
{
	memset(svc, 0, sizeof *svc);
	svc->enabled = cfg->discovery;
	svc->page_size = cfg->discovery_page_size;
	if (!svc->enabled)
		return 0;
	if (!db) {
		char *path = discovery_service_db_path(cfg);
		int rc = g_mkdir_with_parents(cfg->data_dir, 0755) < 0
				 ? iiifd_error_set(err, 500, "data-dir '%s' cannot be created",
						   cfg->data_dir)
				 : db_open(path, &svc->owned_db, err);
		g_free(path);
		if (rc < 0) { /* a read-only deployment without annotations still serves */
			log_warn("discovery: %s; the activity stream is off", err->msg);
			svc->enabled = false;
			return 0;
		}
		db = svc->owned_db;
	}
	svc->db = db;
	svc->lock_path = g_build_filename(cfg->data_dir, "activity.lock", NULL);
	svc->watch = discovery_watch_start(db, root_real, svc->lock_path,
					   cfg->discovery_scan_interval, err);
	if (!svc->watch) {
		discovery_service_release(svc);
		return -1;
	}
	return 0;
}

void discovery_service_release(struct discovery_service *svc)
{
	discovery_watch_stop(svc->watch); /* before the store it writes to */
	svc->watch = NULL;
	if (svc->owned_db)
		db_close(svc->owned_db);
	svc->owned_db = NULL;
	svc->db = NULL;
	g_free(svc->lock_path);
	svc->lock_path = NULL;
}

static json_t *discovery_page_doc(const struct discovery_service *svc, const char *origin,
				  int64_t page, int64_t total, struct iiifd_error *err)
{
	struct db_activity *items = NULL;
	size_t count = 0;
	if (db_activity_range(svc->db, page * svc->page_size, svc->page_size, &items, &count,
			      err) < 0)
		return NULL;
	json_t *doc = discovery_stream_page(origin, page, svc->page_size, total, items, count);
	db_activity_list_free(items, count);
	return doc;
}

void discovery_service_handle(const struct discovery_service *svc,
			      const struct pres_service *pres, const char *path,
			      const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct discovery_target t;
	int64_t total = 0;
	json_t *doc = NULL;
	const char *cache = DISCOVERY_CACHE_GROWING;
	char origin[900];
	resp->route = METRICS_ROUTE_PRESENTATION;
	pres_service_origin(pres, req, origin, sizeof origin);
	if (!svc->enabled)
		iiifd_error_set(&err, 404, "Change Discovery is off (discovery = false, or its "
					   "database could not be used: see the log)");
	else if (discovery_stream_parse(path, &t, &err) == 0 &&
		 db_activity_count(svc->db, &total, &err) == 0) {
		int64_t pages = discovery_stream_pages(total, svc->page_size);
		if (total == 0) {
			http_response_header(resp, "Retry-After", "5");
			iiifd_error_set(&err, 503, "the activity log is being built; try again soon");
		} else if (t.collection) {
			doc = discovery_stream_collection(origin, total, svc->page_size);
		} else if (t.page >= pages) {
			iiifd_error_set(&err, 404, "no page %lld: the stream has %lld pages",
					(long long)t.page, (long long)pages);
		} else {
			doc = discovery_page_doc(svc, origin, t.page, total, &err);
			if (t.page + 1 < pages)
				cache = DISCOVERY_CACHE_FULL;
		}
	}
	if (doc)
		http_response_json(resp, req, doc, DISCOVERY_CONTEXT, true, cache, false);
	else
		http_response_error(resp, &err);
	json_decref(doc);
}

void discovery_note_edit(struct db *db, const char *path)
{
	struct iiifd_error err = { 0 };
	if (!db || !path || !db_activity_supported(db))
		return;
	if (db_activity_mark(db, path, &err) < 0)
		log_warn("discovery: edit of '%s' not recorded: %s", path, err.msg);
	discovery_watch_poke();
}

void discovery_note_import(void)
{
	discovery_watch_poke();
}
