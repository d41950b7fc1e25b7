/*
 * sidecar_values.c: language maps, metadata, requiredStatement, rights, navDate, behavior and
 * viewingDirection from YAML, checked against the Presentation 3.0 rules for each.
 */
#include "presentation/sidecar_values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/html.h"
#include "core/rights.h"

/*
 * Loose BCP 47: a language of 2-8 letters (or the x-/i- singletons), then "-" and parts of 1-8
 * letters or digits; or "none".
 */
bool sidecar_values_language_ok(const char *s)
{
	size_t run = 0;
	bool first = true;
	for (;; s++) {
		bool alpha = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
		if (*s == '-' || !*s) {
			bool singleton = run == 1 && *s == '-' && strchr("xXiI", s[-1]);
			if (!run || run > 8 || (first && run == 1 && !singleton))
				return false;
			if (!*s)
				return true;
			run = 0, first = false;
		} else if (alpha || (!first && *s >= '0' && *s <= '9')) {
			run++;
		} else {
			return false;
		}
	}
}

/*
 * A text as the documents carry it. HTML (a value starting with '<' and ending with '>') is
 * reduced to what Presentation 3 §4.5 allows before any viewer sees it, so a sidecar can never
 * put a script into a viewer that trusts the server; what was dropped is reported.
 */
static json_t *sidecar_text(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
			    const char *s)
{
	if (!html_is_markup(s))
		return json_string(s);
	if (y->plain_text) { /* labels are text: viewers would show the tags */
		char *text = html_to_text(s);
		sidecar_yaml_problem(y, n, where,
				     "a label cannot hold HTML (Presentation 3 §4.5): its text "
				     "'%.60s' is used",
				     text);
		/* text that still looks like markup gets a trailing space, as §4.5 recommends */
		json_t *label = html_is_markup(text) ? json_sprintf("%s ", text) : json_string(text);
		g_free(text);
		return label;
	}
	GString *clean = g_string_new(NULL);
	if (html_sanitize(clean, s) > 0)
		sidecar_yaml_problem(y, n, where,
				     "HTML reduced to what Presentation 3 allows (a, b, br, i, img, p, "
				     "small, span, sub, sup; href, src, alt; http(s) links): '%.60s'",
				     clean->str);
	json_t *text = json_string(clean->str);
	g_string_free(clean, TRUE);
	return text;
}

/* Appends the texts of n (a text or a list of texts) to values. */
void sidecar_values_texts(struct sidecar_yaml *y, yaml_node_t *n, const char *where, json_t *values)
{
	if (n && n->type == YAML_SEQUENCE_NODE) {
		if (n->data.sequence.items.start == n->data.sequence.items.top)
			sidecar_yaml_problem(y, n, where, "empty list");
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			yaml_node_t *item = sidecar_yaml_node(y, *i);
			const char *s = sidecar_yaml_text(y, item, where);
			if (s)
				json_array_append_new(values, sidecar_text(y, item, where, s));
		}
	} else {
		const char *s = sidecar_yaml_text(y, n, where);
		if (s)
			json_array_append_new(values, sidecar_text(y, n, where, s));
	}
}

/* A language map from a mapping of language code -> text or list of texts. */
static json_t *sidecar_langmap_of(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *map = json_object();
	char w[300];
	if (n->data.mapping.pairs.start == n->data.mapping.pairs.top)
		sidecar_yaml_problem(y, n, where, "no languages in the mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *lang = sidecar_yaml_key(y, p);
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		if (!lang || !sidecar_values_language_ok(lang)) {
			char buf[64];
			sidecar_yaml_problem(
				y, k, where,
				"%s is not a language code (use en, fr, de-CH ... or none)",
				sidecar_yaml_describe(k, buf, sizeof buf));
			continue;
		}
		if (json_object_get(map, lang)) {
			sidecar_yaml_problem(
				y, k, where,
				"language '%.40s' is given twice; the first one is used", lang);
			continue;
		}
		json_t *values = json_array();
		json_object_set_new(map, lang, values);
		snprintf(w, sizeof w, "%.200s %s", where, lang);
		sidecar_values_texts(y, sidecar_yaml_node(y, p->value), w, values);
		if (!json_array_size(values))
			json_object_del(map, lang);
	}
	return map;
}

json_t *sidecar_values_label(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	bool outer = y->plain_text;
	y->plain_text = true;
	json_t *map = sidecar_values_langmap(y, n, where);
	y->plain_text = outer;
	return map;
}

json_t *sidecar_values_required_label(struct sidecar_yaml *y, yaml_node_t *map,
				      const char *where)
{
	char w[300];
	yaml_node_t *label = sidecar_yaml_get(y, map, "label");
	if (!label) {
		sidecar_yaml_problem(y, map, where, "'label' is missing");
		return NULL;
	}
	snprintf(w, sizeof w, "%.200s label", where);
	return sidecar_values_label(y, label, w);
}

