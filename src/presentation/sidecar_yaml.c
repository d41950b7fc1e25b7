/*
 * sidecar_yaml.c: reads a sidecar file into a libyaml document within limits (size, nesting,
 * nodes), and gives the other sidecar files budgeted node access and line-numbered problems.
 */
#include "presentation/sidecar_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/root.h"

/* Sidecars are hand-written metadata; these limits are far above any real one. */
#define SIDECAR_MAX_BYTES (1 << 20)
#define SIDECAR_MAX_DEPTH 64 /* nesting; a navPlace inside canvases needs about 12 */
#define SIDECAR_MAX_NODES 200000
#define SIDECAR_NODE_COST 16 /* work for reading a node; scanning a key for a lookup costs 1 */

void sidecar_yaml_add_problem(struct sidecar_problems *pr, int line, const char *fmt, ...)
{
	if (pr->count < SIDECAR_MAX_PROBLEMS) {
		struct sidecar_problem *p = &pr->items[pr->count];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->msg, sizeof p->msg, fmt, ap);
		va_end(ap);
		p->line = line;
	}
	pr->count++;
}

/* "where: message" at the line of n (0 without a node). */
void sidecar_yaml_problem(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			  const char *fmt, ...)
{
	char text[sizeof y->problems->items[0].msg];
	va_list ap;
	if (y->exhausted)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	sidecar_yaml_add_problem(y->problems, n ? (int)n->start_mark.line + 1 : 0, "%s%s%s", where,
				 *where ? ": " : "", text);
}

/* Counts work done for n; false (once with a problem) when the budget is spent. */
static bool sidecar_spend(struct sidecar_yaml *y, const yaml_node_t *n, long cost)
{
	if (y->exhausted)
		return false;
	y->work += cost;
	if (y->work <= y->max_work)
		return true;
	/* This one must be seen even when earlier problems filled the list. */
	if (y->problems->count >= SIDECAR_MAX_PROBLEMS)
		y->problems->count = SIDECAR_MAX_PROBLEMS - 1;
	sidecar_yaml_problem(y, n, "", "too many values to read (aliases repeat parts too often)");
	y->exhausted = true;
	return false;
}

/* The value node at index; every value read goes through here so alias bombs hit the budget. */
yaml_node_t *sidecar_yaml_node(struct sidecar_yaml *y, int index)
{
	yaml_node_t *n = yaml_document_get_node(&y->doc, index);
	return sidecar_spend(y, n, SIDECAR_NODE_COST) ? n : NULL;
}

void sidecar_yaml_items(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
			sidecar_yaml_item_fn item, json_t *list)
{
	char w[300];
	int i = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		snprintf(w, sizeof w, "%.200s item %d", where, ++i);
		json_array_append_new(list, item(y, sidecar_yaml_node(y, *it), w));
	}
}

json_t *sidecar_json_nonempty(json_t *list)
{
	if (json_array_size(list))
		return list;
	json_decref(list);
	return NULL;
}

const char *sidecar_yaml_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool sidecar_yaml_plain(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's null: an empty plain scalar, ~, null. */
bool sidecar_yaml_is_null(const yaml_node_t *n)
{
	const char *s = sidecar_yaml_scalar(n);
	return sidecar_yaml_plain(n) && (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
					 !strcmp(s, "Null") || !strcmp(s, "NULL"));
}

/* What n is, for messages: "'text'", "a list", "a mapping", "nothing". */
const char *sidecar_yaml_describe(const yaml_node_t *n, char *buf, size_t size)
{
	if (!n || sidecar_yaml_is_null(n))
		return "nothing";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	snprintf(buf, size, "'%.40s%s'", sidecar_yaml_scalar(n),
		 n->data.scalar.length > 40 ? "..." : "");
	return buf;
}

void sidecar_yaml_expected(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			   const char *what)
{
	char buf[64];
	sidecar_yaml_problem(y, n, where, "expected %s, found %s", what,
			     sidecar_yaml_describe(n, buf, sizeof buf));
}

/* True when n is a node of that type (a non-null scalar for scalars); else a problem. */
bool sidecar_yaml_expect(struct sidecar_yaml *y, const yaml_node_t *n, yaml_node_type_t type,
			 const char *where, const char *what)
{
	if (n && n->type == type && !sidecar_yaml_is_null(n))
		return true;
	sidecar_yaml_expected(y, n, where, what);
	return false;
}

/* The text of a non-null scalar (numbers and booleans as written), or NULL after a problem. */
const char *sidecar_yaml_text(struct sidecar_yaml *y, const yaml_node_t *n, const char *where)
{
	if (!sidecar_yaml_expect(y, n, YAML_SCALAR_NODE, where, "text"))
		return NULL;
	if (memchr(n->data.scalar.value, 0, n->data.scalar.length)) {
		sidecar_yaml_problem(y, n, where, "text contains a NUL character");
		return NULL;
	}
	return sidecar_yaml_scalar(n);
}

/* Decimal numbers as YAML writes them: [-+]? (digits [. digits] | . digits) ([eE] [-+]? digits)? */
bool sidecar_yaml_parse_number(const char *s, double *v, bool *integral)
{
	const char *p = s + (*s == '-' || *s == '+');
	bool digits = false, fraction = false;
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (*p == '.')
		for (fraction = true, p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		fraction = true;
		p += 1 + (p[1] == '-' || p[1] == '+');
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return false;
	*v = strtod(s, NULL);
	*integral = !fraction;
	return isfinite(*v);
}

/* A plain-scalar number as JSON (integer when written as one), its value in *v. */
json_t *sidecar_yaml_number(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			    double *v)
{
	bool integral;
	if (sidecar_yaml_plain(n) &&
	    sidecar_yaml_parse_number(sidecar_yaml_scalar(n), v, &integral))
		return integral && fabs(*v) < 9e15 ? json_integer((json_int_t)*v) : json_real(*v);
	sidecar_yaml_expected(y, n, where, "a number");
	return NULL;
}

bool sidecar_yaml_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

void sidecar_yaml_join(const char *const *list, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = 0;
	for (; *list && len < size; list++)
		len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "", *list);
}

bool sidecar_yaml_no_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

const char *sidecar_yaml_key(struct sidecar_yaml *y, const yaml_node_pair_t *p)
{
	yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
	const char *s = sidecar_yaml_scalar(k);
	return s && strlen(s) == k->data.scalar.length ? s : NULL;
}

/* The value of key in map (the first one when repeated), or NULL; scanning keys costs work. */
yaml_node_t *sidecar_yaml_get(struct sidecar_yaml *y, const yaml_node_t *map, const char *key)
{
	if (!sidecar_spend(y, map, map->data.mapping.pairs.top - map->data.mapping.pairs.start))
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = sidecar_yaml_key(y, p);
		if (k && !strcmp(k, key))
			return sidecar_yaml_node(y, p->value);
	}
	return NULL;
}

