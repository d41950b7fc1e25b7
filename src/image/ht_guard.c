/*
 * ht_guard.c: see ht_guard.h. One table of verdicts keyed by file and version, one queue of
 * checks to run, `concurrency` worker threads that run them (ht_guard_child.c), one condition
 * variable that waiting requests sleep on. A verdict file is STATE_DIR/<sha256 of the key>
 * holding "good" or "bad REASON", then the key (so a hash collision reads as no verdict).
 */
#include "image/ht_guard.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/log.h"
#include "image/ht_guard_child.h"

#define MAX_WAITING 256     /* checks queued; more: 503 without queueing */
#define MAX_REMEMBERED 65536 /* verdicts in memory; beyond, settled ones are dropped (on disk) */
#define MAX_WORKERS 8
#define REASON_MAX 200

enum entry_state { ENTRY_QUEUED, ENTRY_RUNNING, ENTRY_GOOD, ENTRY_BAD };

struct entry {
	enum entry_state state;
	char *path;
	struct storage_stat version;
	char reason[REASON_MAX];
};

static struct {
	bool active, stopping;
	struct ht_guard_options opt;
	char *state_dir;        /* NULL: verdicts in memory only (the folder could not be made) */
	pthread_mutex_t lock;
	pthread_cond_t changed; /* CLOCK_MONOTONIC: an entry settled, a job queued, or stop */
	GHashTable *entries;    /* key (owned) -> struct entry (owned) */
	GQueue queue;           /* keys (borrowed from entries) of ENTRY_QUEUED entries */
	pthread_t workers[MAX_WORKERS];
	pid_t running[MAX_WORKERS];
	int nworkers;
} guard = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void entry_free(void *p)
{
	struct entry *e = p;
	free(e->path);
	free(e);
}

static char *verdict_file(const char *key)
{
	gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
	char *path = g_strdup_printf("%s/%s", guard.state_dir, sum);
	g_free(sum);
	return path;
}

/* A verdict persisted for key: ENTRY_GOOD, ENTRY_BAD (reason filled), or -1 for none. */
static int verdict_load(const char *key, char reason[REASON_MAX])
{
	if (!guard.state_dir)
		return -1;
	char *path = verdict_file(key);
	gchar *text = NULL;
	gsize len = 0;
	int state = -1;
	if (g_file_get_contents(path, &text, &len, NULL)) {
		char *nl = strchr(text, '\n');
		if (nl && strcmp(nl + 1, key) == 0) {
			*nl = '\0';
			if (strcmp(text, "good") == 0)
				state = ENTRY_GOOD;
			else if (strncmp(text, "bad ", 4) == 0)
				state = ENTRY_BAD, snprintf(reason, REASON_MAX, "%s", text + 4);
		}
	}
	g_free(text);
	g_free(path);
	return state;
}

static void verdict_save(const char *key, const struct entry *e)
{
	if (!guard.state_dir)
		return;
	char *path = verdict_file(key);
	char *text = e->state == ENTRY_GOOD ? g_strdup_printf("good\n%s", key)
					    : g_strdup_printf("bad %s\n%s", e->reason, key);
	if (fileio_write_atomic(path, text, strlen(text), false) < 0)
		log_warn("%s: cannot keep the HTJ2K check's verdict: %s", path, strerror(errno));
	g_free(text);
	g_free(path);
}

/* ---- workers ------------------------------------------------------------------------------ */

static int check_cpu_seconds(int64_t size)
{
	int64_t extra = size > (64 << 20) ? (size - 1) / (64 << 20) : 0;
	int64_t s = guard.opt.cpu_seconds + extra * guard.opt.cpu_seconds_per_64mb;
	return s > 86400 ? 86400 : (int)s;
}

/* Settles e with the verdict (lock held); logs a bad one once. */
static void entry_settle(const char *key, struct entry *e, enum ht_guard_verdict v,
			 const char *reason)
{
	e->state = v == HT_GUARD_GOOD ? ENTRY_GOOD : ENTRY_BAD;
	snprintf(e->reason, sizeof e->reason, "%s", v == HT_GUARD_GOOD ? "" : reason);
	if (v == HT_GUARD_BAD)
		log_error("%s: damaged HTJ2K file, refused until it changes: %s", e->path, reason);
	verdict_save(key, e);
}

