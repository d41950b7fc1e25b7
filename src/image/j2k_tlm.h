/*
 * j2k_tlm.h: adds TLM marker segments (tile-part lengths, ISO/IEC 15444-1 A.7.1) to a raw
 * JPEG 2000 codestream that iiifd itself has just written, when its encoder wrote none
 * (OpenJPH 0.9 cannot). With a TLM, a reader finds every tile-part from the main header
 * alone: on object storage one ranged GET instead of one per tile-part (jp2_index.c).
 */
#ifndef IIIFD_IMAGE_J2K_TLM_H
#define IIIFD_IMAGE_J2K_TLM_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * f holds a codestream (SOC .. EOC) from offset start to its end, opened for reading and
 * writing. Inserts TLM segments at the end of the main header (before the first SOT), moving
 * the tile-parts up in place; a codestream that has a TLM already, or more tile-parts than
 * 256 TLM segments hold, is left as it is. Returns the bytes added (0 or more), or -1 with a
 * reason in error (len bytes) for a codestream that is not well formed or an I/O error; the
 * stream is then unusable. f's position afterwards is its end.
 */
long j2k_insert_tlm(FILE *f, off_t start, char *error, size_t len);

#endif
