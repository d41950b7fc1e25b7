/*
 * watch.h: the background thread that keeps the activity log in step: a sync at start, then one
 * after every burst of inotify events below the root (debounced), on a schedule (for
 * filesystems and object stores inotify does not see), and when the write API edits annotations.
 */
#ifndef IIIFD_DISCOVERY_WATCH_H
#define IIIFD_DISCOVERY_WATCH_H

#include "core/error.h"

struct db;
struct discovery_watch;

/*
 * Starts the thread; db, root_real and lock_path are borrowed and must outlive it. interval_s:
 * seconds between scheduled scans (0 = none). NULL with err when the thread cannot start.
 */
struct discovery_watch *discovery_watch_start(struct db *db, const char *root_real,
					      const char *lock_path, int interval_s,
					      struct iiifd_error *err);
/* Stops and joins the thread (a sync in progress finishes first), frees w. NULL is fine. */
void discovery_watch_stop(struct discovery_watch *w);

/* Asks the running watcher (if any) for a sync soon. Async-signal-unsafe, thread-safe. */
void discovery_watch_poke(void);

#endif
