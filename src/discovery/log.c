/*
 * log.c: compares a scan with the stored states and appends the difference as activities.
 */
#include "discovery/log.h"

#include <fcntl.h>
#include <glib.h>
#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "db/activity.h"
#include "db/db.h"
#include "discovery/scan.h"
#include "discovery/visible.h"
#include "presentation/canvas.h"
#include "presentation/manifest.h"
#include "storage/root.h"

/* A stored state, copied out of the store. */
struct log_stored {
	char *path, *type, *fingerprint, *content, *label;
	int64_t mark, mark_seen;
	bool seen; /* the scan found it (same type) */
};

enum log_kind { LOG_CREATE, LOG_UPDATE, LOG_DELETE, LOG_MOVE };

static const char *const log_kind_names[] = {
	[LOG_CREATE] = "Create", [LOG_UPDATE] = "Update", [LOG_DELETE] = "Delete",
	[LOG_MOVE] = "Move",
};

struct log_change {
	enum log_kind kind;
	const struct discovery_resource *now; /* NULL for Delete */
	struct log_stored *was;               /* NULL for Create */
	char *label;                          /* owned: JSON of the label it is described with */
};

struct log_sync {
	const char *root_real;
	GHashTable *stored; /* path -> struct log_stored (owned) */
	GArray *changes;    /* struct log_change */
	struct discovery_sync_result *res;
	char started[32]; /* when the scan began */
};

static void log_stored_free(gpointer p)
{
	struct log_stored *s = p;
	g_free(s->path);
	g_free(s->type);
	g_free(s->fingerprint);
	g_free(s->content);
	g_free(s->label);
	g_free(s);
}

static int log_collect_state(const struct db_resource_state *s, void *ctx)
{
	struct log_sync *sync = ctx;
	struct log_stored *copy = g_new0(struct log_stored, 1);
	*copy = (struct log_stored){ .path = g_strdup(s->path), .type = g_strdup(s->type),
				     .fingerprint = g_strdup(s->fingerprint),
				     .content = g_strdup(s->content), .label = g_strdup(s->label),
				     .mark = s->mark, .mark_seen = s->mark_seen };
	g_hash_table_replace(sync->stored, copy->path, copy);
	return 0;
}

void discovery_log_now(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/*
 * Whether the Manifest of one file has a sidecar (NAME.yml) to take its label from; without
 * one its label is its name, found without listing its folder (which, done for every file of a
 * large folder, would cost the square of its size).
 */
static bool log_file_has_sidecar(const char *root_real, const char *rel)
{
	char *sidecar = g_strdup_printf("%s/%s.yml", root_real, rel);
	struct storage_stat st; /* an object of a bucket: its folder's listing has it, cached */
	bool has = storage_stat(sidecar, &st, NULL) == 0 && !st.is_dir;
	g_free(sidecar);
	return has;
}

/* The label a resource is described with now, as compact JSON (g_free). */
static char *log_label(const char *root_real, const struct discovery_resource *r)
{
	struct pres_context c = { .root_real = root_real, .base = "" };
	json_t *ref = NULL;
	if (r->collection)
		ref = pres_collection_ref(&c, r->path);
	else if (r->is_folder || log_file_has_sidecar(root_real, r->path))
		ref = pres_manifest_ref(&c, r->path, r->is_folder);
	else
		ref = json_pack("{s:o}", "label", pres_label(strrchr(r->path, '/')
								   ? strrchr(r->path, '/') + 1
								   : r->path));
	char *dumped = ref ? json_dumps(json_object_get(ref, "label"), JSON_COMPACT) : NULL;
	char *label = dumped ? g_strdup(dumped) : NULL;
	free(dumped);
	json_decref(ref);
	return label;
}

static void log_add(struct log_sync *sync, enum log_kind kind,
		    const struct discovery_resource *now, struct log_stored *was)
{
	struct log_change ch = { .kind = kind, .now = now, .was = was };
	ch.label = now ? log_label(sync->root_real, now) : g_strdup(was->label);
	g_array_append_val(sync->changes, ch);
}

/* Compares one observed resource with its stored state. */
static void log_compare(struct log_sync *sync, const struct discovery_resource *r,
			GPtrArray *created)
{
	struct log_stored *was = g_hash_table_lookup(sync->stored, r->path);
	if (was && strcmp(was->type, discovery_resource_type(r)) == 0) {
		was->seen = true;
		if (strcmp(was->fingerprint, r->fingerprint) != 0 || was->mark != was->mark_seen)
			log_add(sync, LOG_UPDATE, r, was);
		return;
	}
	g_ptr_array_add(created, (gpointer)r); /* new here, or a new type at this path */
}

/* The stored resource gone with r's content and type, preferring the same name; or NULL. */
static struct log_stored *log_moved_from(GPtrArray *gone, const struct discovery_resource *r)
{
	struct log_stored *best = NULL;
	const char *base = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
	for (guint i = 0; i < gone->len; i++) {
		struct log_stored *g = g_ptr_array_index(gone, i);
		if (strcmp(g->content, r->content) != 0 ||
		    strcmp(g->type, discovery_resource_type(r)) != 0)
			continue;
		const char *gbase = strrchr(g->path, '/') ? strrchr(g->path, '/') + 1 : g->path;
		if (!best || strcmp(gbase, base) == 0)
			best = g;
		if (strcmp(gbase, base) == 0)
			break;
	}
	return best;
}

static gint log_by_path(gconstpointer a, gconstpointer b)
{
	const struct log_stored *x = *(struct log_stored *const *)a;
	const struct log_stored *y = *(struct log_stored *const *)b;
	return strcmp(x->path, y->path);
}

/* Creates, deletes, and the pairs of them that are one resource moved. */
static void log_pair_moves(struct log_sync *sync, GPtrArray *created)
{
	GPtrArray *gone = g_ptr_array_new();
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, sync->stored);
	while (g_hash_table_iter_next(&it, &key, &value))
		if (!((struct log_stored *)value)->seen)
			g_ptr_array_add(gone, value);
	g_ptr_array_sort(gone, log_by_path);
	for (guint i = 0; i < created->len; i++) {
		const struct discovery_resource *r = g_ptr_array_index(created, i);
		struct log_stored *from = log_moved_from(gone, r);
		/* the root never moves; a path that changed type was not moved there */
		if (from && *r->path && *from->path && !g_hash_table_lookup(sync->stored, r->path)) {
			g_ptr_array_remove(gone, from);
			log_add(sync, LOG_MOVE, r, from);
		} else {
			log_add(sync, LOG_CREATE, r, NULL);
		}
	}
	for (guint i = 0; i < gone->len; i++)
		log_add(sync, LOG_DELETE, NULL, g_ptr_array_index(gone, i));
	g_ptr_array_free(gone, TRUE);
}

