/*
 * cache.h: parsed georeferencing kept by source file and version (size, mtime, inode), so that
 * Manifests, built on every request, do not parse files, open TIFFs or start PROJ again for
 * maps that have not changed. Thread-safe; bounded (MAPS_CACHE_MAX_GCPS GCPs and
 * MAPS_CACHE_MAX_FILES files, then everything is forgotten at once).
 */
#ifndef IIIFD_MAPS_CACHE_H
#define IIIFD_MAPS_CACHE_H

#include <stdbool.h>

#include "maps/georef.h"

#define MAPS_CACHE_MAX_FILES 65536
#define MAPS_CACHE_MAX_GCPS 1000000

/* The version of the file at path ("size:mtime:inode"), or NULL when it cannot be stat'ed. g_free. */
char *maps_cache_version(const char *path);

/*
 * Copies what path held at version into g (initialised, empty; a file without georeferencing
 * gives g->count 0 and no mask) and returns true, or returns false when it is not cached.
 */
bool maps_cache_get(const char *path, const char *version, struct maps_georef *g);

/* Remembers g (copied) as what path holds at version; nothing when version is NULL. */
void maps_cache_put(const char *path, const char *version, const struct maps_georef *g);

#endif
