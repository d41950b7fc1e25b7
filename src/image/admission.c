/*
 * admission.c: two counting semaphores and a byte budget under one mutex and condition variable.
 * Small and large renders never wait for each other's slots, so a burst of full-size requests
 * cannot take the slots tiles need; only the shared memory budget couples them.
 */
#include "image/admission.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct admission {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int free_slots[2]; /* [0] small, [1] large */
	int64_t budget, used;
};

struct admission *admission_new(int small_slots, int large_slots, int64_t memory_budget)
{
	struct admission *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->changed, &attr);
	pthread_condattr_destroy(&attr);
	a->free_slots[0] = small_slots;
	a->free_slots[1] = large_slots;
	a->budget = memory_budget;
	return a;
}

void admission_free(struct admission *a)
{
	if (!a)
		return;
	pthread_cond_destroy(&a->changed);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static bool admission_fits(const struct admission *a, bool large, int64_t bytes)
{
	return a->free_slots[large] > 0 && a->used + bytes <= a->budget;
}

int admission_enter(struct admission *a, bool large, int64_t bytes, int wait_ms,
		    struct iiifd_error *err)
{
	if (bytes > a->budget)
		return iiifd_error_set(err, 503,
				       "this request needs about %lld MB, more than the memory "
				       "budget of %lld MB",
				       (long long)(bytes >> 20), (long long)(a->budget >> 20));
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
		until.tv_sec++, until.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&a->lock);
	int rc = 0;
	while (!admission_fits(a, large, bytes) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&a->changed, &a->lock, &until);
	bool admitted = admission_fits(a, large, bytes);
	if (admitted) {
		a->free_slots[large]--;
		a->used += bytes;
	}
	pthread_mutex_unlock(&a->lock);
	if (!admitted)
		return iiifd_error_set(err, 503, "the server is busy with other %s; try again",
				       large ? "large images" : "images");
	return 0;
}

void admission_leave(struct admission *a, bool large, int64_t bytes)
{
	pthread_mutex_lock(&a->lock);
	a->free_slots[large]++;
	a->used -= bytes;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->lock);
}
