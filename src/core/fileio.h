/*
 * fileio.h: writing a whole file so that readers never see part of it.
 */
#ifndef IIIFD_CORE_FILEIO_H
#define IIIFD_CORE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes len bytes to path through a unique temporary file next to it ("PATH.tmp.XXXXXX") and
 * rename(), so that readers and concurrent writers of path only ever see a whole file; mode
 * 0644. durable also syncs the data before the rename. Returns 0, or -1 with errno set (ENOSPC
 * for a short write) and no temporary file left.
 */
int fileio_write_atomic(const char *path, const void *data, size_t len, bool durable);

#endif
