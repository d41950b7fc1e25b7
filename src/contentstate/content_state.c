/*
 * content_state.c: IIIF Content State 1.0: the encoding of §6 both ways, the forms of §2.2 read
 * into views (what to open, where), and content states written for links and citations.
 */
#include "contentstate/content_state.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/strings.h"

/* ---- encoding (§6.1) -------------------------------------------------------------------- */

/* encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are. */
static bool cs_uri_unreserved(unsigned char c)
{
	return g_ascii_isalnum(c) || strchr("-_.!~*'()", c) != NULL;
}

char *content_state_encode(const char *text, size_t len)
{
	if (!g_utf8_validate(text, (gssize)len, NULL))
		return NULL;
	GString *uri = g_string_sized_new(len * 3);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (cs_uri_unreserved(c))
			g_string_append_c(uri, (char)c);
		else
			g_string_append_printf(uri, "%%%02X", c);
	}
	gchar *b64 = g_base64_encode((const guchar *)uri->str, uri->len);
	g_string_free(uri, TRUE);
	size_t n = strlen(b64);
	while (n && b64[n - 1] == '=')
		n--;
	char *out = malloc(n + 1);
	for (size_t i = 0; out && i < n; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	if (out)
		out[n] = '\0';
	g_free(b64);
	return out;
}

static int cs_b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* base64url of len characters (no padding) into out (at least len * 3 / 4 + 1): bytes or -1. */
static long cs_b64url_decode(const char *in, size_t len, unsigned char *out)
{
	if (len % 4 == 1) /* §6.3: the padding cannot be restored */
		return -1;
	long o = 0;
	unsigned int acc = 0, bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = cs_b64url_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc ? -1 : o; /* leftover bits must be zero in a canonical encoding */
}

char *content_state_decode(const char *encoded, size_t len, struct iiifd_error *err)
{
	if (len % 4 == 0) /* padding that was left in */
		for (int i = 0; i < 2 && len && encoded[len - 1] == '='; i++)
			len--;
	if (len == 0 || len > CONTENT_STATE_MAX * 4 / 3 + 4) {
		iiifd_error_set(err, 400, "iiif-content: %s", len ? "too long" : "empty");
		return NULL;
	}
	unsigned char *raw = malloc(len * 3 / 4 + 2);
	long n = raw ? cs_b64url_decode(encoded, len, raw) : -1;
	char *text = NULL;
	if (n < 0) {
		iiifd_error_set(err, 400, "iiif-content: not a URI and not content-state-encoded "
					  "(base64url without padding, §6)");
		goto out;
	}
	text = malloc((size_t)n + 1);
	int got = text ? strings_url_decode((const char *)raw, (size_t)n, text, (size_t)n + 1) : -1;
	if (got < 0 || !g_utf8_validate(text, got, NULL)) {
		iiifd_error_set(err, 400, "iiif-content: the decoded content state has a bad "
					  "%%-escape or is not UTF-8");
		free(text);
		text = NULL;
	} else if (got > CONTENT_STATE_MAX) {
		iiifd_error_set(err, 400, "iiif-content: over %d bytes", CONTENT_STATE_MAX);
		free(text);
		text = NULL;
	}
out:
	free(raw);
	return text;
}

/* ---- URLs ------------------------------------------------------------------------------- */

/* Length of the "scheme://authority" of an absolute http(s) URL, or 0. */
static size_t cs_origin_len(const char *url)
{
	size_t skip = g_ascii_strncasecmp(url, "https://", 8) == 0 ? 8
		      : g_ascii_strncasecmp(url, "http://", 7) == 0 ? 7
								  : 0;
	if (!skip)
		return 0;
	size_t auth = strcspn(url + skip, "/?#");
	return auth ? skip + auth : 0;
}

/* Whether url's origin is one of the space- or comma-separated origins. */
static bool cs_origin_listed(const char *url, const char *origins)
{
	size_t o = cs_origin_len(url);
	for (const char *p = origins; o && p && *p;) {
		p += strspn(p, " ,\t");
		size_t n = strcspn(p, " ,\t");
		while (n && p[n - 1] == '/')
			n--;
		if (n == o && g_ascii_strncasecmp(p, url, n) == 0)
			return true;
		p += n + strspn(p + n, "/");
	}
	return false;
}