static void sidecar_unknown_key(struct sidecar_yaml *y, const yaml_node_t *k, const char *where,
				const char *key, const char *const *known)
{
	char list[200];
	const char *const *p;
	sidecar_yaml_join(known, list, sizeof list);
	for (p = known; *p && strcasecmp(*p, key); p++)
		;
	if (*p)
		sidecar_yaml_problem(y, k, where,
				     "unknown key '%.40s' (did you mean '%s'? known: %s)", key, *p,
				     list);
	else
		sidecar_yaml_problem(y, k, where, "unknown key '%.40s' (known: %s)", key, list);
}

/* Reports keys of map that are not text, not in known (NULL-terminated) or given twice. */
void sidecar_yaml_check_keys(struct sidecar_yaml *y, const yaml_node_t *map, const char *where,
			     const char *const *known)
{
	json_t *seen;
	if (!sidecar_spend(y, map, map->data.mapping.pairs.top - map->data.mapping.pairs.start))
		return;
	seen = json_object();
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		const char *key = sidecar_yaml_key(y, p);
		if (!key) {
			sidecar_yaml_expected(y, k, where, "text as a key");
		} else if (json_object_get(seen, key)) {
			sidecar_yaml_problem(y, k, where,
					     "key '%.40s' is given twice; the first one is used",
					     key);
		} else {
			json_object_set_new(seen, key, json_true());
			if (!sidecar_yaml_in(key, known))
				sidecar_unknown_key(y, k, where, key, known);
		}
	}
	json_decref(seen);
}

/* n as a mapping with only known keys (others reported), or false after a problem. */
bool sidecar_yaml_mapping(struct sidecar_yaml *y, const yaml_node_t *n, const char *where,
			  const char *what, const char *const *known)
{
	if (!sidecar_yaml_expect(y, n, YAML_MAPPING_NODE, where, what))
		return false;
	sidecar_yaml_check_keys(y, n, where, known);
	return true;
}

/* Up to SIDECAR_MAX_BYTES + 1 bytes of fd into *buf (caller frees); -1 with errno on failure. */
static int sidecar_read_fd(int fd, char **buf, size_t *len)
{
	size_t cap = 0;
	for (;;) {
		if (*len == cap) {
			char *more = realloc(*buf, cap = cap ? cap * 2 : 16384);
			if (!more)
				return -1;
			*buf = more;
		}
		ssize_t got = read(fd, *buf + *len, cap - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0 || (*len += (size_t)got) > SIDECAR_MAX_BYTES)
			return 0;
	}
}

/* A sidecar below a remote root (an object of a bucket), read whole within the bound. */
static int sidecar_read_remote(const char *location, char **buf, size_t *len,
			       struct sidecar_problems *pr)
{
	struct iiifd_error err = { 0 };
	if (storage_read_file(location, SIDECAR_MAX_BYTES, buf, len, &err) == 0)
		return 0;
	if (err.http_status == 413)
		sidecar_yaml_add_problem(pr, 0, "file too large: a sidecar may have %d bytes",
					 SIDECAR_MAX_BYTES);
	else
		sidecar_yaml_add_problem(pr, 0, "cannot read the object: %s", err.msg);
	return -1;
}

