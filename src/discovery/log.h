/*
 * log.h: keeps the Change Discovery log in step with the root: a scan compared with the states
 * stored with the log gives Create, Update, Delete and Move activities (one per Presentation API
 * variant, 3 then 2), appended together with the new states in one transaction, so a crash
 * loses nothing and a restart repeats nothing.
 */
#ifndef IIIFD_DISCOVERY_LOG_H
#define IIIFD_DISCOVERY_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct db;

struct discovery_sync_result {
	size_t created, updated, deleted, moved; /* resources (each gives 2 activities) */
	size_t resources;                       /* Collections and Manifests seen */
};

/*
 * Scans root_real and appends what changed since the last sync. With refresh, appends a
 * Refresh first (startTime now) and then an Update for every resource that has no other
 * activity in this batch (§2.1.5). Holds lock_path (flock) and a process-wide mutex while it
 * reads and writes, so concurrent syncs (server and `iiifd activity --rebuild`) never record one
 * change twice. A scan that finds nothing changed writes nothing.
 */
int discovery_log_sync(struct db *db, const char *root_real, const char *lock_path, bool refresh,
		       struct discovery_sync_result *res, struct iiifd_error *err);

/* The current UTC time as "YYYY-MM-DDThh:mm:ss.sssZ" (buf of at least 25 bytes). */
void discovery_log_now(char *buf, size_t n);

#endif
