/*
 * j2k_tlm.c: TLM segments for a codestream iiifd has written (see j2k_tlm.h). The main
 * header's marker segments are walked to the first SOT, then the tile-parts from SOT to SOT
 * (each SOT gives its tile and length, Psot 0 meaning "to the EOC"); the tile-parts are moved
 * up by the size of the new segments, from the end backwards, and the segments are written
 * into the gap. TLM entries are 16-bit tile indexes and 32-bit lengths (Stlm 0x60).
 */
#include "image/j2k_tlm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	MARKER_SOC = 0xff4f, MARKER_SOT = 0xff90, MARKER_EOC = 0xffd9, MARKER_TLM = 0xff55,
	SOT_LENGTH = 12,          /* SOT marker and its segment */
	ENTRY_SIZE = 6,           /* Ttlm (16 bits) and Ptlm (32 bits) */
	SEGMENT_HEAD = 6,         /* TLM marker, Ltlm, Ztlm, Stlm */
	ENTRIES_PER_SEGMENT = (65535 - 4) / ENTRY_SIZE,
	MAX_SEGMENTS = 256,       /* Ztlm is one byte */
	MOVE_CHUNK = 1 << 20,
};

/* The tile-parts found: tile index and length of each, in codestream order. */
struct tile_parts {
	uint16_t *tile;   /* owned */
	uint32_t *length; /* owned */
	size_t count, capacity;
};

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static int read_full(int fd, off_t at, void *buf, size_t n)
{
	return pread(fd, buf, n, at) == (ssize_t)n ? 0 : -1;
}

static int write_full(int fd, off_t at, const void *buf, size_t n)
{
	return pwrite(fd, buf, n, at) == (ssize_t)n ? 0 : -1;
}

static int parts_push(struct tile_parts *p, uint32_t tile, uint32_t length)
{
	if (p->count == p->capacity) {
		size_t capacity = p->capacity ? p->capacity * 2 : 1024;
		uint16_t *tiles = realloc(p->tile, capacity * sizeof *tiles);
		if (tiles)
			p->tile = tiles;
		uint32_t *lengths = realloc(p->length, capacity * sizeof *lengths);
		if (lengths)
			p->length = lengths;
		if (!tiles || !lengths)
			return -1;
		p->capacity = capacity;
	}
	p->tile[p->count] = (uint16_t)tile;
	p->length[p->count++] = length;
	return 0;
}

/* The offset of the first SOT; 0 when the main header has a TLM already; -1 when malformed. */
static off_t main_header_end(int fd, off_t at, off_t end)
{
	uint8_t b[4];
	if (read_full(fd, at, b, 2) < 0 || be16(b) != MARKER_SOC)
		return -1;
	for (at += 2; at + 4 <= end; at += 2 + be16(b + 2)) {
		if (read_full(fd, at, b, 4) < 0 || b[0] != 0xff)
			return -1;
		if (be16(b) == MARKER_SOT)
			return at;
		if (be16(b) == MARKER_TLM)
			return 0;
		if (be16(b + 2) < 2)
			return -1;
	}
	return -1;
}

/* Every tile-part from the first SOT at at to the EOC ending the stream at end. */
static int walk_tile_parts(int fd, off_t at, off_t end, struct tile_parts *parts)
{
	uint8_t b[SOT_LENGTH];
	while (at + 2 <= end) {
		if (read_full(fd, at, b, 2) < 0)
			return -1;
		if (be16(b) == MARKER_EOC)
			return at + 2 == end ? 0 : -1;
		if (be16(b) != MARKER_SOT || read_full(fd, at, b, SOT_LENGTH) < 0)
			return -1;
		uint64_t length = be32(b + 6);
		if (length == 0) /* the last tile-part: up to the EOC */
			length = (uint64_t)(end - 2 - at);
		if (length < SOT_LENGTH || length > (uint64_t)(end - at) || length > UINT32_MAX ||
		    parts_push(parts, be16(b + 4), (uint32_t)length) < 0)
			return -1;
		at += (off_t)length;
	}
	return -1;
}

/* The TLM segments for parts (size bytes, malloc'ed; the caller frees). */
static uint8_t *tlm_segments(const struct tile_parts *parts, size_t *size)
{
	size_t segments = (parts->count + ENTRIES_PER_SEGMENT - 1) / ENTRIES_PER_SEGMENT;
	*size = segments * SEGMENT_HEAD + parts->count * ENTRY_SIZE;
	uint8_t *out = malloc(*size), *p = out;
	for (size_t z = 0, i = 0; out && z < segments; z++) {
		size_t n = parts->count - i < ENTRIES_PER_SEGMENT ? parts->count - i
								   : ENTRIES_PER_SEGMENT;
		put_be16(p, MARKER_TLM);
		put_be16(p + 2, (uint32_t)(4 + n * ENTRY_SIZE));
		p[4] = (uint8_t)z, p[5] = 0x60; /* ST 2: 16-bit Ttlm; SP 1: 32-bit Ptlm */
		for (p += SEGMENT_HEAD; n > 0; n--, i++, p += ENTRY_SIZE) {
			put_be16(p, parts->tile[i]);
			put_be16(p + 2, parts->length[i] >> 16);
			put_be16(p + 4, parts->length[i]);
		}
	}
	return out;
}

/* Moves [from, end) up by gap bytes, the last chunk first (the ranges overlap). */
static int move_up(int fd, off_t from, off_t end, size_t gap)
{
	uint8_t *buf = malloc(MOVE_CHUNK);
	int rc = buf ? 0 : -1;
	for (off_t at = end; rc == 0 && at > from;) {
		size_t n = at - from < MOVE_CHUNK ? (size_t)(at - from) : MOVE_CHUNK;
		at -= (off_t)n;
		rc = read_full(fd, at, buf, n) < 0 || write_full(fd, at + (off_t)gap, buf, n) < 0
			     ? -1
			     : 0;
	}
	free(buf);
	return rc;
}

static long insert(int fd, off_t start, off_t end, struct tile_parts *parts, const char **why)
{
	off_t sot = main_header_end(fd, start, end);
	if (sot == 0)
		return 0;
	if (sot < 0 || walk_tile_parts(fd, sot, end, parts) < 0) {
		*why = "the codestream is not well formed";
		return -1;
	}
	if (parts->count == 0 || parts->count > (size_t)MAX_SEGMENTS * ENTRIES_PER_SEGMENT)
		return 0;
	size_t size;
	uint8_t *segments = tlm_segments(parts, &size);
	int rc = segments ? move_up(fd, sot, end, size) : -1;
	if (rc == 0)
		rc = write_full(fd, sot, segments, size);
	free(segments);
	if (rc < 0)
		*why = "cannot add the tile-part index";
	return rc < 0 ? -1 : (long)size;
}

long j2k_insert_tlm(FILE *f, off_t start, char *error, size_t len)
{
	struct stat st;
	const char *why = "cannot read the codestream back";
	struct tile_parts parts = { 0 };
	long added = -1;
	if (fflush(f) == 0 && fstat(fileno(f), &st) == 0)
		added = insert(fileno(f), start, st.st_size, &parts, &why);
	free(parts.tile);
	free(parts.length);
	if (fseeko(f, 0, SEEK_END) < 0)
		added = -1;
	if (added < 0)
		snprintf(error, len, "%s", why);
	return added;
}
