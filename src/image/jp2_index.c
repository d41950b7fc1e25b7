/*
 * jp2_index.c: a JPEG 2000 file's layout, main header and tile-part table, from its boxes
 * (ISO 15444-1 annex I), the markers of its codestream main header and, from the TLM marker
 * segments of that header when it has them (A.7.1), or else from the SOT marker of every
 * tile-part (annex A), read with small preads. With a TLM the codestream is not walked: for a
 * file in a bucket the index costs the main header's block and the last tile-part's.
 */
#include "image/jp2_internal.h"

#include <stdlib.h>
#include <string.h>

#define BOX(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

enum {
	MARKER_SOC = 0xff4f, MARKER_CAP = 0xff50, MARKER_SIZ = 0xff51, MARKER_COD = 0xff52, MARKER_COC = 0xff53,
	MARKER_TLM = 0xff55, MARKER_PLM = 0xff57, MARKER_PPM = 0xff60, MARKER_COM = 0xff64,
	MARKER_SOT = 0xff90, MARKER_SOD = 0xff93, MARKER_EOC = 0xffd9,
};

#define MAX_MAIN_HEADER (1u << 20)
#define MAX_ICC (16u << 20)

/* What the JP2 header boxes say about colour. */
struct jp2_colour {
	bool palette;      /* pclr: samples are indexes */
	bool channel_defs; /* cdef: alpha or reordered channels */
	int method;        /* colr: 1 enumerated, 2/3 ICC, 0 no colr box */
	uint32_t enumcs;   /* colr method 1: 16 sRGB, 17 grey, 18 sYCC, ... */
	off_t icc_at;      /* colr methods 2/3: where the profile lies */
	size_t icc_len;
};

/* What the TLM marker segments of the main header say: each tile-part's tile and length, in
 * codestream order. */
struct jp2_tlm_entry {
	uint32_t tile, length;
};

struct jp2_tlm {
	struct jp2_tlm_entry *entries; /* owned */
	size_t count, capacity;
	uint32_t next_z; /* the Ztlm expected next: segments are taken in order only */
	bool bad;	 /* a segment this module cannot use: the tile-parts are walked */
};

/* The file being indexed. */
struct jp2_file {
	struct storage_file *fd; /* local or remote (storage/root.h) */
	off_t size;
	off_t codestream, codestream_end;
	struct jp2_colour colour;
	struct jp2_tlm tlm;
	bool scan; /* jp2_index_scan_ht(): read every header, supported or not (PPM too) */
};

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

static int read_at(struct storage_file *fd, off_t at, void *buf, size_t n)
{
	return storage_file_pread(fd, buf, n, (int64_t)at, NULL);
}

/* ---- boxes ---------------------------------------------------------------------------------- */

/* The box at *at (which must end by `end`): its type and payload; moves *at past it. */
static int box_next(struct storage_file *fd, off_t *at, off_t end, uint32_t *type, off_t *payload,
		    off_t *payload_end)
{
	uint8_t h[16];
	if (*at + 8 > end || read_at(fd, *at, h, 8) < 0)
		return -1;
	uint64_t len = be32(h);
	*type = be32(h + 4);
	*payload = *at + 8;
	if (len == 1) { /* a 64-bit length follows */
		if (read_at(fd, *at + 8, h + 8, 8) < 0)
			return -1;
		len = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
		*payload = *at + 16;
	} else if (len == 0) { /* up to the end of the file */
		len = (uint64_t)(end - *at);
	}
	if (len < (uint64_t)(*payload - *at) || len > (uint64_t)(end - *at))
		return -1;
	*payload_end = *at + (off_t)len;
	*at = *payload_end;
	return 0;
}

static int colour_box(struct storage_file *fd, off_t payload, off_t end, struct jp2_colour *c)
{
	uint8_t colr[7];
	if (end - payload < 3 || read_at(fd, payload, colr, 3) < 0)
		return -1;
	c->method = colr[0];
	if (c->method == 1) {
		if (end - payload < 7 || read_at(fd, payload + 3, colr + 3, 4) < 0)
			return -1;
		c->enumcs = be32(colr + 3);
	} else if (c->method == 2 || c->method == 3) {
		c->icc_at = payload + 3;
		c->icc_len = (size_t)(end - payload - 3);
	}
	return 0;
}

