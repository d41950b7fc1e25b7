/*
 * manifest.h: Presentation 3.0 Manifests and Collections built from one folder (or file) and its
 * sidecars, on demand.
 */
#ifndef IIIFD_PRESENTATION_MANIFEST_H
#define IIIFD_PRESENTATION_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"
#include "presentation/context.h"

/*
 * The Manifest of rel: a folder of pages (is_folder) or a single file. NULL with err (404 when
 * rel is not a Manifest). New reference.
 */
json_t *pres_manifest_build(const struct pres_context *c, const char *rel, bool is_folder,
			    struct iiifd_error *err);

/*
 * A reference to the Manifest of rel ({id, type, label}, the label its sidecar's or its name), as
 * search results in a Collection name the Manifest a hit is in. New reference.
 */
json_t *pres_manifest_ref(const struct pres_context *c, const char *rel, bool is_folder);

/* The same {id, type, label} reference to the Collection of folder rel ("" = root). */
json_t *pres_collection_ref(const struct pres_context *c, const char *rel);

/* The Collection of folder rel ("" = root). NULL with err (404 when rel is not a Collection). */
json_t *pres_collection_build(const struct pres_context *c, const char *rel,
			      struct iiifd_error *err);

#endif
