/*
 * activity.c: the Change Discovery log's entry points: checks what callers pass, then asks the
 * backend (struct db_ops).
 */
#include "db/activity.h"

#include <stdlib.h>

#include "db/backend.h"

bool db_activity_supported(const struct db *db)
{
	const struct db_ops *o = db->ops;
	return o->activity_append && o->activity_states && o->activity_count && o->activity_range &&
	       o->activity_mark;
}

static int db_activity_unsupported(const struct db *db, struct iiifd_error *err)
{
	return iiifd_error_set(err, 501, "the %s store keeps no activity log", db->ops->name);
}

static bool db_activity_valid(const struct db_activity *a)
{
	if (!a->type || !a->end_time) /* a Refresh has a start_time and no end_time */
		return a->type && a->start_time && !a->path;
	return a->path && a->object_type && (a->version == 2 || a->version == 3);
}

int db_activity_append(struct db *db, const struct db_activity_batch *batch,
		       struct iiifd_error *err)
{
	if (!db_activity_supported(db))
		return db_activity_unsupported(db, err);
	for (size_t i = 0; i < batch->activity_count; i++)
		if (!db_activity_valid(&batch->activities[i]))
			return iiifd_error_set(err, 500, "activity %zu of a batch is incomplete", i);
	for (size_t i = 0; i < batch->state_count; i++)
		if (!batch->states[i].path || !batch->states[i].type ||
		    !batch->states[i].fingerprint || !batch->states[i].content)
			return iiifd_error_set(err, 500, "resource state %zu is incomplete", i);
	return db->ops->activity_append(db, batch, err);
}

int db_activity_states(struct db *db, int (*fn)(const struct db_resource_state *s, void *ctx),
		       void *ctx, struct iiifd_error *err)
{
	if (!db_activity_supported(db))
		return db_activity_unsupported(db, err);
	return db->ops->activity_states(db, fn, ctx, err);
}

int db_activity_count(struct db *db, int64_t *count, struct iiifd_error *err)
{
	if (!db_activity_supported(db))
		return db_activity_unsupported(db, err);
	return db->ops->activity_count(db, count, err);
}

int db_activity_range(struct db *db, int64_t first, int64_t n, struct db_activity **out,
		      size_t *count, struct iiifd_error *err)
{
	*out = NULL;
	*count = 0;
	if (!db_activity_supported(db))
		return db_activity_unsupported(db, err);
	if (first < 0 || n <= 0)
		return first < 0 ? iiifd_error_set(err, 400, "negative activity index") : 0;
	return db->ops->activity_range(db, first, n, out, count, err);
}

void db_activity_list_free(struct db_activity *items, size_t count)
{
	for (size_t i = 0; items && i < count; i++) {
		free(items[i].type);
		free(items[i].object_type);
		free(items[i].path);
		free(items[i].target_path);
		free(items[i].label);
		free(items[i].start_time);
		free(items[i].end_time);
	}
	free(items);
}

int db_activity_mark(struct db *db, const char *path, struct iiifd_error *err)
{
	if (!db_activity_supported(db))
		return db_activity_unsupported(db, err);
	return db->ops->activity_mark(db, path, err);
}