int content_state_url_check(const char *url, const struct content_state_scope *scope, char *out,
			    size_t n, struct iiifd_error *err)
{
	const char *base = scope->base;
	size_t blen = strlen(base), origin = cs_origin_len(base);
	for (const unsigned char *c = (const unsigned char *)url; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f || strchr("\"'<>\\`{}|^", *c))
			return iiifd_error_set(err, 400, "iiif-content: an id is not a URI (§6.2: "
							 "no IRIs, spaces, quotes or brackets)");
	if (strlen(url) >= CONTENT_STATE_URL_MAX)
		return iiifd_error_set(err, 400, "iiif-content: a URI is too long");
	bool own;
	if (url[0] == '/' && url[1] != '/') { /* path-absolute: on this server's origin */
		own = strncmp(url, base + origin, blen - origin) == 0 &&
		      (url[blen - origin] == '/' || blen == origin);
		if (own && (size_t)snprintf(out, n, "%.*s%s", (int)origin, base, url) >= n)
			return iiifd_error_set(err, 400, "iiif-content: a URI is too long");
		if (own)
			return 0;
	} else {
		own = g_ascii_strncasecmp(url, base, origin) == 0 &&
		      strncmp(url + origin, base + origin, blen - origin) == 0 && url[blen] == '/';
		if (own || (cs_origin_listed(url, scope->origins) && url[cs_origin_len(url)] == '/')) {
			/* this server's URLs written as it writes them (scheme and host case) */
			if ((size_t)snprintf(out, n, "%s%s", own ? base : "", own ? url + blen : url) >= n)
				return iiifd_error_set(err, 400, "iiif-content: a URI is too long");
			return 0;
		}
	}
	return iiifd_error_set(err, 400,
			       "iiif-content: it points elsewhere than this server (%.100s/); other "
			       "servers need the content-state-origins setting", base);
}

/* ---- fragments (Media Fragments: #xywh= and #t=) ----------------------------------------- */

/* A plain non-negative decimal at *p (no sign, exponent, inf or nan); advances *p. */
static int cs_decimal(const char **p, double *out)
{
	size_t digits = strspn(*p, "0123456789.");
	char *end;
	if (digits == 0 || digits > 24)
		return -1;
	errno = 0;
	*out = strtod(*p, &end);
	if (errno || end != *p + digits || !isfinite(*out))
		return -1;
	*p = end;
	return 0;
}

int content_state_parse_xywh(const char *s, double out[4])
{
	const char *p = strncmp(s, "pixel:", 6) == 0 ? s + 6 : s;
	for (int i = 0; i < 4; i++)
		if (cs_decimal(&p, &out[i]) < 0 || (i < 3 && *p++ != ','))
			return -1;
	return *p || out[2] <= 0 || out[3] <= 0 ? -1 : 0;
}

/* A time: seconds ("14.5") or [h:]mm:ss[.f]; advances *p. */
static int cs_clock(const char **p, double *out)
{
	double part[3];
	int n = 0;
	for (; n < 3; n++) {
		if (cs_decimal(p, &part[n]) < 0)
			return -1;
		if (**p != ':')
			break;
		(*p)++;
	}
	if (n == 3)
		return -1;
	*out = n == 0 ? part[0] : n == 1 ? part[0] * 60 + part[1]
					 : part[0] * 3600 + part[1] * 60 + part[2];
	return 0;
}

int content_state_parse_t(const char *s, double out[2])
{
	const char *p = strncmp(s, "npt:", 4) == 0 ? s + 4 : s;
	out[0] = 0;
	out[1] = -1;
	if (*p != ',' && cs_clock(&p, &out[0]) < 0)
		return -1;
	if (*p == ',') {
		p++;
		if (cs_clock(&p, &out[1]) < 0 || out[1] < out[0])
			return -1;
	}
	return *p ? -1 : 0;
}