/* The children of the JP2 header box. */
static int header_box(struct storage_file *fd, off_t at, off_t end, struct jp2_colour *c)
{
	uint32_t type;
	off_t payload, payload_end;
	while (at < end) {
		if (box_next(fd, &at, end, &type, &payload, &payload_end) < 0)
			return -1;
		if (type == BOX('p', 'c', 'l', 'r'))
			c->palette = true;
		else if (type == BOX('c', 'd', 'e', 'f'))
			c->channel_defs = true;
		else if (type == BOX('c', 'o', 'l', 'r') && c->method == 0 &&
			 colour_box(fd, payload, payload_end, c) < 0)
			return -1;
	}
	return 0;
}

/* Finds the codestream: the whole file for a bare .j2k, else the contiguous codestream box.
 * Returns 0, 415 for a file that is neither, -1 for a damaged one. */
static int find_codestream(struct jp2_file *f)
{
	static const uint8_t signature[12] = { 0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10 };
	uint8_t head[12];
	if (read_at(f->fd, 0, head, sizeof head) < 0)
		return 415;
	if (be16(head) == MARKER_SOC) {
		f->codestream = 0;
		f->codestream_end = f->size;
		return 0;
	}
	if (memcmp(head, signature, sizeof signature) != 0)
		return 415;
	off_t at = 0, payload, payload_end;
	uint32_t type;
	while (at < f->size) {
		if (box_next(f->fd, &at, f->size, &type, &payload, &payload_end) < 0)
			return -1;
		if (type == BOX('j', 'p', '2', 'h') &&
		    header_box(f->fd, payload, payload_end, &f->colour) < 0)
			return -1;
		if (type == BOX('j', 'p', '2', 'c')) {
			f->codestream = payload;
			f->codestream_end = payload_end;
			return 0;
		}
	}
	return -1;
}

/* ---- main header ---------------------------------------------------------------------------- */

/* SIZ, from its length field on: image and tile geometry, components. */
static int parse_siz(const uint8_t *m, size_t len, struct jp2_layout *l)
{
	if (len < 41)
		return -1;
	uint32_t xsiz = be32(m + 4), ysiz = be32(m + 8), xo = be32(m + 12), yo = be32(m + 16);
	uint32_t xt = be32(m + 20), yt = be32(m + 24), xto = be32(m + 28), yto = be32(m + 32);
	uint32_t comps = be16(m + 36);
	if (xsiz <= xo || ysiz <= yo || xt == 0 || yt == 0 || xto > xo || yto > yo ||
	    xo - xto >= xt || yo - yto >= yt || len < 38 + 3 * (size_t)comps || comps == 0)
		return -1;
	l->origin_x = xo;
	l->origin_y = yo;
	l->width = xsiz - xo;
	l->height = ysiz - yo;
	l->tile_origin_x = xto;
	l->tile_origin_y = yto;
	l->tile_width = xt;
	l->tile_height = yt;
	l->tiles_across = (uint32_t)(((uint64_t)xsiz - xto + xt - 1) / xt);
	l->tiles_down = (uint32_t)(((uint64_t)ysiz - yto + yt - 1) / yt);
	l->bands = (int)comps;
	l->precision = (m[38] & 0x7f) + 1;
	for (uint32_t i = 0; i < comps; i++) {
		const uint8_t *ssiz = m + 38 + 3 * i;
		bool step_ok = i == 0 ? ssiz[1] == 1 && ssiz[2] == 1
				      : (ssiz[1] == 1 || ssiz[1] == 2 || ssiz[1] == 4) &&
						(ssiz[2] == 1 || ssiz[2] == 2 || ssiz[2] == 4);
		if ((ssiz[0] & 0x80) || (ssiz[0] & 0x7f) + 1 != l->precision || !step_ok || i >= 3)
			l->bands = 0; /* signed, mixed precision or odd sampling: not for us */
		else
			l->step_x[i] = ssiz[1], l->step_y[i] = ssiz[2];
	}
	return 0;
}

/* JPEG 2000 Part 1 (Table A.15) allows at most 32 decomposition levels; more is a crafted file. */
#define MAX_DECOMPOSITION_LEVELS 32

