/*
 * html.c: escaping and the §4.5 sanitizer. The sanitizer is a small tokenizer, not a DOM: it
 * writes only tags it knows, with attribute values it decoded, checked and escaped again, so
 * what a browser reads back is exactly the string that was checked.
 */
#include "core/html.h"

#include <string.h>

#define HTML_MAX_DEPTH 32

void html_escape_len(GString *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		switch (s[i]) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		case '\'': g_string_append(out, "&#39;"); break;
		default: g_string_append_c(out, s[i]);
		}
	}
}

void html_escape(GString *out, const char *s)
{
	if (s)
		html_escape_len(out, s, strlen(s));
}

bool html_is_markup(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 2 && s[0] == '<' && s[n - 1] == '>';
}

bool html_url_is_safe(const char *url, bool image_only)
{
	static const char *const schemes[] = { "http://", "https://", "mailto:" };
	bool ok = false;
	for (size_t i = 0; i < (image_only ? 2u : 3u) && !ok; i++)
		ok = g_ascii_strncasecmp(url, schemes[i], strlen(schemes[i])) == 0;
	for (const unsigned char *p = (const unsigned char *)url; ok && *p; p++)
		ok = *p > ' ' && *p != 0x7f;
	return ok;
}

/* ---- tokens ------------------------------------------------------------------------------ */

static const char *const html_allowed[] = { "a", "b", "br", "i", "img", "p",
					    "small", "span", "sub", "sup" };
#define HTML_NALLOWED (sizeof html_allowed / sizeof html_allowed[0])

/* Elements dropped together with everything up to their end tag. */
static const char *const html_opaque[] = { "script", "style", "template", "iframe", "object",
					   "embed", "noscript", "noembed", "noframes", "textarea",
					   "title", "xmp", "svg", "math", "select", "plaintext" };

struct html_tag {
	char name[16]; /* lower case; "" when too long to be any tag we know */
	bool closing;
	const char *href, *src, *alt; /* raw attribute values (not terminated), or NULL */
	size_t href_len, src_len, alt_len;
	int dropped; /* other attributes, not kept */
};

static int html_allowed_index(const char *name)
{
	for (size_t i = 0; i < HTML_NALLOWED; i++)
		if (strcmp(name, html_allowed[i]) == 0)
			return (int)i;
	return -1;
}

static bool html_is_opaque(const char *name)
{
	for (size_t i = 0; i < sizeof html_opaque / sizeof html_opaque[0]; i++)
		if (strcmp(name, html_opaque[i]) == 0)
			return true;
	return false;
}

static bool html_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void html_keep_attr(struct html_tag *t, const char *name, size_t nlen, const char *v,
			   size_t vlen)
{
	/* the first of several same-named attributes counts, as in browsers */
	if (nlen == 4 && g_ascii_strncasecmp(name, "href", 4) == 0 && !t->href)
		t->href = v, t->href_len = vlen;
	else if (nlen == 3 && g_ascii_strncasecmp(name, "src", 3) == 0 && !t->src)
		t->src = v, t->src_len = vlen;
	else if (nlen == 3 && g_ascii_strncasecmp(name, "alt", 3) == 0 && !t->alt)
		t->alt = v, t->alt_len = vlen;
	else
		t->dropped++;
}

/* Reads the attributes from p to the tag's '>'; returns what follows it, NULL at the end. */
static const char *html_attrs(const char *p, struct html_tag *t)
{
	for (;;) {
		while (html_is_space(*p) || *p == '/')
			p++;
		if (*p == '>')
			return p + 1;
		if (!*p)
			return NULL;
		const char *name = p;
		while (*p && !html_is_space(*p) && *p != '/' && *p != '>' && (*p != '=' || p == name))
			p++;
		size_t nlen = (size_t)(p - name);
		while (html_is_space(*p))
			p++;
		if (*p != '=') {
			html_keep_attr(t, name, nlen, "", 0);
			continue;
		}
		p++;
		while (html_is_space(*p))
			p++;
		const char *v = p;
		if (*p == '"' || *p == '\'') {
			const char *end = strchr(p + 1, *p);
			if (!end)
				return NULL;
			v = p + 1;
			p = end + 1;
			html_keep_attr(t, name, nlen, v, (size_t)(end - v));
		} else {
			while (*p && !html_is_space(*p) && *p != '>')
				p++;
			html_keep_attr(t, name, nlen, v, (size_t)(p - v));
		}
	}
}

/* Parses the tag after "<" or "</" at p (a letter); returns what follows it or NULL. */
static const char *html_tag_read(const char *p, struct html_tag *t)
{
	size_t n = 0;
	for (; g_ascii_isalnum(*p); p++)
		if (n < sizeof t->name - 1)
			t->name[n++] = g_ascii_tolower(*p);
		else
			t->name[0] = '\0', n = sizeof t->name; /* too long: no name we know */
	if (n < sizeof t->name)
		t->name[n] = '\0';
	return html_attrs(p, t);
}

