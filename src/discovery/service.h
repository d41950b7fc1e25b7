/*
 * service.h: the Change Discovery 1.0 area: the activity stream at
 * /iiif/discovery/activity/all-changes and its pages at /iiif/discovery/activity/page/N, and
 * the watcher that fills it.
 */
#ifndef IIIFD_DISCOVERY_SERVICE_H
#define IIIFD_DISCOVERY_SERVICE_H

#include <stdbool.h>

#include "core/config.h"
#include "http/message.h"

struct db;
struct pres_service;
struct discovery_watch;

struct discovery_service {
	bool enabled;
	int page_size;                 /* activities per page (discovery-page-size) */
	struct db *db;                 /* borrowed from the Presentation area, or owned_db */
	struct db *owned_db;           /* opened here when annotations are off */
	char *lock_path;               /* owned (g_free) */
	struct discovery_watch *watch; /* owned */
};

/*
 * Starts the area and its watcher when cfg->discovery: db is the Presentation area's store
 * (borrowed, NULL when annotations are off: the same database file is then opened here; when
 * that fails, e.g. a read-only data-dir, the stream is off with a warning). root_real must
 * outlive svc. -1 with err when the watcher cannot start.
 */
int discovery_service_init(struct discovery_service *svc, const struct iiifd_config *cfg,
			   const char *root_real, struct db *db, struct iiifd_error *err);
void discovery_service_release(struct discovery_service *svc);

/* Answers the raw path below /iiif/discovery/activity/; pres gives the public origin. */
void discovery_service_handle(const struct discovery_service *svc,
			      const struct pres_service *pres, const char *path,
			      const struct http_request *req, struct http_response *resp);

/* The data-dir file that holds the activity log (g_free): the annotation database. */
char *discovery_service_db_path(const struct iiifd_config *cfg);

#endif