/* Reads "xywh=...&t=..." (a fragment or a FragmentSelector value) into v. 0 or -1 with a 400. */
static int cs_fragment(const char *frag, struct content_state_view *v, struct iiifd_error *err)
{
	gchar **parts = g_strsplit(frag, "&", 8);
	int rc = 0;
	for (gchar **p = parts; *p && rc == 0; p++) {
		if (strncmp(*p, "xywh=", 5) == 0) {
			if (strncmp(*p + 5, "percent:", 8) == 0)
				rc = iiifd_error_set(err, 400, "iiif-content: xywh=percent: is not "
							      "supported; give pixels");
			else if (content_state_parse_xywh(*p + 5, v->xywh) < 0)
				rc = iiifd_error_set(err, 400, "iiif-content: xywh= wants x,y,w,h "
							      "(numbers, w and h above 0)");
			v->has_xywh = rc == 0;
		} else if (strncmp(*p, "t=", 2) == 0) {
			if (content_state_parse_t(*p + 2, v->t) < 0)
				rc = iiifd_error_set(err, 400, "iiif-content: t= wants a time or "
							      "start,end in seconds");
			v->has_t = rc == 0;
		}
		/* other fragments (track=, id=, a page's own) change nothing we show */
	}
	g_strfreev(parts);
	return rc;
}

/* ---- reading the forms of §2.2 ----------------------------------------------------------- */

struct cs_reader {
	const struct content_state_scope *scope;
	struct content_state *st;
	struct iiifd_error *err;
	int annotations; /* Annotations passed through on the way to a target */
};

static const char *cs_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Checks url and splits it: into id (no fragment, in scope) and the view's fragment. */
static int cs_id(struct cs_reader *r, const char *url, char *id, struct content_state_view *v)
{
	if (!url)
		return iiifd_error_set(r->err, 400, "iiif-content: a target has no id");
	if (content_state_url_check(url, r->scope, id, CONTENT_STATE_URL_MAX, r->err) < 0)
		return -1;
	char *hash = strchr(id, '#');
	if (!hash)
		return 0;
	*hash = '\0';
	return v ? cs_fragment(hash + 1, v, r->err) : 0;
}

/*
 * The Manifest of a Canvas or Range of this server without partOf: iiifd names them
 * {manifest}/canvas/N and {manifest}/range/N.
 */
static bool cs_manifest_of(const char *id, const char *segment, char *manifest)
{
	const char *at = g_strrstr(id, segment);
	if (!at || at == id)
		return false;
	snprintf(manifest, CONTENT_STATE_URL_MAX, "%.*s", (int)(at - id), id);
	return g_str_has_suffix(manifest, "/manifest");
}

/* partOf: the Manifest (or, failing one, any resource) a Canvas or Range is found in. */
static int cs_part_of(struct cs_reader *r, const json_t *res, const char *segment,
		      const char *id, struct content_state_view *v)
{
	const json_t *part = json_object_get(res, "partOf"), *first = NULL, *p;
	size_t i;
	if (json_is_object(part))
		first = part;
	json_array_foreach(part, i, p) {
		const char *type = cs_str(p, "type");
		if (!first || (type && strcmp(type, "Manifest") == 0))
			first = p;
	}
	if (first)
		return cs_id(r, cs_str(first, "id"), v->manifest, NULL);
	if (cs_manifest_of(id, segment, v->manifest))
		return 0;
	return iiifd_error_set(r->err, 400, "iiif-content: a Canvas or Range needs partOf naming "
					    "its Manifest (§2.2.4)");
}

static struct content_state_view *cs_new_view(struct cs_reader *r)
{
	if (r->st->n >= CONTENT_STATE_VIEWS_MAX) {
		iiifd_error_set(r->err, 400, "iiif-content: more than %d targets",
				CONTENT_STATE_VIEWS_MAX);
		return NULL;
	}
	struct content_state_view *v = &r->st->views[r->st->n++];
	memset(v, 0, sizeof *v);
	return v;
}