static void *worker_main(void *arg)
{
	pid_t *running = arg;
	pthread_mutex_lock(&guard.lock);
	while (!guard.stopping) {
		char *key = g_queue_pop_head(&guard.queue);
		if (!key) {
			pthread_cond_wait(&guard.changed, &guard.lock);
			continue;
		}
		struct entry *e = g_hash_table_lookup(guard.entries, key);
		e->state = ENTRY_RUNNING;
		struct ht_guard_check c = { .path = e->path, .version = &e->version,
					    .tmp_dir = guard.state_dir ? guard.state_dir
								       : g_get_tmp_dir(),
					    .cpu_seconds = check_cpu_seconds(e->version.size),
					    .running = running };
		char reason[REASON_MAX] = "";
		pthread_mutex_unlock(&guard.lock);
		int64_t started = g_get_monotonic_time();
		enum ht_guard_verdict v = ht_guard_child_run(&c, reason, sizeof reason);
		if (v == HT_GUARD_GOOD)
			log_info("%s: HTJ2K check passed in %.2f s", c.path,
				 (double)(g_get_monotonic_time() - started) / 1e6);
		pthread_mutex_lock(&guard.lock);
		if (v == HT_GUARD_NO_VERDICT || guard.stopping) {
			if (!guard.stopping)
				log_warn("%s: HTJ2K check gave no verdict (asked again on the next "
					 "request): %s", e->path, reason);
			g_hash_table_remove(guard.entries, key); /* waiters see it gone: 503 */
		} else {
			entry_settle(key, e, v, reason);
		}
		pthread_cond_broadcast(&guard.changed);
	}
	pthread_mutex_unlock(&guard.lock);
	return NULL;
}

/* ---- admission ---------------------------------------------------------------------------- */

static gboolean entry_settled(void *key, void *value, void *user)
{
	(void)key;
	(void)user;
	const struct entry *e = value;
	return e->state == ENTRY_GOOD || e->state == ENTRY_BAD;
}

/* The entry for key, from memory, the verdict file, or queued now (lock held). NULL: too many
 * checks waiting, or out of memory. */
static struct entry *entry_find(const char *key, const char *path,
				const struct storage_stat *version)
{
	struct entry *e = g_hash_table_lookup(guard.entries, key);
	if (e)
		return e;
	char reason[REASON_MAX] = "";
	int state = verdict_load(key, reason);
	if (state < 0 && g_queue_get_length(&guard.queue) >= MAX_WAITING)
		return NULL;
	if (g_hash_table_size(guard.entries) >= MAX_REMEMBERED)
		g_hash_table_foreach_remove(guard.entries, entry_settled, NULL);
	e = calloc(1, sizeof *e);
	char *k = strdup(key);
	if (!e || !k || !(e->path = strdup(path))) {
		free(k);
		free(e);
		return NULL;
	}
	e->version = *version;
	e->state = state < 0 ? ENTRY_QUEUED : (enum entry_state)state;
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	if (e->state == ENTRY_BAD)
		log_error("%s: damaged HTJ2K file (checked before), refused until it changes: %s",
			  path, reason);
	g_hash_table_insert(guard.entries, k, e);
	if (e->state == ENTRY_QUEUED) {
		g_queue_push_tail(&guard.queue, k);
		pthread_cond_broadcast(&guard.changed);
	}
	return e;
}

static void deadline_after_ms(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000)
		ts->tv_sec++, ts->tv_nsec -= 1000000000;
}

/*
 * What a verdict is kept under: a local file's identity (device and inode: hard links and
 * renames share one check) or a remote file's location, and its version (mtime, size, ETag).
 */
static char *verdict_key(const char *path, const struct storage_stat *version)
{
	char v[160];
	storage_stat_version(version, v, sizeof v);
	if (storage_spec_is_remote(path))
		return g_strdup_printf("%s\n%s", path, v);
	return g_strdup_printf("file %llx:%llx\n%s", (unsigned long long)version->dev,
			       (unsigned long long)version->ino, v);
}