/* Skips to just after the first end (case-insensitive), or to the end of s. */
static const char *html_skip_past(const char *p, const char *end)
{
	size_t n = strlen(end);
	for (; *p; p++)
		if (g_ascii_strncasecmp(p, end, n) == 0)
			return p + n;
	return p;
}

/* After an opaque element's start tag: past its end tag ("</name" ... '>'), or the end. */
static const char *html_skip_element(const char *p, const char *name)
{
	size_t n = strlen(name);
	for (; *p; p++) {
		if (p[0] == '<' && p[1] == '/' && g_ascii_strncasecmp(p + 2, name, n) == 0 &&
		    !g_ascii_isalnum(p[2 + n])) {
			const char *gt = strchr(p, '>');
			return gt ? gt + 1 : p + strlen(p);
		}
	}
	return p;
}

/* ---- entities ---------------------------------------------------------------------------- */

/* Length of a well-formed character reference at p ("&amp;", "&#38;", "&#x26;"), else 0. */
static size_t html_entity_len(const char *p)
{
	size_t i = 1;
	if (p[1] == '#') {
		bool hex = p[2] == 'x' || p[2] == 'X';
		i = hex ? 3 : 2;
		size_t start = i;
		while ((hex ? g_ascii_isxdigit(p[i]) : g_ascii_isdigit(p[i])) && i - start < 8)
			i++;
		return i > start && p[i] == ';' ? i + 1 : 0;
	}
	while (g_ascii_isalnum(p[i]) && i < 33)
		i++;
	return i > 1 && g_ascii_isalpha(p[1]) && p[i] == ';' ? i + 1 : 0;
}

/*
 * Decodes an attribute value the way a browser would before using it: numeric references
 * (with or without ';') and the named ones a scheme could hide behind. Unknown names stay as
 * they are, which is safe: the value is escaped again on output, so the browser sees exactly
 * the decoded string that was checked.
 */
static char *html_attr_decode(const char *v, size_t n)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		{ "apos;", '\'' }, { "colon;", ':' }, { "Tab;", '\t' }, { "NewLine;", '\n' },
		{ "sol;", '/' }, { "period;", '.' }, { "num;", '#' }, { "quest;", '?' },
	};
	GString *out = g_string_sized_new(n);
	for (size_t i = 0; i < n;) {
		if (v[i] != '&') {
			g_string_append_c(out, v[i++]);
			continue;
		}
		if (i + 1 < n && v[i + 1] == '#') {
			bool hex = i + 2 < n && (v[i + 2] == 'x' || v[i + 2] == 'X');
			size_t j = i + (hex ? 3 : 2), start = j;
			gunichar c = 0;
			while (j < n && (hex ? g_ascii_isxdigit(v[j]) : g_ascii_isdigit(v[j]))) {
				if (c < 0x110000)
					c = c * (hex ? 16 : 10) + (gunichar)(hex ? g_ascii_xdigit_value(v[j])
									  : v[j] - '0');
				j++;
			}
			if (j > start) {
				if (c == 0 || c >= 0x110000 || (c >= 0xd800 && c <= 0xdfff))
					c = 0xfffd;
				g_string_append_unichar(out, c);
				i = j < n && v[j] == ';' ? j + 1 : j;
				continue;
			}
		}
		size_t k = 0;
		for (; k < G_N_ELEMENTS(named); k++) {
			size_t len = strlen(named[k].name);
			if (i + 1 + len <= n && strncmp(v + i + 1, named[k].name, len) == 0)
				break;
		}
		if (k < G_N_ELEMENTS(named)) {
			g_string_append_c(out, named[k].c);
			i += 1 + strlen(named[k].name);
		} else {
			g_string_append_c(out, v[i++]);
		}
	}
	return g_string_free(out, FALSE);
}

/* ---- output ------------------------------------------------------------------------------ */

static void html_text(GString *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t e = p[i] == '&' ? html_entity_len(p + i) : 0;
		if (e && i + e <= n) {
			g_string_append_len(out, p + i, (gssize)e); /* inert in text: kept as written */
			i += e;
		} else if (p[i] == '"' || p[i] == '\'') {
			g_string_append_c(out, p[i++]); /* quotes are inert in text (not attributes) */
		} else {
			html_escape_len(out, p + i, 1);
			i++;
		}
	}
}

