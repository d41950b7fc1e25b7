/*
 * scratch.c: a handful of kept buffers behind one mutex; a request takes the smallest that is
 * large enough, or allocates; a returned buffer replaces the smallest kept one when all places
 * are taken and it is larger.
 */
#include "image/scratch.h"

#include <pthread.h>
#include <stdlib.h>

static struct {
	void *buf;
	size_t capacity;
} scratch_kept[SCRATCH_KEEP];
static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;

void *scratch_get(size_t bytes, size_t *capacity)
{
	int best = -1;
	pthread_mutex_lock(&scratch_lock);
	for (int i = 0; i < SCRATCH_KEEP; i++)
		if (scratch_kept[i].buf && scratch_kept[i].capacity >= bytes &&
		    (best < 0 || scratch_kept[i].capacity < scratch_kept[best].capacity))
			best = i;
	void *buf = NULL;
	if (best >= 0) {
		buf = scratch_kept[best].buf;
		*capacity = scratch_kept[best].capacity;
		scratch_kept[best].buf = NULL;
	}
	pthread_mutex_unlock(&scratch_lock);
	if (buf)
		return buf;
	*capacity = bytes;
	return malloc(bytes ? bytes : 1);
}

void scratch_put(void *buf, size_t capacity)
{
	if (!buf)
		return;
	if (capacity > SCRATCH_MAX_BYTES) {
		free(buf);
		return;
	}
	int place = -1;
	pthread_mutex_lock(&scratch_lock);
	for (int i = 0; i < SCRATCH_KEEP && place < 0; i++)
		if (!scratch_kept[i].buf)
			place = i;
	for (int i = 0; i < SCRATCH_KEEP && place < 0; i++)
		if (scratch_kept[i].capacity < capacity)
			place = i;
	void *drop = buf;
	if (place >= 0) {
		drop = scratch_kept[place].buf;
		scratch_kept[place].buf = buf;
		scratch_kept[place].capacity = capacity;
	}
	pthread_mutex_unlock(&scratch_lock);
	free(drop);
}
