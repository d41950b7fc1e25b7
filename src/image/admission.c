/*
 * admission.c: two counting semaphores and a byte budget under one mutex, with a first-come,
 * first-served line of waiters for each. Small and large renders never wait for each other's
 * slots, so a burst of full-size requests cannot take the slots tiles need; only the shared
 * memory budget couples them. A request that arrives while others of its class wait queues
 * behind them, so under sustained load every request waits about as long as its line is, and
 * none is starved into a 503 by later arrivals of its class. The first in line waits for its
 * memory even when a smaller request behind it would fit: fair, at the cost of some idle slots.
 */
#include "image/admission.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"

/* One request waiting in line; lives on its thread's stack. */
struct waiter {
	pthread_cond_t turn; /* signalled when it may be able to start */
	const char *client;
};

struct admission {
	pthread_mutex_t lock;
	int slots[2];      /* [0] small, [1] large */
	int free_slots[2];
	GQueue line[2];    /* of struct waiter, oldest first */
	int64_t budget, used;
	GHashTable *held[2];   /* client -> slots of that class it holds (GINT_TO_POINTER) */
	char *last_served[2];  /* the client admitted last from each line */
};

static const char *admission_who(const char *client)
{
	return client && *client ? client : "-";
}

static int admission_held(const struct admission *a, bool large, const char *client)
{
	return GPOINTER_TO_INT(g_hash_table_lookup(a->held[large], client));
}

static void admission_hold(struct admission *a, bool large, const char *client, int delta)
{
	int n = admission_held(a, large, client) + delta;
	if (n > 0)
		g_hash_table_insert(a->held[large], g_strdup(client), GINT_TO_POINTER(n));
	else
		g_hash_table_remove(a->held[large], client);
}

/*
 * Whose turn it is in a line: the oldest waiter of another client than the one served last,
 * among those under their share of the slots; failing that the oldest under its share; failing
 * that (only clients over their share wait) the oldest of all.
 */
static struct waiter *admission_next_locked(const struct admission *a, bool large)
{
	int share = a->slots[large] > 1 ? (a->slots[large] + 1) / 2 : 1;
	struct waiter *under_share = NULL;
	for (GList *l = a->line[large].head; l; l = l->next) {
		struct waiter *w = l->data;
		if (admission_held(a, large, w->client) >= share)
			continue;
		if (!a->last_served[large] || strcmp(w->client, a->last_served[large]) != 0)
			return w;
		if (!under_share)
			under_share = w;
	}
	if (under_share)
		return under_share;
	return a->line[large].head ? a->line[large].head->data : NULL;
}

struct admission *admission_new(int small_slots, int large_slots, int64_t memory_budget)
{
	struct admission *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	pthread_mutex_init(&a->lock, NULL);
	a->slots[0] = a->free_slots[0] = small_slots;
	a->slots[1] = a->free_slots[1] = large_slots;
	for (int c = 0; c < 2; c++)
		a->held[c] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_queue_init(&a->line[0]);
	g_queue_init(&a->line[1]);
	a->budget = memory_budget;
	return a;
}

void admission_free(struct admission *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	for (int c = 0; c < 2; c++) {
		g_hash_table_destroy(a->held[c]);
		g_free(a->last_served[c]);
	}
	free(a);
}

static bool admission_fits(const struct admission *a, bool large, int64_t bytes)
{
	return a->free_slots[large] > 0 && a->used + bytes <= a->budget;
}

/* Wakes the waiter whose turn it is in each line: a slot or memory may have come free for it. */
static void admission_wake_locked(struct admission *a)
{
	for (int c = 0; c < 2; c++) {
		struct waiter *w = admission_next_locked(a, c);
		if (w)
			pthread_cond_signal(&w->turn);
	}
}

static void deadline_after(struct timespec *until, int wait_ms)
{
	clock_gettime(CLOCK_MONOTONIC, until);
	until->tv_sec += wait_ms / 1000;
	until->tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until->tv_nsec >= 1000000000L)
		until->tv_sec++, until->tv_nsec -= 1000000000L;
}

/* Queues behind the waiters already in line and waits for the turn; returns whether admitted. */
static bool admission_wait_locked(struct admission *a, bool large, int64_t bytes, int wait_ms,
				  const char *client)
{
	struct waiter self = { .client = client };
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&self.turn, &attr);
	pthread_condattr_destroy(&attr);
	struct timespec until;
	deadline_after(&until, wait_ms);
	g_queue_push_tail(&a->line[large], &self);
	metrics_admission_waiting(large, 1);
	int rc = 0;
	while (rc != ETIMEDOUT &&
	       !(admission_next_locked(a, large) == &self && admission_fits(a, large, bytes)))
		rc = pthread_cond_timedwait(&self.turn, &a->lock, &until);
	bool admitted = admission_next_locked(a, large) == &self && admission_fits(a, large, bytes);
	g_queue_remove(&a->line[large], &self);
	metrics_admission_waiting(large, -1);
	pthread_cond_destroy(&self.turn);
	return admitted;
}

int admission_enter(struct admission *a, bool large, int64_t bytes, int wait_ms,
		    const char *client, struct iiifd_error *err)
{
	if (bytes > a->budget) {
		metrics_admission_rejected(large, true);
		return iiifd_error_set(err, 400,
				       "this request needs about %lld MB to render, more than the "
				       "memory budget of %lld MB (memory-budget-mb): ask for a smaller "
				       "size or region",
				       (long long)(bytes >> 20), (long long)(a->budget >> 20));
	}
	client = admission_who(client);
	pthread_mutex_lock(&a->lock);
	bool admitted = g_queue_is_empty(&a->line[large]) && admission_fits(a, large, bytes);
	if (!admitted && wait_ms > 0)
		admitted = admission_wait_locked(a, large, bytes, wait_ms, client);
	if (admitted) {
		a->free_slots[large]--;
		a->used += bytes;
		admission_hold(a, large, client, 1);
		g_free(a->last_served[large]);
		a->last_served[large] = g_strdup(client);
	}
	admission_wake_locked(a); /* the next in line may fit too, or be first now */
	pthread_mutex_unlock(&a->lock);
	if (admitted)
		metrics_admission_running(large, 1, bytes);
	else
		metrics_admission_rejected(large, false);
	if (!admitted)
		return iiifd_error_set(err, 503, "the server is busy%s; try again shortly",
				       large ? " with other large images" : "");
	return 0;
}

void admission_leave(struct admission *a, bool large, int64_t bytes, const char *client)
{
	pthread_mutex_lock(&a->lock);
	a->free_slots[large]++;
	a->used -= bytes;
	admission_hold(a, large, admission_who(client), -1);
	admission_wake_locked(a);
	pthread_mutex_unlock(&a->lock);
	metrics_admission_running(large, -1, bytes);
}

int admission_waiting(struct admission *a, bool large)
{
	pthread_mutex_lock(&a->lock);
	int n = (int)g_queue_get_length(&a->line[large]);
	pthread_mutex_unlock(&a->lock);
	return n;
}