/* Code-block style bit 6 (ISO 15444-15 Table A.3): the code-blocks are HT ones. OpenJPEG
 * decodes a block with its HT decoder by this bit, with or without a CAP marker. */
#define CBLKSTY_HT 0x40

/*
 * COD and COC, from their length fields on: decomposition levels, so the reductions available
 * (the fewest of any component), and whether the code-blocks are HT ones. -1 for more levels
 * than the standard allows (shifting by them would overflow).
 */
static int parse_levels(uint32_t marker, const uint8_t *m, size_t len, uint32_t comps,
			struct jp2_layout *l)
{
	size_t at = marker == MARKER_COD ? 7 : 2 + (comps < 257 ? 1u : 2u) + 1;
	if (len <= at)
		return 0;
	if (len > at + 3 && (m[at + 3] & CBLKSTY_HT))
		l->ht = true;
	if (m[at] > MAX_DECOMPOSITION_LEVELS)
		return -1;
	int reductions = m[at] + 1;
	if (l->reductions == 0 || reductions < l->reductions)
		l->reductions = reductions;
	return 0;
}

/* Appends a marker segment (n bytes, the marker included) to the index's copy of the header. */
static int keep_marker(struct jp2_index *ix, const uint8_t *segment, size_t n)
{
	if (ix->main_header_len + n > MAX_MAIN_HEADER)
		return -1;
	uint8_t *grown = realloc(ix->main_header, ix->main_header_len + n);
	if (!grown)
		return -1;
	memcpy(grown + ix->main_header_len, segment, n);
	ix->main_header = grown;
	ix->main_header_len += n;
	return 0;
}

/*
 * Reads the marker at *at, which must lie before end. Unless it is `last` (SOT or SOD, which end
 * a header), reads its whole segment into buf (marker, length, payload), sets *len to its length
 * field and moves *at past it. Returns the marker, or 0 for a damaged header.
 */
static uint32_t next_segment(const struct jp2_file *f, off_t *at, off_t end, uint32_t last,
			     uint8_t buf[static 4 + 65535], uint32_t *len)
{
	if (*at + 2 > end || read_at(f->fd, *at, buf, 2) < 0)
		return 0;
	uint32_t marker = be16(buf);
	if (marker == last)
		return marker;
	if ((marker & 0xff00) != 0xff00 || *at + 4 > end || read_at(f->fd, *at + 2, buf + 2, 2) < 0)
		return 0;
	*len = be16(buf + 2);
	if (*len < 2 || *at + 2 + *len > end || read_at(f->fd, *at + 4, buf + 4, *len - 2) < 0)
		return 0;
	*at += 2 + *len;
	return marker;
}

/* At most this many tile-parts per tile (TPsot is one byte). */
#define MAX_PARTS_PER_TILE 255

static bool tlm_push(struct jp2_tlm *tlm, uint32_t tile, uint32_t length)
{
	if (tlm->count == tlm->capacity) {
		size_t capacity = tlm->capacity ? tlm->capacity * 2 : 256;
		struct jp2_tlm_entry *grown = realloc(tlm->entries, capacity * sizeof *grown);
		if (!grown)
			return false;
		tlm->entries = grown;
		tlm->capacity = capacity;
	}
	tlm->entries[tlm->count++] = (struct jp2_tlm_entry){ .tile = tile, .length = length };
	return true;
}

/*
 * A TLM marker segment, from its length field on (Ltlm, Ztlm, Stlm, then Ttlm/Ptlm pairs of
 * ST and 2 or 4 bytes; ST 0: one tile-part per tile, in tile order). Marks tlm bad when it
 * cannot be used (out of order, malformed, more tile-parts than tiles allow, or more tiles than
 * index_supported() takes: the entries stay bounded).
 */
static void tlm_add(struct jp2_tlm *tlm, const uint8_t *m, size_t len, const struct jp2_layout *l)
{
	size_t tiles = (size_t)l->tiles_across * l->tiles_down;
	if (tlm->bad || len < 4 || tiles == 0 || tiles > 65535 || m[2] != tlm->next_z) {
		tlm->bad = true;
		return;
	}
	tlm->next_z++;
	unsigned st = m[3] >> 4 & 3, sp = m[3] >> 6 & 1, size = st + (sp ? 4 : 2);
	if (st == 3 || (len - 4) % size != 0) {
		tlm->bad = true;
		return;
	}
	for (const uint8_t *e = m + 4; e < m + len && !tlm->bad; e += size) {
		uint32_t tile = st == 0 ? (uint32_t)tlm->count : st == 1 ? e[0] : be16(e);
		uint32_t length = sp ? be32(e + st) : be16(e + st);
		tlm->bad = tile >= tiles || tlm->count >= tiles * MAX_PARTS_PER_TILE ||
			   !tlm_push(tlm, tile, length);
	}
}

