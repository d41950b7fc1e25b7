/*
 * probe_io.h: libavformat I/O on an object of a remote root (storage/root.h): reads and seeks
 * become ranged reads through the root's block cache. media_probe_open() uses it for every
 * location that is not a local path.
 */
#ifndef IIIFD_MEDIA_PROBE_IO_H
#define IIIFD_MEDIA_PROBE_IO_H

#include "core/error.h"

struct AVIOContext;

/*
 * An I/O context reading location (404 when missing, 415 when empty), for an AVFormatContext
 * opened with AVFMT_FLAG_CUSTOM_IO; close it with media_probe_io_close() after the format
 * context (libavformat never frees custom I/O). NULL with err.
 */
struct AVIOContext *media_probe_io_open(const char *location, struct iiifd_error *err);
/* Closes *pb (NULL is fine) and sets it to NULL. */
void media_probe_io_close(struct AVIOContext **pb);

#endif
