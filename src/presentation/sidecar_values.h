/*
 * sidecar_values.h: sidecar values that are text at heart: language maps, metadata,
 * requiredStatement, rights, navDate, behavior, viewingDirection, and times in seconds.
 */
#ifndef IIIFD_PRESENTATION_SIDECAR_VALUES_H
#define IIIFD_PRESENTATION_SIDECAR_VALUES_H

#include "presentation/sidecar_yaml.h"

/* A language map for a label: plain text only (markup is reduced to its text, reported). */
json_t *sidecar_values_label(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
/* The label of the mapping map (its key label, read as above), which must have one. */
json_t *sidecar_values_required_label(struct sidecar_yaml *y, yaml_node_t *map,
				      const char *where);

/*
 * Converters: the Presentation 3.0 JSON for node n (a new reference), or NULL after the problems
 * that say why; where names the value in those problems ("metadata item 2").
 */
json_t *sidecar_values_langmap(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_values_label_value(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_values_metadata(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_values_rights(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_values_nav_date(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_values_behavior(struct sidecar_yaml *y, yaml_node_t *n, const char *where);
json_t *sidecar_values_viewing_direction(struct sidecar_yaml *y, yaml_node_t *n, const char *where);

/* Appends the texts of n (a text or a list of texts) to the array values. */
void sidecar_values_texts(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
			  json_t *values);
/* Loose BCP 47 ("en", "de-CH", "zh-Hant-TW", "x-private") or "none". */
bool sidecar_values_language_ok(const char *s);
/* Seconds from a plain number or a clock time "m:ss" / "h:mm:ss[.fraction]". */
bool sidecar_values_seconds(struct sidecar_yaml *y, yaml_node_t *n, const char *where, double *out);

#endif
