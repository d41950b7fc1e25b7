/*
 * sidecar_links.h: sidecar links to other resources: homepage, seeAlso, rendering, and provider
 * (Agents with their homepage, logo and seeAlso), from URLs or mappings to arrays of objects.
 */
#ifndef IIIFD_PRESENTATION_SIDECAR_LINKS_H
#define IIIFD_PRESENTATION_SIDECAR_LINKS_H

#include "presentation/sidecar_yaml.h"

/* Converters as in sidecar_values.h: a new reference, or NULL after the problems. */
json_t *sidecar_links_homepage(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_links_see_also(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_links_rendering(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_links_provider(struct sidecar_yaml *y, yaml_node_t *n, const char *where);

#endif