static void log_diff(struct log_sync *sync, const struct discovery_scan *scan, bool refresh)
{
	GPtrArray *created = g_ptr_array_new();
	for (size_t i = 0; i < scan->count; i++)
		if (discovery_visible(scan->items[i].path))
			log_compare(sync, &scan->items[i], created);
	log_pair_moves(sync, created);
	g_ptr_array_free(created, TRUE);
	if (!refresh)
		return;
	/* §2.1.5: after a Refresh, every resource is re-issued */
	for (size_t i = 0; i < scan->count; i++) {
		struct log_stored *was = g_hash_table_lookup(sync->stored, scan->items[i].path);
		if (was && was->seen && strcmp(was->fingerprint, scan->items[i].fingerprint) == 0 &&
		    was->mark == was->mark_seen)
			log_add(sync, LOG_UPDATE, &scan->items[i], was);
	}
}

/* The activity of one change in one Presentation API variant. */
static struct db_activity log_activity(const struct log_change *ch, int version,
				       char *end_time)
{
	struct db_activity a = { .type = (char *)log_kind_names[ch->kind], .version = version,
				 .label = ch->label, .end_time = end_time };
	if (ch->kind == LOG_DELETE || ch->kind == LOG_MOVE) {
		a.path = ch->was->path;
		a.object_type = ch->was->type;
	} else {
		a.path = ch->now->path;
		a.object_type = (char *)discovery_resource_type(ch->now);
	}
	if (ch->kind == LOG_MOVE)
		a.target_path = ch->now->path;
	return a;
}

/* The state a change leaves for its resource (now's path), or false for a Delete. */
static bool log_state(const struct log_change *ch, struct db_resource_state *s)
{
	if (!ch->now)
		return false;
	*s = (struct db_resource_state){ .path = ch->now->path,
					 .type = (char *)discovery_resource_type(ch->now),
					 .fingerprint = (char *)ch->now->fingerprint,
					 .content = (char *)ch->now->content, .label = ch->label,
					 .mark_seen = ch->kind == LOG_UPDATE ? ch->was->mark : 0 };
	return true;
}