/*
 * Copies the main header (leaving out TLM and PLM, which describe the original's tile-parts,
 * and comments) and reads the layout from it. Returns the offset of the first SOT, 0 for a
 * header this module cannot use (PPM), -1 for a damaged one.
 */
static off_t read_main_header(struct jp2_file *f, struct jp2_index *ix)
{
	static uint8_t soc[2] = { 0xff, 0x4f };
	uint8_t buf[4 + 65535];
	off_t at = f->codestream;
	if (read_at(f->fd, at, buf, 2) < 0 || be16(buf) != MARKER_SOC || keep_marker(ix, soc, 2))
		return -1;
	at += 2;
	uint32_t comps = 0, len, marker;
	while ((marker = next_segment(f, &at, f->codestream_end, MARKER_SOT, buf, &len)) != 0) {
		if (marker == MARKER_SOT)
			return comps && ix->layout.reductions > 0 ? at : -1;
		if (marker == MARKER_PPM && !f->scan)
			return 0;
		if (marker == MARKER_CAP) /* Part 15: HT code-blocks may follow */
			ix->layout.ht = true;
		if (marker == MARKER_SIZ) {
			if (comps || parse_siz(buf + 2, len, &ix->layout) < 0)
				return -1;
			comps = be16(buf + 2 + 36);
			ix->siz_at = ix->main_header_len;
		} else if ((marker == MARKER_COD || marker == MARKER_COC) && comps &&
			   parse_levels(marker, buf + 2, len, comps, &ix->layout) < 0) {
			return -1;
		} else if (marker == MARKER_TLM) {
			tlm_add(&f->tlm, buf + 2, len, &ix->layout);
		}
		if (marker != MARKER_TLM && marker != MARKER_PLM && marker != MARKER_COM &&
		    keep_marker(ix, buf, 2 + len) < 0)
			return -1;
	}
	return -1;
}

/* ---- tile-parts ----------------------------------------------------------------------------- */

static int add_part(struct jp2_index *ix, uint32_t *capacity, uint32_t **last_of_tile,
		    const uint8_t sot[12], off_t at, uint64_t length)
{
	uint32_t tile = be16(sot + 4);
	size_t tiles = (size_t)ix->layout.tiles_across * ix->layout.tiles_down;
	if (length > UINT32_MAX || ix->nparts >= tiles * MAX_PARTS_PER_TILE)
		return -1;
	if (ix->nparts == *capacity) {
		*capacity = *capacity ? *capacity * 2 : 1024;
		struct jp2_tile_part *grown = realloc(ix->parts, *capacity * sizeof *grown);
		if (!grown)
			return -1;
		ix->parts = grown;
	}
	uint32_t p = ix->nparts++;
	ix->parts[p] = (struct jp2_tile_part){ (uint64_t)at, (uint32_t)length, JP2_NO_PART, sot[10],
					       sot[11] };
	if ((*last_of_tile)[tile] == JP2_NO_PART)
		ix->first_part[tile] = p;
	else
		ix->parts[(*last_of_tile)[tile]].next = p;
	(*last_of_tile)[tile] = p;
	return 0;
}

/*
 * The markers between a tile-part's SOT and SOD: COD or COC there may give the tile fewer
 * decomposition levels than the main header, and so fewer reductions for the whole image, or
 * HT code-blocks. Read for every tile-part, not only the first of a tile where the standard
 * puts them: what OpenJPEG would decode must not hide HT code-blocks from the layout.
 */
static int read_tile_header(const struct jp2_file *f, struct jp2_index *ix, off_t at, off_t end)
{
	uint8_t buf[4 + 65535];
	uint32_t len, marker;
	while ((marker = next_segment(f, &at, end, MARKER_SOD, buf, &len)) != 0) {
		if (marker == MARKER_SOD)
			return 0;
		if ((marker == MARKER_COD || marker == MARKER_COC) &&
		    parse_levels(marker, buf + 2, len, (uint32_t)ix->layout.bands, &ix->layout) < 0)
			return -1;
	}
	return -1;
}

