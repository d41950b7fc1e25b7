/*
 * sibling_index.h: the entry "base.EXT" of a folder for a base name without extension (EXT one
 * of a list, in any case), as path_resolve() infers it, without reading the whole folder each
 * time: each folder's names are remembered (per extension list) while the folder is unchanged.
 */
#ifndef IIIFD_CORE_SIBLING_INDEX_H
#define IIIFD_CORE_SIBLING_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * The single entry of dir named base + "." + EXT with EXT (lower-cased) in extensions
 * (NULL-terminated, lower case) and no further dot, into match (size n): 1 when there is
 * exactly one, 0 when none or several, -1 when dir cannot be read.
 */
int sibling_find(const char *dir, const char *base, const char *const *extensions, char *match,
		 size_t n);

/*
 * Whether a modification time t is old enough (2 s) that a later change of the file or folder
 * gives a different mtime: one in the same clock tick could leave the same (as git's "racily
 * clean" entries). Only such states may be remembered by their mtime.
 */
bool mtime_settled(struct timespec t);

#endif
