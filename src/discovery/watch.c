/*
 * watch.c: inotify on every folder below the root plus a timer; each wake-up runs one full
 * discovery_log_sync(), which compares fingerprints, so lost or merged events cost nothing but
 * a later detection by the schedule.
 */
#include "discovery/watch.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "auth/state.h"
#include "core/log.h"
#include "discovery/log.h"

/* Quiet time that ends a burst of events, and the longest a burst may delay a sync. */
#define WATCH_QUIET_MS 200
#define WATCH_BURST_MAX_MS 2000

#define WATCH_MASK                                                                          \
	(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |  \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY | IN_ONLYDIR)

struct discovery_watch {
	struct db *db;
	const char *root_real, *lock_path;
	int interval_s;
	int inotify_fd; /* -1 when inotify is unavailable */
	int wake_fd;    /* eventfd: stop or poke */
	atomic_bool stop;
	atomic_ulong syncs;
	bool watch_full_warned;
	bool failed; /* the last sync failed: retry soon */
	pthread_t thread;
};

static pthread_mutex_t watch_running_lock = PTHREAD_MUTEX_INITIALIZER;
static struct discovery_watch *watch_running;

/* Watches dir and every folder below it (not following symlinks, skipping hidden names). */
static void watch_add_tree(struct discovery_watch *w, const char *dir, int depth)
{
	if (w->inotify_fd < 0 || depth > 64)
		return;
	if (inotify_add_watch(w->inotify_fd, dir, WATCH_MASK) < 0) {
		if (errno == ENOSPC && !w->watch_full_warned) {
			log_warn("discovery: inotify watch limit reached (fs.inotify.max_user_watches); "
				 "changes below %s are found by the scheduled scan", dir);
			w->watch_full_warned = true;
		}
		return;
	}
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		char *child = g_build_filename(dir, e->d_name, NULL);
		watch_add_tree(w, child, depth + 1);
		g_free(child);
	}
	if (d)
		closedir(d);
}

/* A sync that failed (a busy or full database...) is tried again this soon. */
#define WATCH_RETRY_MS 5000

static void watch_sync(struct discovery_watch *w)
{
	struct discovery_sync_result res;
	struct iiifd_error err = { 0 };
	bool first = atomic_load(&w->syncs) == 0;
	auth_policies_recheck(); /* documents served after this scan's Updates show new policies */
	w->failed = discovery_log_sync(w->db, w->root_real, w->lock_path, false, &res, &err) < 0;
	if (w->failed) {
		log_error("discovery: %s (trying again in %d s)", err.msg, WATCH_RETRY_MS / 1000);
	} else if (first) {
		log_info("discovery: first scan done: %zu Collections and Manifests; %zu created, "
			 "%zu updated, %zu deleted, %zu moved since the last run", res.resources,
			 res.created, res.updated, res.deleted, res.moved);
	} else if (res.created + res.updated + res.deleted + res.moved) {
		log_info("discovery: %zu created, %zu updated, %zu deleted, %zu moved",
			 res.created, res.updated, res.deleted, res.moved);
	}
	watch_add_tree(w, w->root_real, 0); /* folders created since: already watched ones stay */
	atomic_fetch_add(&w->syncs, 1);
}

static int64_t watch_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void watch_drain(int fd)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(fd, buf, sizeof buf) > 0)
		;
}

/* After a first event: waits until the folders have been quiet a while (or long enough). */
static void watch_settle(struct discovery_watch *w)
{
	int64_t until = watch_ms() + WATCH_BURST_MAX_MS;
	for (;;) {
		watch_drain(w->inotify_fd);
		int64_t left = until - watch_ms();
		if (left <= 0 || atomic_load(&w->stop))
			return;
		struct pollfd p = { .fd = w->inotify_fd, .events = POLLIN };
		if (poll(&p, 1, (int)(left < WATCH_QUIET_MS ? left : WATCH_QUIET_MS)) <= 0)
			return;
	}
}

static void *watch_main(void *arg)
{
	struct discovery_watch *w = arg;
	watch_sync(w);
	while (!atomic_load(&w->stop)) {
		struct pollfd p[2] = { { .fd = w->wake_fd, .events = POLLIN },
				       { .fd = w->inotify_fd, .events = POLLIN } };
		int timeout = w->interval_s > 0 ? w->interval_s * 1000 : -1;
		if (w->failed && (timeout < 0 || timeout > WATCH_RETRY_MS))
			timeout = WATCH_RETRY_MS;
		int n = poll(p, w->inotify_fd >= 0 ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			uint64_t v;
			if (read(w->wake_fd, &v, sizeof v) < 0) { /* nothing: the poll said ready */
			}
		}
		if (atomic_load(&w->stop))
			break;
		if (n > 0 && (p[1].revents & POLLIN))
			watch_settle(w);
		watch_sync(w);
	}
	return NULL;
}

struct discovery_watch *discovery_watch_start(struct db *db, const char *root_real,
					      const char *lock_path, int interval_s,
					      struct iiifd_error *err)
{
	struct discovery_watch *w = calloc(1, sizeof *w);
	if (!w) {
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	*w = (struct discovery_watch){ .db = db, .root_real = root_real, .lock_path = lock_path,
				       .interval_s = interval_s };
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->inotify_fd < 0)
		log_warn("discovery: no inotify (%s); changes are found by the scheduled scan",
			 strerror(errno));
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0 || pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		iiifd_error_set(err, 500, "discovery: cannot start the change watcher");
		if (w->wake_fd >= 0)
			close(w->wake_fd);
		if (w->inotify_fd >= 0)
			close(w->inotify_fd);
		free(w);
		return NULL;
	}
	pthread_mutex_lock(&watch_running_lock);
	watch_running = w;
	pthread_mutex_unlock(&watch_running_lock);
	return w;
}

static void watch_wake(struct discovery_watch *w)
{
	uint64_t one = 1;
	if (write(w->wake_fd, &one, sizeof one) < 0) { /* full counter: a wake-up is pending */
	}
}

void discovery_watch_poke(void)
{
	pthread_mutex_lock(&watch_running_lock);
	if (watch_running)
		watch_wake(watch_running);
	pthread_mutex_unlock(&watch_running_lock);
}

void discovery_watch_stop(struct discovery_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&watch_running_lock);
	if (watch_running == w)
		watch_running = NULL;
	pthread_mutex_unlock(&watch_running_lock);
	atomic_store(&w->stop, true);
	watch_wake(w);
	pthread_join(w->thread, NULL);
	close(w->wake_fd);
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	free(w);
}