/* An empty tile-part table, and *last (per tile: its last tile-part so far; the caller frees). */
static int parts_table(struct jp2_index *ix, uint32_t **last)
{
	size_t tiles = (size_t)ix->layout.tiles_across * ix->layout.tiles_down;
	free(ix->first_part);
	free(ix->parts);
	ix->parts = NULL;
	ix->nparts = 0;
	ix->first_part = malloc(tiles * sizeof *ix->first_part);
	*last = malloc(tiles * sizeof **last);
	if (!ix->first_part || !*last)
		return -1;
	for (size_t t = 0; t < tiles; t++)
		ix->first_part[t] = (*last)[t] = JP2_NO_PART;
	return 0;
}

/* Whether every tile has a tile-part (one at least: the standard wants it). */
static bool parts_complete(const struct jp2_index *ix)
{
	size_t tiles = (size_t)ix->layout.tiles_across * ix->layout.tiles_down;
	for (size_t t = 0; t < tiles; t++)
		if (ix->first_part[t] == JP2_NO_PART)
			return false;
	return true;
}

/*
 * Tile-parts smaller than this on average put a SOT in nearly every 64 KiB block of a remote
 * object, so the walk reads the whole codestream anyway: it then reads ahead WALK_AHEAD bytes
 * at a time (one ranged GET each, storage_file_prefetch) instead of a block per SOT. Larger
 * tile-parts are stepped over, a block per SOT. (A local file: no effect.)
 */
#define WALK_SMALL_PARTS (64 << 10)
#define WALK_AHEAD (1 << 20)

static void walk_read_ahead(const struct jp2_file *f, const struct jp2_index *ix, off_t first,
			    off_t at, off_t *ahead_to)
{
	if (ix->nparts == 0 || at < *ahead_to || (at - first) / ix->nparts > WALK_SMALL_PARTS)
		return;
	off_t len = f->codestream_end - at < WALK_AHEAD ? f->codestream_end - at : WALK_AHEAD;
	*ahead_to = at + len;
	storage_file_prefetch(f->fd, (int64_t)at, (size_t)len, NULL); /* failing: the reads say */
}

/* Walks the SOT markers from the first one to EOC, recording each tile-part. */
static int read_tile_parts(const struct jp2_file *f, struct jp2_index *ix, off_t at)
{
	size_t tiles = (size_t)ix->layout.tiles_across * ix->layout.tiles_down;
	uint32_t *last = NULL, capacity = 0;
	int rc = parts_table(ix, &last);
	off_t first = at, ahead_to = 0;
	while (rc == 0 && at + 2 <= f->codestream_end) {
		walk_read_ahead(f, ix, first, at, &ahead_to);
		uint8_t sot[12];
		if (read_at(f->fd, at, sot, 2) == 0 && be16(sot) == MARKER_EOC)
			break;
		if (at + 12 > f->codestream_end || read_at(f->fd, at, sot, 12) < 0 ||
		    be16(sot) != MARKER_SOT || be16(sot + 2) != 10 || be16(sot + 4) >= tiles) {
			rc = -1;
			break;
		}
		uint64_t length = be32(sot + 6);
		if (length == 0) /* the last tile-part runs up to EOC */
			length = (uint64_t)(f->codestream_end - at) - 2;
		if (length < 14 || (off_t)length > f->codestream_end - at)
			rc = -1;
		else
			rc = add_part(ix, &capacity, &last, sot, at, length);
		if (rc == 0)
			rc = read_tile_header(f, ix, at + 12, at + (off_t)length);
		at += (off_t)length;
	}
	if (rc == 0 && !parts_complete(ix))
		rc = -1;
	free(last);
	return rc;
}