/* A URI target (§2.2.4): its kind from this server's URL layout. resolve: else fetch it. */
static int cs_uri(struct cs_reader *r, const char *uri, bool resolve)
{
	struct content_state_view *v = cs_new_view(r);
	char id[CONTENT_STATE_URL_MAX];
	if (!v || cs_id(r, uri, id, v) < 0)
		return -1;
	if (g_str_has_suffix(id, "/manifest") || g_str_has_suffix(id, "/collection")) {
		v->collection = g_str_has_suffix(id, "/collection");
		memcpy(v->manifest, id, sizeof id);
	} else if (cs_manifest_of(id, "/canvas/", v->manifest)) {
		memcpy(v->canvas, id, sizeof id);
	} else if (cs_manifest_of(id, "/range/", v->manifest)) {
		memcpy(v->range, id, sizeof id);
	} else if (resolve && !v->has_xywh && !v->has_t) {
		r->st->n--; /* an Annotation URI (§2.2.2) or another server's resource */
		snprintf(r->st->resolve, sizeof r->st->resolve, "%s", id);
	} else {
		return iiifd_error_set(r->err, 400, "iiif-content: %.120s is not a Manifest, "
						    "Collection, Canvas or Range", id);
	}
	return 0;
}

/* A Canvas or Range object, perhaps with a selector (from a SpecificResource). */
static int cs_part(struct cs_reader *r, const json_t *res, const json_t *selector)
{
	const char *type = cs_str(res, "type");
	struct content_state_view *v = cs_new_view(r);
	if (!v)
		return -1;
	bool range = type && strcmp(type, "Range") == 0;
	char *id = range ? v->range : v->canvas;
	if (cs_id(r, cs_str(res, "id"), id, v) < 0 ||
	    cs_part_of(r, res, range ? "/range/" : "/canvas/", id, v) < 0)
		return -1;
	const json_t *sel = json_is_array(selector) ? json_array_get(selector, 0) : selector;
	const char *stype = cs_str(sel, "type");
	if (!stype)
		return 0;
	if (strcmp(stype, "FragmentSelector") == 0 && cs_str(sel, "value"))
		return cs_fragment(cs_str(sel, "value"), v, r->err);
	if (strcmp(stype, "PointSelector") == 0 && json_is_number(json_object_get(sel, "t"))) {
		v->t[0] = json_number_value(json_object_get(sel, "t"));
		v->t[1] = -1;
		v->has_t = isfinite(v->t[0]) && v->t[0] >= 0;
		if (!v->has_t)
			return iiifd_error_set(r->err, 400, "iiif-content: PointSelector t must be "
							    "a time in seconds");
	}
	return 0; /* other selectors: the Canvas is shown whole */
}

static int cs_target(struct cs_reader *r, const json_t *t);

static int cs_object(struct cs_reader *r, const json_t *t)
{
	const char *type = cs_str(t, "type");
	if (!type)
		return iiifd_error_set(r->err, 400, "iiif-content: a target has no type");
	if (strcmp(type, "Manifest") == 0 || strcmp(type, "Collection") == 0) {
		struct content_state_view *v = cs_new_view(r);
		if (!v || cs_id(r, cs_str(t, "id"), v->manifest, NULL) < 0)
			return -1;
		v->collection = type[0] == 'C';
		return 0;
	}
	if (strcmp(type, "Canvas") == 0 || strcmp(type, "Range") == 0)
		return cs_part(r, t, NULL);
	if (strcmp(type, "SpecificResource") == 0) {
		const json_t *src = json_object_get(t, "source");
		if (json_is_string(src)) {
			json_t *canvas = json_pack("{s:O,s:s}", "id", src, "type", "Canvas");
			int rc = cs_part(r, canvas, json_object_get(t, "selector"));
			json_decref(canvas);
			return rc;
		}
		if (json_is_object(src))
			return cs_part(r, src, json_object_get(t, "selector"));
		return iiifd_error_set(r->err, 400, "iiif-content: a SpecificResource needs a source");
	}
	if (strcmp(type, "Annotation") == 0) { /* an Annotation as content: where it points */
		if (++r->annotations > 2)
			return iiifd_error_set(r->err, 400, "iiif-content: Annotations nested too deep");
		return cs_target(r, json_object_get(t, "target"));
	}
	return iiifd_error_set(r->err, 400, "iiif-content: a target of type %.40s cannot be shown",
			       type);
}

static int cs_target(struct cs_reader *r, const json_t *t)
{
	if (json_is_string(t))
		return cs_uri(r, json_string_value(t), false);
	if (json_is_object(t))
		return cs_object(r, t);
	if (!json_is_array(t) || json_array_size(t) == 0)
		return iiifd_error_set(r->err, 400, "iiif-content: no target");
	size_t i;
	const json_t *each;
	json_array_foreach(t, i, each) {
		if (json_is_array(each))
			return iiifd_error_set(r->err, 400, "iiif-content: a target in a target");
		if (cs_target(r, each) < 0)
			return -1;
	}
	return 0;
}