/* The whole file into *buf (caller frees), or -1 after a problem. */
static int sidecar_read(const char *path, char **buf, size_t *len, struct sidecar_problems *pr)
{
	if (storage_spec_is_remote(path))
		return sidecar_read_remote(path, buf, len, pr);
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	*buf = NULL;
	*len = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		sidecar_yaml_add_problem(pr, 0, "cannot read the file: %s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		sidecar_yaml_add_problem(pr, 0, "cannot read the file: %s", strerror(EISDIR));
	else if (S_ISREG(st.st_mode) && st.st_size > SIDECAR_MAX_BYTES)
		sidecar_yaml_add_problem(pr, 0, "file too large: %lld bytes, a sidecar may have %d",
					 (long long)st.st_size, SIDECAR_MAX_BYTES);
	else if (sidecar_read_fd(fd, buf, len) < 0)
		sidecar_yaml_add_problem(pr, 0, "cannot read the file: %s", strerror(errno));
	else if (*len > SIDECAR_MAX_BYTES)
		sidecar_yaml_add_problem(pr, 0, "file too large: a sidecar may have %d bytes",
					 SIDECAR_MAX_BYTES);
	else
		rc = 0;
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

static void sidecar_syntax_problem(const yaml_parser_t *p, const char *buf, size_t len,
				   struct sidecar_problems *pr)
{
	int line = (int)p->problem_mark.line + 1;
	if (p->error == YAML_READER_ERROR) {
		/* line breaks as YAML counts them: LF, CR LF and a lone CR are one each */
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++)
			line += buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n'));
	}
	if (p->error == YAML_MEMORY_ERROR)
		sidecar_yaml_add_problem(pr, 0, "not read: out of memory");
	else if (p->context)
		sidecar_yaml_add_problem(pr, line, "not valid YAML: %s (%s on line %d)",
					 p->problem ? p->problem : "error", p->context,
					 (int)p->context_mark.line + 1);
	else
		sidecar_yaml_add_problem(pr, line, "not valid YAML: %s",
					 p->problem ? p->problem : "error");
}

/* Event pass before loading: syntax errors, nesting depth and node count, extra documents. */
static int sidecar_prescan(const char *buf, size_t len, struct sidecar_problems *pr)
{
	yaml_parser_t p;
	yaml_event_t e;
	long depth = 0, nodes = 0, documents = 0;
	int rc = 0;
	if (!yaml_parser_initialize(&p)) {
		sidecar_yaml_add_problem(pr, 0, "not read: out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &e)) {
			sidecar_syntax_problem(&p, buf, len, pr);
			rc = -1;
			break;
		}
		yaml_event_type_t type = e.type;
		int line = (int)e.start_mark.line + 1;
		yaml_event_delete(&e);
		depth += type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT;
		depth -= type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT;
		nodes += type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT ||
			 type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT;
		if (depth > SIDECAR_MAX_DEPTH || nodes > SIDECAR_MAX_NODES) {
			if (depth > SIDECAR_MAX_DEPTH)
				sidecar_yaml_add_problem(pr, line, "nested deeper than %d levels",
							 SIDECAR_MAX_DEPTH);
			else
				sidecar_yaml_add_problem(pr, line, "more than %d values",
							 SIDECAR_MAX_NODES);
			rc = -1;
			break;
		}
		if (type == YAML_DOCUMENT_START_EVENT && ++documents > 1) {
			sidecar_yaml_add_problem(
				pr, line, "only the first YAML document is read; this is another");
			break;
		}
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

static int sidecar_parse(struct sidecar_yaml *y, const char *buf, size_t len)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		sidecar_yaml_add_problem(y->problems, 0, "not read: out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int ok = yaml_parser_load(&p, &y->doc);
	if (!ok)
		sidecar_syntax_problem(&p, buf, len, y->problems);
	yaml_parser_delete(&p);
	return ok ? 0 : -1;
}

int sidecar_yaml_load(struct sidecar_yaml *y, const char *path, struct sidecar_problems *problems)
{
	char *buf;
	size_t len;
	int rc = -1;
	memset(y, 0, sizeof *y);
	y->problems = problems;
	if (sidecar_read(path, &buf, &len, problems) < 0)
		return -1;
	if (sidecar_prescan(buf, len, problems) == 0 && sidecar_parse(y, buf, len) == 0) {
		/* Plain files cost about 2 * SIDECAR_NODE_COST a node; aliases may repeat parts. */
		long nodes = (long)(y->doc.nodes.top - y->doc.nodes.start);
		y->max_work = SIDECAR_NODE_COST * (nodes * 8 < SIDECAR_MAX_NODES * 2
							   ? nodes * 8 + 10000
							   : SIDECAR_MAX_NODES * 2);
		y->loaded = true;
		rc = 0;
	}
	free(buf);
	return rc;
}

void sidecar_yaml_release(struct sidecar_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}