/* Whether the SOT of tile-part p (of tile) in the file is the one the TLM describes. */
static bool tlm_sot_matches(const struct jp2_file *f, const struct jp2_index *ix, uint32_t p,
			    uint32_t tile)
{
	const struct jp2_tile_part *part = &ix->parts[p];
	uint8_t sot[12];
	if (read_at(f->fd, (off_t)part->offset, sot, sizeof sot) < 0)
		return false;
	uint32_t psot = be32(sot + 6);
	bool last = p == ix->nparts - 1;
	return be16(sot) == MARKER_SOT && be16(sot + 2) == 10 && be16(sot + 4) == tile &&
	       (psot == part->length || (psot == 0 && last)) && sot[10] == part->part;
}

/*
 * The tile-part table from the TLM entries, tile-parts laid end to end from the first SOT at
 * `at`; checked against the first and the last SOT and the EOC after the last tile-part, so
 * it costs the reads of at most two more blocks. Tile headers are not read (a tile's own COD
 * with fewer levels than the main header's is not seen: its reduced levels fail to decode).
 * Returns 0, or -1 when the TLM does not fit this codestream (the caller then walks it).
 */
static int tile_parts_from_tlm(const struct jp2_file *f, struct jp2_index *ix, off_t at)
{
	const struct jp2_tlm *tlm = &f->tlm;
	uint32_t *last = NULL, capacity = 0;
	int rc = tlm->bad || tlm->count == 0 ? -1 : parts_table(ix, &last);
	for (size_t i = 0; rc == 0 && i < tlm->count; i++) {
		uint32_t tile = tlm->entries[i].tile, length = tlm->entries[i].length;
		uint32_t before = last[tile];
		uint32_t part = before == JP2_NO_PART ? 0 : ix->parts[before].part + 1u;
		uint8_t sot[12] = { 0xff, 0x90, 0, 10, (uint8_t)(tile >> 8), (uint8_t)tile, 0, 0, 0, 0,
				    (uint8_t)part, 0 };
		if (part >= MAX_PARTS_PER_TILE || length < 14 || length > f->codestream_end - at)
			rc = -1;
		else
			rc = add_part(ix, &capacity, &last, sot, at, length);
		at += length;
	}
	if (rc == 0 && !parts_complete(ix))
		rc = -1;
	size_t tiles = (size_t)ix->layout.tiles_across * ix->layout.tiles_down;
	for (size_t t = 0; rc == 0 && t < tiles; t++) /* TNsot: how many the tile has */
		for (uint32_t p = ix->first_part[t]; p != JP2_NO_PART; p = ix->parts[p].next)
			ix->parts[p].parts = (uint8_t)(ix->parts[last[t]].part + 1);
	uint8_t eoc[2];
	if (rc == 0 && (!tlm_sot_matches(f, ix, 0, tlm->entries[0].tile) ||
			!tlm_sot_matches(f, ix, ix->nparts - 1, tlm->entries[tlm->count - 1].tile) ||
			at + 2 > f->codestream_end || read_at(f->fd, at, eoc, 2) < 0 ||
			be16(eoc) != MARKER_EOC))
		rc = -1;
	free(last);
	return rc;
}

/* ---- the index ------------------------------------------------------------------------------ */

/* Whether jp2_decode() produces the right pixels and colours for this file. */
static bool index_supported(const struct jp2_layout *l, const struct jp2_colour *c)
{
	if ((l->bands != 1 && l->bands != 3) || l->precision > 16 ||
	    (uint64_t)l->tiles_across * l->tiles_down > 65535)
		return false;
	if (c->palette || c->channel_defs)
		return false;
	bool subsampled = l->bands == 3 && (l->step_x[1] != 1 || l->step_y[1] != 1 ||
					    l->step_x[2] != 1 || l->step_y[2] != 1);
	if (c->method == 1)
		return (c->enumcs == 16 && l->bands == 3 && !subsampled) ||
		       (c->enumcs == 17 && l->bands == 1) || (c->enumcs == 18 && l->bands == 3);
	if (c->method > 3)
		return false; /* a colour method of a later edition or a vendor's */
	return !subsampled; /* an ICC profile, or a bare codestream */
}

static int index_read_icc(const struct jp2_file *f, struct jp2_index *ix)
{
	if (!f->colour.icc_len)
		return 0;
	if (f->colour.icc_len > MAX_ICC || !(ix->icc = malloc(f->colour.icc_len)))
		return -1;
	ix->icc_len = f->colour.icc_len;
	return read_at(f->fd, f->colour.icc_at, ix->icc, ix->icc_len);
}

