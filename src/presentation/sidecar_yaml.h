/*
 * sidecar_yaml.h: the YAML layer under the sidecar_* files: a file loaded within size, depth and
 * node limits, nodes read within a work budget (alias bombs), and problems at a node's line.
 */
#ifndef IIIFD_PRESENTATION_SIDECAR_YAML_H
#define IIIFD_PRESENTATION_SIDECAR_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "presentation/sidecar.h"

/* A loaded document and where its problems go. Caller-owned: sidecar_yaml_release() it. */
struct sidecar_yaml {
	yaml_document_t doc;
	struct sidecar_problems *problems;
	long work,
		max_work; /* nodes read and keys scanned: aliases can make a small file endless */
	bool exhausted;   /* max_work reached: everything after reads as absent, silently */
	bool loaded;
	/*
	 * What the properties being read describe, SIDECAR_ON_* bits: collection.yml a Collection,
	 * manifest.yml a Manifest, {file}.yml a Manifest or a Canvas, a canvases entry a Canvas.
	 */
	unsigned resource;
	bool plain_text; /* reading a label: no HTML (Presentation 3 §4.5) */
};

#define SIDECAR_ON_COLLECTION 1u
#define SIDECAR_ON_MANIFEST 2u
#define SIDECAR_ON_CANVAS 4u
#define SIDECAR_ON_RANGE 8u

/*
 * Reads and parses the first YAML document of path into y (problems: file too large, nesting,
 * too many nodes, syntax errors with their line; a second document is a problem but not an
 * error). Returns 0, or -1 when there is no document to read. Release y in every case.
 */
int sidecar_yaml_load(struct sidecar_yaml *y, const char *path, struct sidecar_problems *problems);
void sidecar_yaml_release(struct sidecar_yaml *y);

/* Problems: the first SIDECAR_MAX_PROBLEMS are kept, all are counted. */
void sidecar_yaml_add_problem(struct sidecar_problems *pr, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "where: message" at n's line (0 without a node); nothing once the budget is spent. */
void sidecar_yaml_problem(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "where: expected what, found 'text'" (or a list, a mapping, nothing). */
void sidecar_yaml_expected(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			   const char *what);

/* The value node at index (a sequence item, a pair's value), NULL once the budget is spent. */
yaml_node_t *sidecar_yaml_node(struct sidecar_yaml *y, int index);
/* The value of key in map (the first one when repeated), or NULL. */
yaml_node_t *sidecar_yaml_get(struct sidecar_yaml *y, const yaml_node_t *map, const char *key);
/* A pair's key when it is text without NUL bytes, else NULL. */
const char *sidecar_yaml_key(struct sidecar_yaml *y, const yaml_node_pair_t *p);
/* Reports keys of map that are not text, not in known (NULL-terminated) or given twice. */
void sidecar_yaml_check_keys(struct sidecar_yaml *y, const yaml_node_t *map, const char *where,
			     const char *const *known);
/* True when n is a mapping (and reports its unknown keys); else a problem naming what. */
bool sidecar_yaml_mapping(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			  const char *what, const char *const *known);
/* True when n has that type (a non-null scalar for scalars); else a problem naming what. */
bool sidecar_yaml_expect(struct sidecar_yaml *y, const yaml_node_t *n, yaml_node_type_t type,
			 const char *where, const char *what);

/* Makes one JSON value of node n (which may be NULL), or NULL after reporting its problems. */
typedef json_t *(*sidecar_yaml_item_fn)(struct sidecar_yaml *y, yaml_node_t *n,
					const char *where);
/* Appends to list what item() makes of each item of the sequence n, named "WHERE item N". */
void sidecar_yaml_items(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
			sidecar_yaml_item_fn item, json_t *list);
/* list when it has items; otherwise frees it and returns NULL. */
json_t *sidecar_json_nonempty(json_t *list);

/* Scalars: text (NULL for other nodes), plain style, YAML's null ("", ~, null). */
const char *sidecar_yaml_scalar(const yaml_node_t *n);
bool sidecar_yaml_plain(const yaml_node_t *n);
bool sidecar_yaml_is_null(const yaml_node_t *n);
/* For messages: "'text'", "a list", "a mapping" or "nothing"; buf holds the text. */
const char *sidecar_yaml_describe(const yaml_node_t *n, char *buf, size_t size);
/* The text of a non-null scalar (numbers, booleans as written), or NULL after a problem. */
const char *sidecar_yaml_text(struct sidecar_yaml *y, const yaml_node_t *n, const char *where);
/* A decimal number as YAML writes it; integral when without fraction or exponent. */
bool sidecar_yaml_parse_number(const char *s, double *v, bool *integral);
/* A plain number as JSON (new reference; integer when written as one), its value in *v. */
json_t *sidecar_yaml_number(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			    double *v);

/* String helpers: membership in a NULL-terminated list, "a, b, c", no spaces or controls. */
bool sidecar_yaml_in(const char *s, const char *const *list);
void sidecar_yaml_join(const char *const *list, char *buf, size_t size);
bool sidecar_yaml_no_space(const char *s);

#endif
