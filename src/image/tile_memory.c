/*
 * tile_memory.c: tile buffers as anonymous mappings; freed ones are kept in a small list behind
 * one mutex (oldest out first) within TILE_MEMORY_KEEP_BYTES. Under AddressSanitizer a mapped
 * buffer's bytes past what was asked for, and kept buffers, are poisoned, so overruns and uses
 * after free are caught as with malloc.
 */
#include "image/tile_memory.h"

#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TILE_MEMORY_KEEP_SLOTS 64

static struct {
	pthread_mutex_t lock;
	struct {
		uint8_t *bytes;
		size_t size;
	} kept[TILE_MEMORY_KEEP_SLOTS]; /* oldest first */
	int count;
	size_t kept_bytes;
	uint64_t mapped, reused, unmapped;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t page_size(void)
{
	long page = sysconf(_SC_PAGESIZE); /* read from the process's auxiliary vector: cheap */
	return page > 0 ? (size_t)page : 4096;
}

/* glibc's chunk for a malloc of bytes: an 8-byte header, 16-byte alignment, 32 bytes at least */
static size_t malloc_chunk_size(size_t bytes)
{
	size_t chunk = (bytes + sizeof(size_t) + 15) & ~(size_t)15;
	return chunk < 32 ? 32 : chunk;
}

size_t tile_memory_size(size_t bytes)
{
	if (bytes >= TILE_MEMORY_MAP_MIN)
		return (bytes + page_size() - 1) / page_size() * page_size();
	return malloc_chunk_size(bytes);
}

static void unmap(uint8_t *bytes, size_t size)
{
	ASAN_UNPOISON_MEMORY_REGION(bytes, size);
	munmap(bytes, size);
}

/* The most recently kept buffer of exactly size, taken out of the list; NULL if none. Locked. */
static uint8_t *pool_take(size_t size)
{
	for (int i = pool.count - 1; i >= 0; i--) {
		if (pool.kept[i].size != size)
			continue;
		uint8_t *bytes = pool.kept[i].bytes;
		memmove(&pool.kept[i], &pool.kept[i + 1],
			(size_t)(pool.count - i - 1) * sizeof pool.kept[0]);
		pool.count--;
		pool.kept_bytes -= size;
		pool.reused++;
		return bytes;
	}
	return NULL;
}

int tile_memory_get(struct tile_memory *m, size_t bytes)
{
	*m = (struct tile_memory){ .size = tile_memory_size(bytes) };
	if (bytes < TILE_MEMORY_MAP_MIN) {
		m->bytes = malloc(bytes ? bytes : 1);
		return m->bytes ? 0 : -1;
	}
	pthread_mutex_lock(&pool.lock);
	m->bytes = pool_take(m->size);
	pthread_mutex_unlock(&pool.lock);
	m->mapped = true;
	if (!m->bytes) {
		/* populated at once: the decoder writes every page, and one call costs less than
		 * a page fault each */
		void *p = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		m->bytes = p == MAP_FAILED ? NULL : p;
		if (m->bytes)
			__atomic_fetch_add(&pool.mapped, 1, __ATOMIC_RELAXED);
	}
	if (m->bytes) {
		ASAN_UNPOISON_MEMORY_REGION(m->bytes, bytes);
		ASAN_POISON_MEMORY_REGION(m->bytes + bytes, m->size - bytes);
		return 0;
	}
	/* no mapping to be had (vm.max_map_count): malloc's memory is still memory */
	*m = (struct tile_memory){ .bytes = malloc(bytes), .size = malloc_chunk_size(bytes) };
	return m->bytes ? 0 : -1;
}

/*
 * Takes the oldest kept buffers out until one more of `room` bytes fits. Locked; they are
 * returned in drop[] (their count), to be unmapped after unlocking.
 */
static int pool_make_room(size_t room, uint8_t **drop, size_t *drop_size)
{
	int n = 0;
	while (pool.count && (pool.count == TILE_MEMORY_KEEP_SLOTS ||
			      pool.kept_bytes + room > TILE_MEMORY_KEEP_BYTES)) {
		drop[n] = pool.kept[0].bytes;
		drop_size[n++] = pool.kept[0].size;
		pool.kept_bytes -= pool.kept[0].size;
		memmove(&pool.kept[0], &pool.kept[1], (size_t)(--pool.count) * sizeof pool.kept[0]);
	}
	return n;
}

void tile_memory_put(struct tile_memory *m)
{
	if (!m->bytes)
		return;
	if (!m->mapped) {
		free(m->bytes);
		*m = (struct tile_memory){ 0 };
		return;
	}
	uint8_t *drop[TILE_MEMORY_KEEP_SLOTS + 1];
	size_t drop_size[TILE_MEMORY_KEEP_SLOTS + 1];
	int n = 0;
	pthread_mutex_lock(&pool.lock);
	if (m->size > TILE_MEMORY_KEEP_BYTES) {
		drop[n] = m->bytes;
		drop_size[n++] = m->size;
	} else {
		n = pool_make_room(m->size, drop, drop_size);
		ASAN_POISON_MEMORY_REGION(m->bytes, m->size);
		pool.kept[pool.count].bytes = m->bytes;
		pool.kept[pool.count++].size = m->size;
		pool.kept_bytes += m->size;
	}
	pool.unmapped += (uint64_t)n;
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < n; i++)
		unmap(drop[i], drop_size[i]);
	*m = (struct tile_memory){ 0 };
}

void tile_memory_get_stats(struct tile_memory_stats *out)
{
	pthread_mutex_lock(&pool.lock);
	*out = (struct tile_memory_stats){
		.mapped = __atomic_load_n(&pool.mapped, __ATOMIC_RELAXED),
		.reused = pool.reused,
		.unmapped = pool.unmapped,
		.kept_bytes = pool.kept_bytes,
	};
	pthread_mutex_unlock(&pool.lock);
}

void tile_memory_drop_kept(void)
{
	uint8_t *drop[TILE_MEMORY_KEEP_SLOTS + 1];
	size_t drop_size[TILE_MEMORY_KEEP_SLOTS + 1];
	pthread_mutex_lock(&pool.lock);
	int n = pool.count;
	for (int i = 0; i < n; i++) {
		drop[i] = pool.kept[i].bytes;
		drop_size[i] = pool.kept[i].size;
	}
	pool.count = 0;
	pool.kept_bytes = 0;
	pool.unmapped += (uint64_t)n;
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < n; i++)
		unmap(drop[i], drop_size[i]);
}