int content_state_parse(const char *text, size_t len, const struct content_state_scope *scope,
			struct content_state *st, struct iiifd_error *err)
{
	struct cs_reader r = { .scope = scope, .st = st, .err = err };
	memset(st, 0, sizeof *st);
	while (len && g_ascii_isspace(*text))
		text++, len--;
	while (len && g_ascii_isspace(text[len - 1]))
		len--;
	if (len == 0)
		return iiifd_error_set(err, 400, "iiif-content: empty");
	if (len > CONTENT_STATE_MAX)
		return iiifd_error_set(err, 400, "iiif-content: over %d bytes", CONTENT_STATE_MAX);
	if (text[0] != '{' && text[0] != '[') {
		char *uri = g_strndup(text, len);
		int rc = strlen(uri) == len ? cs_uri(&r, uri, true)
					    : iiifd_error_set(err, 400, "iiif-content: NUL in a URI");
		g_free(uri);
		return rc;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return iiifd_error_set(err, 400, "iiif-content: not JSON (line %d: %.80s)", jerr.line,
				       jerr.text);
	/* a full Annotation (§2.2.1), contentState or not (§2.2.4), or the target itself */
	int rc = cs_target(&r, doc);
	json_decref(doc);
	if (rc == 0 && st->n == 0 && !st->resolve[0])
		rc = iiifd_error_set(err, 400, "iiif-content: nothing to show");
	return rc;
}

int content_state_read_param(const char *value, const struct content_state_scope *scope,
			     struct content_state *st, struct iiifd_error *err)
{
	size_t len = strlen(value);
	const char *first = value + strspn(value, " \t\r\n");
	if (*first == '{' || *first == '[')
		return iiifd_error_set(err, 400, "iiif-content: JSON must be content-state-encoded "
						 "in a URL (§6.2)");
	/* a URI has a ':' or '/'; base64url has neither (§6.2: a URI is never encoded) */
	if (strpbrk(value, ":/"))
		return content_state_parse(value, len, scope, st, err);
	char *text = content_state_decode(value, len, err);
	if (!text)
		return -1;
	int rc = content_state_parse(text, strlen(text), scope, st, err);
	free(text);
	return rc;
}

/* ---- writing ----------------------------------------------------------------------------- */

json_t *content_state_target(const struct content_state_view *v)
{
	const char *mtype = v->collection ? "Collection" : "Manifest";
	if (!v->canvas[0])
		return json_pack("{s:s,s:s}", "id", v->manifest, "type", mtype);
	GString *id = g_string_new(v->canvas);
	char num[4][32];
	if (v->has_xywh) {
		for (int i = 0; i < 4; i++)
			strings_number(v->xywh[i], num[i], sizeof num[i]);
		g_string_append_printf(id, "#xywh=%s,%s,%s,%s", num[0], num[1], num[2], num[3]);
	}
	if (v->has_t) {
		strings_number(v->t[0], num[0], sizeof num[0]);
		g_string_append_printf(id, "%st=%s", v->has_xywh ? "&" : "#", num[0]);
		if (v->t[1] >= 0) {
			strings_number(v->t[1], num[1], sizeof num[1]);
			g_string_append_printf(id, ",%s", num[1]);
		}
	}
	json_t *t = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", id->str, "type", "Canvas", "partOf",
			      "id", v->manifest, "type", mtype);
	g_string_free(id, TRUE);
	return t;
}

json_t *content_state_annotation(json_t *target, const char *id)
{
	json_t *a = json_pack("{s:s}", "@context", "http://iiif.io/api/presentation/3/context.json");
	if (id)
		json_object_set_new(a, "id", json_string(id));
	json_object_set_new(a, "type", json_string("Annotation"));
	json_object_set_new(a, "motivation", json_pack("[s]", "contentState"));
	json_object_set_new(a, "target", target);
	return a;
}

char *content_state_encode_json(const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *enc = text ? content_state_encode(text, strlen(text)) : NULL;
	free(text);
	return enc;
}