/* The last time the log holds, so that endTime never goes back if the clock does. */
static void log_time(struct db *db, char *now, size_t n)
{
	struct iiifd_error err = { 0 };
	int64_t count = 0;
	struct db_activity *last = NULL;
	size_t got = 0;
	discovery_log_now(now, n);
	if (db_activity_count(db, &count, &err) == 0 && count > 0 &&
	    db_activity_range(db, count - 1, 1, &last, &got, &err) == 0 && got == 1) {
		const char *t = last->end_time ? last->end_time : last->start_time;
		if (t && strcmp(t, now) > 0)
			g_strlcpy(now, t, n);
	}
	db_activity_list_free(last, got);
}

static int log_append(struct db *db, struct log_sync *sync, bool refresh,
		      struct iiifd_error *err)
{
	GArray *changes = sync->changes;
	if (!changes->len && !refresh)
		return 0;
	char now[32];
	log_time(db, now, sizeof now);
	/* the scan that found the changes started then (unless the clock went back since) */
	const char *started = strcmp(sync->started, now) < 0 ? sync->started : now;
	size_t n = 0, ns = 0, ng = 0;
	struct db_activity *acts = g_new0(struct db_activity, 2 * changes->len + 1);
	struct db_resource_state *states = g_new0(struct db_resource_state, changes->len);
	const char **gone = g_new0(const char *, changes->len);
	if (refresh)
		acts[n++] = (struct db_activity){ .type = "Refresh", .start_time = now };
	for (guint i = 0; i < changes->len; i++) {
		const struct log_change *ch = &g_array_index(changes, struct log_change, i);
		acts[n++] = log_activity(ch, 3, now);
		acts[n - 1].start_time = (char *)started;
		acts[n++] = log_activity(ch, 2, now);
		acts[n - 1].start_time = (char *)started;
		if (log_state(ch, &states[ns]))
			ns++;
		if (ch->kind == LOG_DELETE || ch->kind == LOG_MOVE)
			gone[ng++] = ch->was->path;
		sync->res->created += ch->kind == LOG_CREATE;
		sync->res->updated += ch->kind == LOG_UPDATE;
		sync->res->deleted += ch->kind == LOG_DELETE;
		sync->res->moved += ch->kind == LOG_MOVE;
	}
	struct db_activity_batch batch = { .activities = acts, .activity_count = n,
					   .states = states, .state_count = ns,
					   .gone = gone, .gone_count = ng };
	int rc = db_activity_append(db, &batch, err);
	g_free(acts);
	g_free(states);
	g_free(gone);
	return rc;
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The cluster-wide claim (db_source_lock) on reading the states and appending: not a source
 * (sources are relative paths, never starting with '/'), so it shares no lock with imports.
 */
#define DISCOVERY_LOG_CLAIM "/iiifd-activity-log"


static int log_sync_locked(struct db *db, const char *root_real, bool refresh,
			   struct discovery_sync_result *res, struct iiifd_error *err)
{
	struct discovery_scan scan;
	struct log_sync sync = { .root_real = root_real, .res = res };
	discovery_log_now(sync.started, sizeof sync.started);
	int rc = discovery_scan_tree(root_real, &scan, err);
	res->resources = scan.count;
	sync.stored = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, log_stored_free);
	sync.changes = g_array_new(FALSE, TRUE, sizeof(struct log_change));
	if (!rc)
		rc = db_activity_states(db, log_collect_state, &sync, err);
	if (!rc) {
		log_diff(&sync, &scan, refresh);
		rc = log_append(db, &sync, refresh, err);
	}
	for (guint i = 0; i < sync.changes->len; i++)
		g_free(g_array_index(sync.changes, struct log_change, i).label);
	g_array_free(sync.changes, TRUE);
	g_hash_table_destroy(sync.stored);
	discovery_scan_release(&scan);
	return rc;
}

int discovery_log_sync(struct db *db, const char *root_real, const char *lock_path, bool refresh,
		       struct discovery_sync_result *res, struct iiifd_error *err)
{
	memset(res, 0, sizeof *res);
	char *dir = g_path_get_dirname(lock_path); /* with a shared store nothing else made it */
	g_mkdir_with_parents(dir, 0755);
	g_free(dir);
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return iiifd_error_set(err, 500, "%s: cannot open the activity log's lock",
				       lock_path);
	pthread_mutex_lock(&log_lock);
	void *claim = NULL; /* a shared store: nodes on other machines take turns too */
	int rc = flock(fd, LOCK_EX) == 0
			 ? db_source_lock(db, DISCOVERY_LOG_CLAIM, &claim, err)
			 : iiifd_error_set(err, 500, "%s: cannot lock", lock_path);
	if (!rc)
		rc = log_sync_locked(db, root_real, refresh, res, err);
	db_source_unlock(db, claim);
	pthread_mutex_unlock(&log_lock);
	close(fd); /* releases the flock */
	return rc;
}
