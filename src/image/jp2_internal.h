/*
 * jp2_internal.h: the index jp2_index.c makes and jp2.c and jp2_shared.c read (private to
 * those files).
 */
#ifndef IIIFD_IMAGE_JP2_INTERNAL_H
#define IIIFD_IMAGE_JP2_INTERNAL_H

#include "image/jp2.h"

#define JP2_NO_PART UINT32_MAX

/* Threads one request may decode with: the online cores, 1..JP2_MAX_THREADS. */
#define JP2_MAX_THREADS 8
int jp2_cores(void);

/* A tile-part: its SOT marker segment and data, as found in the file. */
struct jp2_tile_part {
	uint64_t offset;  /* of its SOT marker */
	uint32_t length;  /* from the SOT marker to the end of its data */
	uint32_t next;    /* the next tile-part of the same tile, JP2_NO_PART after the last */
	uint8_t part;     /* its SOT's TPsot and TNsot */
	uint8_t parts;
};

struct jp2_index {
	struct jp2_layout layout;
	uint8_t *main_header;    /* SOC up to the first SOT, without TLM, PLM and COM markers */
	size_t main_header_len;
	size_t siz_at;           /* where the SIZ marker starts in main_header */
	uint32_t *first_part;    /* per tile (row-major): its first tile-part, JP2_NO_PART if none */
	struct jp2_tile_part *parts;
	uint32_t nparts;
	uint8_t *icc;            /* the colour profile of the JP2 header, NULL if none */
	size_t icc_len;
	struct storage_stat file; /* the version indexed: decodes read that one (storage/root.h) */
	bool from_tlm;           /* tile-part table from the TLM: tile-part headers not read */
};

/*
 * Whether the headers of tile's tile-parts (in the open file fd) allow a decode at reduce as
 * the main header does: no HT code-blocks in a classic layout, enough decomposition levels.
 * Always true for an index that read them (not from_tlm: the layout then knows them). Decodes
 * of a TLM index check each tile first: a tile-part header could otherwise hand OpenJPEG HT
 * code-blocks that no HTJ2K check covered.
 */
bool jp2_index_tile_headers_agree(const struct jp2_index *ix, struct storage_file *fd,
				  uint32_t tile, int reduce);

#endif