/* A language map from text, a list of texts ({"none": [...]}) or a map of languages. */
json_t *sidecar_values_langmap(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *map;
	if (n && n->type == YAML_MAPPING_NODE) {
		map = sidecar_langmap_of(y, n, where);
	} else {
		json_t *values = json_array();
		map = json_object();
		json_object_set_new(map, "none", values);
		sidecar_values_texts(y, n, where, values);
		if (!json_array_size(values))
			json_object_clear(map);
	}
	if (json_object_size(map))
		return map;
	json_decref(map);
	return NULL;
}

static const char *const sidecar_label_value_keys[] = { "label", "value", NULL };

/* {label, value}, both language maps: a metadata entry or requiredStatement. */
json_t *sidecar_values_label_value(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	char w[300];
	json_t *label, *value, *out;
	if (!sidecar_yaml_mapping(y, n, where, "a mapping with label and value",
				  sidecar_label_value_keys))
		return NULL;
	yaml_node_t *label_n = sidecar_yaml_get(y, n, "label"),
		    *value_n = sidecar_yaml_get(y, n, "value");
	if (!label_n || !value_n) {
		sidecar_yaml_problem(y, n, where, "'%s' is missing", label_n ? "value" : "label");
		return NULL;
	}
	snprintf(w, sizeof w, "%.200s label", where);
	label = sidecar_values_label(y, label_n, w);
	snprintf(w, sizeof w, "%.200s value", where);
	value = sidecar_values_langmap(y, value_n, w);
	if (!label || !value) {
		json_decref(label);
		json_decref(value);
		return NULL;
	}
	out = json_object();
	json_object_set_new(out, "label", label);
	json_object_set_new(out, "value", value);
	return out;
}

/* A list of {label, value}, or the short form: a mapping of label -> value. */
json_t *sidecar_values_metadata(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *list = json_array();
	char w[300];
	if (n->type == YAML_SEQUENCE_NODE) {
		sidecar_yaml_items(y, n, where, sidecar_values_label_value, list);
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			const char *key = sidecar_yaml_key(y, p);
			snprintf(w, sizeof w, "%.200s %.60s", where, key ? key : "?");
			json_t *value =
				sidecar_values_langmap(y, sidecar_yaml_node(y, p->value), w);
			if (!key || !value) {
				if (!key)
					sidecar_yaml_expected(
						y, yaml_document_get_node(&y->doc, p->key), where,
						"text as a label");
				json_decref(value);
				continue;
			}
			json_array_append_new(list,
					      json_pack("{s:o,s:o}", "label",
							sidecar_language_map(key), "value", value));
		}
	} else {
		sidecar_yaml_expected(y, n, where, "a list of {label, value}");
	}
	return sidecar_json_nonempty(list);
}

/* A rights statement IIIF accepts; another spelling of one is rewritten, with a warning. */
json_t *sidecar_values_rights(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	const char *s = sidecar_yaml_text(y, n, where);
	char canonical[512];
	if (!s)
		return NULL;
	switch (strlen(s) < 400 ? rights_normalise(s, canonical, sizeof canonical) : RIGHTS_INVALID) {
	case RIGHTS_OK:
		return json_string(s);
	case RIGHTS_NORMALISED:
		sidecar_yaml_problem(y, n, where,
				     "'%.80s' is written '%.80s' (the form the specification "
				     "requires); served that way",
				     s, canonical);
		return json_string(canonical);
	default:
		sidecar_yaml_problem(y, n, where,
				     "'%.80s' is not a Creative Commons or RightsStatements.org URI "
				     "(e.g. http://creativecommons.org/licenses/by/4.0/)",
				     s);
		return NULL;
	}
}

static bool sidecar_digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

/* Digits after a ".", at least one; returns the end or NULL. */
static const char *sidecar_fraction(const char *s)
{
	if (*s != '.' || s[1] < '0' || s[1] > '9')
		return NULL;
	for (s++; *s >= '0' && *s <= '9'; s++)
		;
	return s;
}

/* A zone: Z, or +hh, +hhmm, +hh:mm (one-digit hours as YAML allows); no zone means UTC. */
static const char *sidecar_parse_zone(const char *s, long *offset)
{
	int sign, oh, om = 0, hour_digits;
	if (*s == 'Z' || *s == 'z')
		return s + 1;
	if (*s != '+' && *s != '-')
		return s;
	sign = *s++ == '-' ? -1 : 1;
	hour_digits = s[1] >= '0' && s[1] <= '9' ? 2 : 1;
	if (!sidecar_digits(s, hour_digits, &oh))
		return NULL;
	s += hour_digits;
	if (*s == ':' && !sidecar_digits(++s, 2, &om))
		return NULL;
	if (sidecar_digits(s, 2, &om))
		s += 2;
	if (oh > 14 || om > 59)
		return NULL;
	*offset = sign * (oh * 3600L + om * 60L);
	return s;
}

