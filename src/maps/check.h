/*
 * check.h: doubtful georeferencing, as `iiifd check` reports it: fewer GCPs than the declared
 * transformation needs, GCPs on one line, outside the image, or positions out of range. These
 * are warnings: such georeferencing is valid (georef extension §3.4) and is served.
 */
#ifndef IIIFD_MAPS_CHECK_H
#define IIIFD_MAPS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "maps/georef.h"

/* Receives each finding: msg is one line without the file name. */
typedef void (*maps_check_report_fn)(void *ctx, const char *msg);

/* Reports the warnings for g on an image of width x height pixels; returns their count. */
int maps_check_georef(const struct maps_georef *g, int64_t width, int64_t height,
		      maps_check_report_fn warn, void *ctx);

/*
 * Checks the georeferencing of image abs (see maps_load()): an unusable file is reported to
 * error (its message names file and line or JSON path), doubtful GCPs to warn, prefixed with
 * the name of the file they came from. Returns -1 after an error, else the warning count.
 */
int maps_check_image(const char *abs, char *const *companions, size_t count, int64_t width,
		     int64_t height, maps_check_report_fn error, maps_check_report_fn warn,
		     void *ctx);

#endif
