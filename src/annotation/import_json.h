/*
 * import_json.h: what the importers of small JSON files (Label Studio, timed segments, Whisper
 * transcripts) share: a size-capped jansson load whose errors carry the line, and typed member
 * reads whose errors carry the JSON path ("[3].annotations[0].result[2].value.x").
 */
#ifndef IIIFD_ANNOTATION_IMPORT_JSON_H
#define IIIFD_ANNOTATION_IMPORT_JSON_H

#include <jansson.h>

#include "annotation/import.h"

#define IMPORT_JSON_MAX_BYTES (64 * 1024 * 1024)

/* Loads in (at most IMPORT_JSON_MAX_BYTES); NULL after import_fail with the line. Caller decrefs. */
json_t *import_json_load(const struct anno_input *in, struct import_state *st);

/*
 * A number member: 1 with *v, 0 when absent or null, -1 after import_fail naming path.key
 * (also when it is present but no number, or outside lo..hi).
 */
int import_json_number(struct import_state *st, const json_t *obj, const char *key,
		       const char *path, double lo, double hi, double *v);

/* A string member (NULL when absent or not a string). */
const char *import_json_string(const json_t *obj, const char *key);

#endif