/* hh:mm[:ss[.fraction]][ ][zone]; the fraction is dropped. */
static const char *sidecar_parse_time(const char *s, struct tm *tm, long *offset)
{
	if (!sidecar_digits(s, 2, &tm->tm_hour) || s[2] != ':' ||
	    !sidecar_digits(s + 3, 2, &tm->tm_min))
		return NULL;
	s += 5;
	if (*s == ':') {
		if (!sidecar_digits(s + 1, 2, &tm->tm_sec))
			return NULL;
		s += 3;
		if (*s == '.' && !(s = sidecar_fraction(s)))
			return NULL;
	}
	return sidecar_parse_zone(s + (*s == ' '), offset);
}

static int sidecar_days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

/* YYYY[-MM[-DD[(T|t| )time]]] -> "YYYY-MM-DDThh:mm:ssZ" in UTC; false if not a real date. */
static bool sidecar_parse_date(const char *s, char out[32])
{
	struct tm tm = { .tm_mon = 1, .tm_mday = 1 };
	int year, parts = 1;
	long offset = 0;
	time_t t;
	if (!sidecar_digits(s, 4, &year))
		return false;
	for (s += 4; *s == '-' && parts < 3; s += 3)
		if (!sidecar_digits(s + 1, 2, parts++ == 1 ? &tm.tm_mon : &tm.tm_mday))
			return false;
	if (parts == 3 && (*s == 'T' || *s == 't' || *s == ' ') &&
	    !(s = sidecar_parse_time(s + 1, &tm, &offset)))
		return false;
	if (*s || year < 1 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > sidecar_days_in_month(year, tm.tm_mon) || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 59)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon--;
	t = timegm(&tm) - offset;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return false;
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return true;
}

json_t *sidecar_values_nav_date(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	const char *s = sidecar_yaml_text(y, n, where);
	char date[32];
	if (!s)
		return NULL;
	if (sidecar_parse_date(s, date))
		return json_string(date);
	sidecar_yaml_problem(y, n, where,
			     "'%.40s' is not a date (use YYYY, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)",
			     s);
	return NULL;
}

static const char *const sidecar_behaviors[] = {
	"auto-advance", "no-auto-advance", "repeat",       "no-repeat", "unordered",  "individuals",
	"continuous",   "paged",           "facing-pages", "non-paged", "multi-part", "together",
	"sequence",     "thumbnail-nav",   "no-nav",       "hidden",    NULL,
};

#define ON_C SIDECAR_ON_COLLECTION
#define ON_M SIDECAR_ON_MANIFEST
#define ON_V SIDECAR_ON_CANVAS
#define ON_R SIDECAR_ON_RANGE

/* Presentation 3 §3.3: the resources each behavior is valid on (hidden: annotations only). */
static const struct {
	const char *name;
	unsigned on;
	const char *where;
} sidecar_behavior_scope[] = {
	{ "auto-advance", ON_C | ON_M | ON_V | ON_R, "" },
	{ "no-auto-advance", ON_C | ON_M | ON_V | ON_R, "" },
	{ "repeat", ON_C | ON_M, "Collections and Manifests" },
	{ "no-repeat", ON_C | ON_M, "Collections and Manifests" },
	{ "unordered", ON_C | ON_M | ON_R, "Collections, Manifests and Ranges" },
	{ "individuals", ON_C | ON_M | ON_R, "Collections, Manifests and Ranges" },
	{ "continuous", ON_C | ON_M | ON_R, "Collections, Manifests and Ranges" },
	{ "paged", ON_C | ON_M | ON_R, "Collections, Manifests and Ranges" },
	{ "facing-pages", ON_V, "Canvases" },
	{ "non-paged", ON_V, "Canvases" },
	{ "multi-part", ON_C, "Collections" },
	{ "together", ON_C, "Collections" },
	{ "sequence", ON_R, "Ranges" },
	{ "thumbnail-nav", ON_R, "Ranges" },
	{ "no-nav", ON_R, "Ranges" },
	{ "hidden", 0, "annotations" },
};

/* NULL when behavior b may be on the resource (any of the bits of on), else where it may be. */
static const char *sidecar_behavior_misplaced(const char *b, unsigned on)
{
	for (size_t i = 0; i < sizeof sidecar_behavior_scope / sizeof sidecar_behavior_scope[0]; i++)
		if (!strcmp(b, sidecar_behavior_scope[i].name))
			return sidecar_behavior_scope[i].on & on ? NULL
								 : sidecar_behavior_scope[i].where;
	return NULL;
}

