/*
 * import_json.c: jansson parses the whole file (these formats are one page or one recording
 * each, so the size cap bounds memory); numbers are checked for finiteness and range here so
 * that every importer reports them alike.
 */
#include "annotation/import_json.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

json_t *import_json_load(const struct anno_input *in, struct import_state *st)
{
	json_error_t e;
	json_t *doc;
	if (in->path) {
		struct stat sb;
		if (stat(in->path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			import_fail(st, 0, "cannot read %s", in->name);
			return NULL;
		}
		if (sb.st_size > IMPORT_JSON_MAX_BYTES) {
			import_fail(st, 0, "file larger than %d MiB", IMPORT_JSON_MAX_BYTES >> 20);
			return NULL;
		}
		doc = json_load_file(in->path, JSON_REJECT_DUPLICATES, &e);
	} else {
		if (in->len > IMPORT_JSON_MAX_BYTES) {
			import_fail(st, 0, "file larger than %d MiB", IMPORT_JSON_MAX_BYTES >> 20);
			return NULL;
		}
		doc = json_loadb(in->data ? in->data : "", in->len, JSON_REJECT_DUPLICATES, &e);
	}
	if (!doc)
		import_fail(st, e.line > 0 ? e.line : 1, "JSON: %s", e.text);
	return doc;
}

int import_json_number(struct import_state *st, const json_t *obj, const char *key,
		       const char *path, double lo, double hi, double *v)
{
	json_t *m = json_object_get(obj, key);
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_number(m))
		return import_fail(st, 0, "%s.%s: not a number", path, key);
	*v = json_number_value(m);
	if (isfinite(*v) && *v >= lo && *v <= hi)
		return 1;
	if (hi < 1e300)
		return import_fail(st, 0, "%s.%s: %g is not from %g to %g", path, key, *v, lo, hi);
	return import_fail(st, 0, "%s.%s: %g is less than %g", path, key, *v, lo);
}

const char *import_json_string(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}
