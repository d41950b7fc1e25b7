/*
 * v2.h: Presentation 2.1 renderings of the 3.0 documents, for clients that only speak 2.1.
 * Only image Canvases exist in 2.1; audio and video are left out.
 */
#ifndef IIIFD_PRESENTATION_V2_H
#define IIIFD_PRESENTATION_V2_H

#include <jansson.h>

/*
 * Converts a 3.0 Manifest or Collection. Every URL starting with v3_prefix (e.g.
 * "https://host/iiif/presentation/") is rewritten to start with v2_prefix. New reference.
 */
json_t *pres_v2_from_v3(const json_t *v3, const char *v3_prefix, const char *v2_prefix);

#endif
