/*
 * sidecar_geo.h: a sidecar's navPlace: GeoJSON geometries, Features, lists of them or a
 * FeatureCollection, checked and always given back as a FeatureCollection.
 */
#ifndef IIIFD_PRESENTATION_SIDECAR_GEO_H
#define IIIFD_PRESENTATION_SIDECAR_GEO_H

#include "presentation/sidecar_yaml.h"

/* {type: FeatureCollection, features: [...]} (new reference; Features without ids), or NULL. */
json_t *sidecar_geo_nav_place(struct sidecar_yaml *y, yaml_node_t *n, const char *where);

#endif