/* Appends ` name="value"` when the decoded value passes check (NULL: any value). */
static bool html_attr_out(GString *out, const char *name, const char *v, size_t n, int check)
{
	char *decoded = html_attr_decode(v, n);
	bool ok = check < 0 || html_url_is_safe(decoded, check == 1);
	if (ok) {
		g_string_append_printf(out, " %s=\"", name);
		html_escape(out, decoded);
		g_string_append_c(out, '"');
	}
	g_free(decoded);
	return ok;
}

struct html_stack {
	int tags[HTML_MAX_DEPTH];
	int depth;
	int dropped; /* constructs left out: the return value of html_sanitize() */
};

static void html_open(GString *out, const struct html_tag *t, int idx, struct html_stack *st)
{
	bool is_void = strcmp(t->name, "br") == 0 || strcmp(t->name, "img") == 0;
	bool img = strcmp(t->name, "img") == 0, a = strcmp(t->name, "a") == 0;
	st->dropped += t->dropped + (!a && t->href) + (!img && (t->src || t->alt));
	if (!is_void && st->depth == HTML_MAX_DEPTH)
		return; /* deeper nesting only loses formatting */
	if (img) {
		GString *tag = g_string_new("<img");
		if (t->src && html_attr_out(tag, "src", t->src, t->src_len, 1)) {
			html_attr_out(tag, "alt", t->alt ? t->alt : "", t->alt ? t->alt_len : 0, -1);
			g_string_append(out, tag->str);
			g_string_append_c(out, '>');
		} else {
			st->dropped++;
		}
		g_string_free(tag, TRUE);
		return;
	}
	g_string_append_printf(out, "<%s", t->name);
	if (a && t->href && !html_attr_out(out, "href", t->href, t->href_len, 0))
		st->dropped++;
	g_string_append_c(out, '>');
	if (!is_void)
		st->tags[st->depth++] = idx;
}

static void html_close(GString *out, int idx, struct html_stack *st)
{
	int at = st->depth - 1;
	while (at >= 0 && st->tags[at] != idx)
		at--;
	if (at < 0)
		return; /* not open here: a stray end tag never closes the page's own elements */
	while (st->depth > at)
		g_string_append_printf(out, "</%s>", html_allowed[st->tags[--st->depth]]);
}

/* One markup construct at p ('<'); returns where the text continues. */
static const char *html_markup(GString *out, const char *p, struct html_stack *st)
{
	if (strncmp(p, "<!--", 4) == 0)
		return st->dropped++, html_skip_past(p + 4, "-->");
	if (strncmp(p, "<![CDATA[", 9) == 0)
		return st->dropped++, html_skip_past(p + 9, "]]>");
	if (p[1] == '!' || p[1] == '?' || (p[1] == '/' && !g_ascii_isalpha(p[2])))
		return st->dropped++, html_skip_past(p + 1, ">"); /* doctype, PI, bogus comment */
	bool closing = p[1] == '/';
	if (!g_ascii_isalpha(p[closing ? 2 : 1])) {
		g_string_append(out, "&lt;");
		return p + 1;
	}
	struct html_tag t = { .closing = closing };
	const char *next = html_tag_read(p + (closing ? 2 : 1), &t);
	if (!next)
		return st->dropped++, p + strlen(p); /* an unfinished tag at the end is dropped */
	int idx = html_allowed_index(t.name);
	st->dropped += idx < 0;
	if (!closing && idx < 0 && html_is_opaque(t.name))
		return html_skip_element(next, t.name);
	if (idx >= 0 && closing)
		html_close(out, idx, st);
	else if (idx >= 0)
		html_open(out, &t, idx, st);
	return next;
}

int html_sanitize(GString *out, const char *s)
{
	struct html_stack st = { .depth = 0, .dropped = 0 };
	const char *p = s ? s : "";
	while (*p) {
		const char *lt = strchr(p, '<');
		size_t n = lt ? (size_t)(lt - p) : strlen(p);
		html_text(out, p, n);
		p += n;
		if (*p)
			p = html_markup(out, p, &st);
	}
	while (st.depth > 0)
		g_string_append_printf(out, "</%s>", html_allowed[st.tags[--st.depth]]);
	return st.dropped;
}

char *html_to_text(const char *s)
{
	GString *clean = g_string_new(NULL), *text = g_string_new(NULL);
	html_sanitize(clean, s);
	for (const char *p = clean->str; *p; p++) {
		if (*p == '<') { /* sanitized: every '<' starts a tag that ends at the next '>' */
			const char *end = strchr(p, '>');
			if (!end)
				break;
			p = end;
		} else {
			g_string_append_c(text, *p);
		}
	}
	char *decoded = html_attr_decode(text->str, text->len);
	g_string_free(clean, TRUE);
	g_string_free(text, TRUE);
	return decoded;
}

void html_value(GString *out, const char *s)
{
	if (html_is_markup(s))
		html_sanitize(out, s);
	else
		html_escape(out, s);
}
