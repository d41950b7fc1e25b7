/*
 * request_internal.h: what request.c shares with request_canonical.c: the limits as the
 * geometry uses them, and its exact integer helpers. Not for other modules.
 */
#ifndef IIIFD_IMAGE_REQUEST_INTERNAL_H
#define IIIFD_IMAGE_REQUEST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "image/request.h"

/* Configured limits with the spec's defaults applied; 0 still means "none". */
struct image_request_limits {
	int64_t w, h, area;
	bool any; /* any limit configured at all */
};

struct image_request_limits image_request_limits(const struct image_limits *lim);
/* Whether w x h lies within l (and the hard per-side cap). */
bool image_request_within(const struct image_request_limits *l, int64_t w, int64_t h);
/* The largest size with the region's aspect ratio inside l. */
void image_request_fit(int64_t rw, int64_t rh, const struct image_request_limits *l,
		       int64_t *ow, int64_t *oh);
/* v * num / den rounded to nearest (halves up); callers keep v * num below 4 * 10^18. */
int64_t image_request_muldiv(int64_t v, int64_t num, int64_t den);
/* Nearest integer to a non-negative double already known to be below 2^62. */
int64_t image_request_round(double d);

#endif
