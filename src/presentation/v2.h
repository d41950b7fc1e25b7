/*
 * v2.h: Presentation 2.1 renderings of the 3.0 documents, for clients that only speak 2.1.
 * Only image Canvases exist in 2.1; audio and video are left out.
 */
#ifndef IIIFD_PRESENTATION_V2_H
#define IIIFD_PRESENTATION_V2_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"

/* Whether the Manifest with this 3.0 id has an image Canvas (and so a 2.1 form). */
typedef bool (*pres_v2_has_images_fn)(void *ctx, const char *manifest_id);

/*
 * Converts a 3.0 Manifest or Collection. Every URL starting with v3_prefix (e.g.
 * "https://host/iiif/presentation/") is rewritten to start with v2_prefix. New reference, or
 * NULL with err 404 for a Manifest with no image Canvas (audio and video only). Collections
 * leave out the Manifests has_images says have none; Ranges keep only the Canvases the 2.1
 * Manifest has.
 */
json_t *pres_v2_from_v3(const json_t *v3, const char *v3_prefix, const char *v2_prefix,
			pres_v2_has_images_fn has_images, void *ctx, struct iiifd_error *err);

/*
 * Rewrites in place every string of doc (to a depth of 32) that starts with v3_prefix to start
 * with v2_prefix: a Search 1.0 answer for a 2.1 viewer names 2.1 Canvases and services.
 */
void pres_v2_rewrite(json_t *doc, const char *v3_prefix, const char *v2_prefix, int depth);

#endif