/* Pairs the specification says one resource must not have together. */
static const char *const sidecar_disjoint[][2] = {
	{ "auto-advance", "no-auto-advance" },
	{ "repeat", "no-repeat" },
	{ "unordered", "individuals" },
	{ "unordered", "continuous" },
	{ "unordered", "paged" },
	{ "individuals", "continuous" },
	{ "individuals", "paged" },
	{ "continuous", "paged" },
	{ "paged", "facing-pages" },
	{ "paged", "non-paged" },
	{ "facing-pages", "non-paged" },
	{ "multi-part", "together" },
	{ "sequence", "thumbnail-nav" },
	{ "sequence", "no-nav" },
	{ "thumbnail-nav", "no-nav" },
};

static bool sidecar_disjoint_pair(const char *a, const char *b)
{
	for (size_t i = 0; i < sizeof sidecar_disjoint / sizeof sidecar_disjoint[0]; i++)
		if ((!strcmp(a, sidecar_disjoint[i][0]) && !strcmp(b, sidecar_disjoint[i][1])) ||
		    (!strcmp(b, sidecar_disjoint[i][0]) && !strcmp(a, sidecar_disjoint[i][1])))
			return true;
	return false;
}

static void sidecar_behavior_add(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				 json_t *list)
{
	const char *s = sidecar_yaml_text(y, n, where);
	char known[240];
	if (!s)
		return;
	if (!sidecar_yaml_in(s, sidecar_behaviors)) {
		sidecar_yaml_join(sidecar_behaviors, known, sizeof known);
		sidecar_yaml_problem(y, n, where, "'%.40s' is not a behavior (known: %s)", s,
				     known);
		return;
	}
	const char *valid_on = y->resource ? sidecar_behavior_misplaced(s, y->resource) : NULL;
	if (valid_on) {
		sidecar_yaml_problem(y, n, where, "'%s' is not valid here: only on %s", s, valid_on);
		return;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *had = json_string_value(json_array_get(list, i));
		if (!strcmp(had, s))
			return;
		if (sidecar_disjoint_pair(had, s)) {
			sidecar_yaml_problem(y, n, where, "'%s' cannot be combined with '%s'", s,
					     had);
			return;
		}
	}
	json_array_append_new(list, json_string(s));
}

json_t *sidecar_values_behavior(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *list = json_array();
	if (n->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++)
			sidecar_behavior_add(y, sidecar_yaml_node(y, *it), where, list);
	else
		sidecar_behavior_add(y, n, where, list);
	if (json_array_size(list))
		return list;
	json_decref(list);
	return NULL;
}

json_t *sidecar_values_viewing_direction(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	static const char *const directions[] = {
		"left-to-right", "right-to-left", "top-to-bottom", "bottom-to-top", NULL,
	};
	const char *s = sidecar_yaml_text(y, n, where);
	if (s && sidecar_yaml_in(s, directions))
		return json_string(s);
	if (s)
		sidecar_yaml_problem(
			y, n, where,
			"'%.40s' is not one of left-to-right, right-to-left, top-to-bottom, "
			"bottom-to-top",
			s);
	return NULL;
}

/* A clock time "m:ss", "h:mm:ss" (any number of leading digits), optional ".fraction". */
static bool sidecar_clock(const char *s, double *out)
{
	double total = 0;
	int fields = 0;
	for (;;) {
		int digits = 0;
		long v = 0;
		for (; s[digits] >= '0' && s[digits] <= '9' && digits < 9; digits++)
			v = v * 10 + (s[digits] - '0');
		if (!digits || (fields && (digits != 2 || v > 59)))
			return false;
		total = total * 60 + (double)v;
		s += digits;
		if (++fields > 3 || *s != ':')
			break;
		s++;
	}
	if (fields < 2 || fields > 3)
		return false;
	if (*s == '.') {
		const char *end = sidecar_fraction(s);
		if (!end || *end)
			return false;
		total += strtod(s, NULL);
	} else if (*s) {
		return false;
	}
	*out = total;
	return true;
}

/* Seconds from a number or a clock time. */
bool sidecar_values_seconds(struct sidecar_yaml *y, yaml_node_t *n, const char *where, double *out)
{
	bool integral;
	const char *s = sidecar_yaml_scalar(n);
	if (s && ((sidecar_yaml_plain(n) && sidecar_yaml_parse_number(s, out, &integral)) ||
		  sidecar_clock(s, out)))
		return true;
	sidecar_yaml_expected(y, n, where, "a time in seconds (or m:ss, h:mm:ss)");
	return false;
}