int ht_guard_admit(const char *path, const struct storage_stat *version, bool wait,
		   struct iiifd_error *err)
{
	if (!__atomic_load_n(&guard.active, __ATOMIC_ACQUIRE))
		return 0;
	char *key = verdict_key(path, version);
	struct timespec deadline;
	deadline_after_ms(&deadline, wait ? guard.opt.wait_ms : 0);
	pthread_mutex_lock(&guard.lock);
	int rc = 0;
	struct entry *e = guard.stopping ? NULL : entry_find(key, path, version);
	while (wait && e && (e->state == ENTRY_QUEUED || e->state == ENTRY_RUNNING)) {
		if (pthread_cond_timedwait(&guard.changed, &guard.lock, &deadline) == ETIMEDOUT)
			break;
		/* gone: no verdict this time (asked again by the next request), or stopping */
		e = guard.stopping ? NULL : g_hash_table_lookup(guard.entries, key);
	}
	if (!wait && (!e || e->state == ENTRY_QUEUED || e->state == ENTRY_RUNNING))
		rc = 1;
	else if (!e || e->state == ENTRY_QUEUED || e->state == ENTRY_RUNNING)
		rc = iiifd_error_set(err, 503, "this HTJ2K image is being checked before it is "
						"first decoded; try again shortly");
	else if (e->state == ENTRY_BAD)
		rc = iiifd_error_set(err, 500, "the image file is damaged (its HTJ2K check failed: "
					       "%s)", e->reason);
	pthread_mutex_unlock(&guard.lock);
	g_free(key);
	return rc;
}

/* ---- start and stop ----------------------------------------------------------------------- */

struct ht_guard_options ht_guard_defaults(const char *state_dir, int request_timeout_s)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int wait = request_timeout_s > 0 && request_timeout_s < 30 ? request_timeout_s : 30;
	return (struct ht_guard_options){ .state_dir = state_dir,
					  .concurrency = cores > 2 ? 2 : 1,
					  .wait_ms = wait * 1000,
					  .cpu_seconds = 60,
					  .cpu_seconds_per_64mb = 30 };
}

bool ht_guard_active(void)
{
	return __atomic_load_n(&guard.active, __ATOMIC_ACQUIRE);
}

int ht_guard_start(const struct ht_guard_options *opt, struct iiifd_error *err)
{
	if (guard.entries)
		return guard.active ? 0
				    : iiifd_error_set(err, 500, "the HTJ2K checks were stopped");
	bool persist = g_mkdir_with_parents(opt->state_dir, 0755) == 0 &&
		       access(opt->state_dir, W_OK) == 0;
	if (!persist) /* e.g. a read-only cache-dir with cache = false: checks still run */
		log_warn("%s: cannot keep HTJ2K check verdicts there (%s); they last until the "
			 "server stops", opt->state_dir, strerror(errno));
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&guard.changed, &attr);
	pthread_condattr_destroy(&attr);
	guard.opt = *opt;
	guard.state_dir = persist ? strdup(opt->state_dir) : NULL;
	guard.entries = g_hash_table_new_full(g_str_hash, g_str_equal, free, entry_free);
	g_queue_init(&guard.queue);
	guard.stopping = false;
	int want = opt->concurrency < 1 ? 1 : opt->concurrency > MAX_WORKERS ? MAX_WORKERS
									       : opt->concurrency;
	for (guard.nworkers = 0; guard.nworkers < want; guard.nworkers++)
		if (pthread_create(&guard.workers[guard.nworkers], NULL, worker_main,
				   &guard.running[guard.nworkers]) != 0)
			break;
	if ((persist && !guard.state_dir) || guard.nworkers == 0) {
		ht_guard_stop();
		return iiifd_error_set(err, 500, "cannot start the HTJ2K checks");
	}
	__atomic_store_n(&guard.active, true, __ATOMIC_RELEASE);
	return 0;
}

void ht_guard_stop(void)
{
	if (!guard.entries)
		return;
	pthread_mutex_lock(&guard.lock);
	__atomic_store_n(&guard.active, false, __ATOMIC_RELEASE);
	guard.stopping = true;
	for (int i = 0; i < guard.nworkers; i++) {
		pid_t pid = __atomic_load_n(&guard.running[i], __ATOMIC_ACQUIRE);
		if (pid > 0)
			kill(pid, SIGKILL);
	}
	pthread_cond_broadcast(&guard.changed);
	pthread_mutex_unlock(&guard.lock);
	for (int i = 0; i < guard.nworkers; i++)
		pthread_join(guard.workers[i], NULL);
	guard.nworkers = 0;
	/* the table stays (a request still in ht_guard_admit may read it; it answers 503) */
}
