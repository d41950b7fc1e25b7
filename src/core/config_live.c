/*
 * config_live.c: the current config behind a mutex-guarded pointer with a reference count per
 * published config. The mutex covers only "read the pointer and count a reference", so a config
 * cannot be freed between a reader finding it and counting itself in; dropping is a lone atomic.
 */
#include "core/config_live.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

struct config_snapshot {
	struct iiifd_config cfg; /* first: a config pointer is a snapshot pointer */
	atomic_int refs;
};

static pthread_mutex_t config_live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config_snapshot *config_live_current; /* one reference is the live one */
static struct config_snapshot *config_live_first;   /* one reference, kept for now()'s fallback */
static _Thread_local const struct iiifd_config *config_live_held;

static void config_snapshot_unref(struct config_snapshot *snap)
{
	if (snap && atomic_fetch_sub(&snap->refs, 1) == 1) {
		iiifd_config_release(&snap->cfg);
		free(snap);
	}
}

int config_live_publish(struct iiifd_config *cfg)
{
	struct config_snapshot *snap = calloc(1, sizeof *snap);
	if (!snap)
		return -1;
	snap->cfg = *cfg;
	*cfg = (struct iiifd_config){ 0 };
	atomic_init(&snap->refs, 1);
	pthread_mutex_lock(&config_live_lock);
	struct config_snapshot *old = config_live_current;
	config_live_current = snap;
	if (!config_live_first) {
		atomic_fetch_add(&snap->refs, 1);
		config_live_first = snap;
	}
	pthread_mutex_unlock(&config_live_lock);
	config_snapshot_unref(old);
	return 0;
}

const struct iiifd_config *config_live_hold(void)
{
	pthread_mutex_lock(&config_live_lock);
	struct config_snapshot *snap = config_live_current;
	if (snap)
		atomic_fetch_add(&snap->refs, 1);
	pthread_mutex_unlock(&config_live_lock);
	return snap ? &snap->cfg : NULL;
}

void config_live_drop(const struct iiifd_config *cfg)
{
	if (cfg)
		config_snapshot_unref((struct config_snapshot *)(void *)cfg);
}

const struct iiifd_config *config_live_enter(void)
{
	config_live_drop(config_live_held);
	return config_live_held = config_live_hold();
}

void config_live_leave(void)
{
	config_live_drop(config_live_held);
	config_live_held = NULL;
}

const struct iiifd_config *config_live_now(void)
{
	/* config_live_first is set before the server's threads start and cleared after they stop */
	if (config_live_held)
		return config_live_held;
	return config_live_first ? &config_live_first->cfg : NULL;
}

void config_live_shutdown(void)
{
	pthread_mutex_lock(&config_live_lock);
	struct config_snapshot *cur = config_live_current, *first = config_live_first;
	config_live_current = config_live_first = NULL;
	pthread_mutex_unlock(&config_live_lock);
	config_snapshot_unref(cur);
	config_snapshot_unref(first);
}