/* Returns 0, 415 (not for this module) or -1 (damaged). */
static int index_read(struct jp2_file *f, struct jp2_index *ix)
{
	int rc = find_codestream(f);
	if (rc != 0)
		return rc;
	off_t first_sot = read_main_header(f, ix);
	if (first_sot <= 0)
		return first_sot == 0 ? 415 : -1;
	if (!index_supported(&ix->layout, &f->colour))
		return 415;
	ix->layout.ycc = f->colour.method == 1 && f->colour.enumcs == 18;
	ix->from_tlm = tile_parts_from_tlm(f, ix, first_sot) == 0;
	if ((!ix->from_tlm && read_tile_parts(f, ix, first_sot) < 0) || index_read_icc(f, ix) < 0)
		return -1;
	return 0;
}

bool jp2_index_tile_headers_agree(const struct jp2_index *ix, struct storage_file *fd,
				  uint32_t tile, int reduce)
{
	if (!ix->from_tlm)
		return true;
	for (uint32_t p = ix->first_part[tile]; p != JP2_NO_PART; p = ix->parts[p].next) {
		const struct jp2_tile_part *part = &ix->parts[p];
		off_t end = (off_t)(part->offset + part->length);
		struct jp2_file f = { .fd = fd, .codestream_end = end };
		struct jp2_index seen = { .layout = ix->layout };
		if (read_tile_header(&f, &seen, (off_t)part->offset + 12, end) < 0 ||
		    seen.layout.ht != ix->layout.ht || reduce >= seen.layout.reductions)
			return false;
	}
	return true;
}

int jp2_index_open_at(const char *path, const struct storage_stat *known,
		      struct jp2_index **out, struct iiifd_error *err)
{
	*out = NULL;
	struct jp2_file f = { 0 };
	struct iiifd_error why = { 0 };
	if (storage_file_open(path, known, &f.fd, &why) < 0 || storage_file_size(f.fd) < 0) {
		storage_file_close(f.fd);
		return iiifd_error_set(err, why.http_status == 404 ? 404 : 500,
				       "cannot open the image");
	}
	f.size = (off_t)storage_file_size(f.fd);
	struct jp2_index *ix = calloc(1, sizeof *ix);
	int rc = ix ? index_read(&f, ix) : -1;
	if (ix && (known || storage_file_stat(f.fd)))
		ix->file = known ? *known : *storage_file_stat(f.fd);
	storage_file_close(f.fd);
	free(f.tlm.entries);
	if (rc != 0) {
		jp2_index_free(ix);
		return rc > 0 ? rc : iiifd_error_set(err, 500, "the JPEG 2000 structure is damaged");
	}
	*out = ix;
	return 0;
}

bool jp2_index_scan_ht(const char *path, const struct storage_stat *known)
{
	struct jp2_file f = { .scan = true };
	struct jp2_index *ix = calloc(1, sizeof *ix);
	if (ix && storage_file_open(path, known, &f.fd, NULL) == 0 &&
	    storage_file_size(f.fd) >= 0) {
		f.size = (off_t)storage_file_size(f.fd);
		off_t first_sot = find_codestream(&f) == 0 ? read_main_header(&f, ix) : -1;
		/* tile-part indexes (Isot) are 16-bit: more tiles than that cannot all be read */
		uint64_t tiles = (uint64_t)ix->layout.tiles_across * ix->layout.tiles_down;
		if (first_sot > 0 && tiles <= 65535)
			(void)read_tile_parts(&f, ix, first_sot); /* up to any damage */
	}
	bool ht = ix && ix->layout.ht;
	storage_file_close(f.fd);
	free(f.tlm.entries);
	jp2_index_free(ix);
	return ht;
}

int jp2_index_open(const char *path, struct jp2_index **out, struct iiifd_error *err)
{
	return jp2_index_open_at(path, NULL, out, err);
}

void jp2_index_free(struct jp2_index *ix)
{
	if (!ix)
		return;
	free(ix->main_header);
	free(ix->first_part);
	free(ix->parts);
	free(ix->icc);
	free(ix);
}

const struct jp2_layout *jp2_index_layout(const struct jp2_index *ix)
{
	return &ix->layout;
}

bool jp2_index_has_icc(const struct jp2_index *ix)
{
	return ix->icc != NULL;
}
