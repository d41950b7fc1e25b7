/*
 * test_web.c: the HTML interface's pure parts: escaping, the Presentation 3 §4.5 sanitizer
 * against hostile markup, and the Accept-Language choice of a language map entry.
 */
#include <glib.h>
#include <jansson.h>
#include <string.h>

#include "unit.h"
#include "core/html.h"
#include "web/lang.h"
#include "web/negotiate.h"

static void test_escape(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "plain", "plain" },
		{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "a & b \"c\" 'd'", "a &amp; b &quot;c&quot; &#39;d&#39;" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "", "" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GString *out = g_string_new(NULL);
		html_escape(out, cases[i].in);
		CHECK_STR(out->str, cases[i].want, cases[i].in);
		g_string_free(out, TRUE);
	}
}

static void test_is_markup(void)
{
	CHECK(html_is_markup("<p>x</p>"), "a paragraph is markup");
	CHECK(html_is_markup("<b>"), "even unbalanced");
	CHECK(!html_is_markup(" <p>x</p>"), "leading space: plain text (§4.5)");
	CHECK(!html_is_markup("<p>x</p> "), "trailing space: plain text (§4.5)");
	CHECK(!html_is_markup("1 < 2 > 0"), "comparison");
	CHECK(!html_is_markup("<"), "one character");
	CHECK(!html_is_markup(NULL), "NULL");
}

/* input -> exact sanitized output */
static const struct { const char *in, *want; } sanitize_cases[] = {
	/* allowed markup survives, lower-cased */
	{ "<p>Hello <b>bold</b> <i>it</i><br/>x</p>", "<p>Hello <b>bold</b> <i>it</i><br>x</p>" },
	{ "<P>Up<BR>per</P>", "<p>Up<br>per</p>" },
	{ "<span><small>s</small><sub>1</sub><sup>2</sup></span>",
	  "<span><small>s</small><sub>1</sub><sup>2</sup></span>" },
	{ "<a href=\"https://example.org/?a=1&amp;b=2\">link</a>",
	  "<a href=\"https://example.org/?a=1&amp;b=2\">link</a>" },
	{ "<a href='mailto:x@example.org'>mail</a>", "<a href=\"mailto:x@example.org\">mail</a>" },
	{ "<a href=http://example.org/x>unquoted</a>",
	  "<a href=\"http://example.org/x\">unquoted</a>" },
	{ "<img src=\"https://example.org/i.png\" alt=\"An image\">",
	  "<img src=\"https://example.org/i.png\" alt=\"An image\">" },
	{ "<img src=\"https://example.org/i.png\">", "<img src=\"https://example.org/i.png\" alt=\"\">" },
	/* scripts and their content go */
	{ "<p>a<script>alert(1)</script>b</p>", "<p>ab</p>" },
	{ "<p>a<SCRIPT type=x>alert(1)</SCRIPT >b</p>", "<p>ab</p>" },
	{ "<p>a<script>never closed", "<p>a</p>" },
	{ "<p><style>p{color:red}</style>x</p>", "<p>x</p>" },
	{ "<p><svg><script>alert(1)</script></svg>y</p>", "<p>y</p>" },
	{ "<p><iframe src=\"https://evil.example\"></iframe>z</p>", "<p>z</p>" },
	/* event handlers and other attributes go */
	{ "<img src=x onerror=alert(1)>", "" },
	{ "<img src=\"https://e.org/i.png\" onerror=\"alert(1)\" alt=a>",
	  "<img src=\"https://e.org/i.png\" alt=\"a\">" },
	{ "<p onclick=\"alert(1)\" style=\"x\" class=c>t</p>", "<p>t</p>" },
	{ "<b onmouseover=alert(1)>t</b>", "<b>t</b>" },
	{ "<span title='a>b' onclick=x>t</span>", "<span>t</span>" },
	/* javascript: and friends */
	{ "<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"JaVaScRiPt:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"javascript&#58;alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"javascript&#x3A;alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"javascript&colon;alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
	  "<a>x</a>" },
	{ "<a href=\"java&#9;script:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\" javascript:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", "<a>x</a>" },
	{ "<a href=\"vbscript:msgbox\">x</a>", "<a>x</a>" },
	{ "<a href=\"https://ok.example/\" href=\"javascript:x\">x</a>",
	  "<a href=\"https://ok.example/\">x</a>" },
	{ "<a href=\"http&#58;//ok.example/\">x</a>", "<a href=\"http://ok.example/\">x</a>" },
	{ "<img src=\"mailto:x@y\" alt=a>", "" },
	{ "<img src=\"javascript:alert(1)\">", "" },
	/* comments, CDATA, processing instructions, doctypes */
	{ "<p>a<!-- <script>alert(1)</script> -->b</p>", "<p>ab</p>" },
	{ "<p>a<![CDATA[<script>alert(1)</script>]]>b</p>", "<p>ab</p>" },
	{ "<?xml version=\"1.0\"?><p>a</p>", "<p>a</p>" },
	{ "<!DOCTYPE html><p>a</p>", "<p>a</p>" },
	{ "<p>a<!-- never closed <b>x</b></p>", "<p>a</p>" },
	/* nesting: closed here, strays dropped, never closing the page's own tags */
	{ "<p><b>unclosed", "<p><b>unclosed</b></p>" },
	{ "<b><i>x</b>y</i>", "<b><i>x</i></b>y" },
	{ "</div></td></p>x", "x" },
	{ "<p>x</span></p>", "<p>x</p>" },
	{ "<br></br><img>", "<br>" },
	/* forbidden containers are dropped, their text kept escaped */
	{ "<div><form action=x><input value=y>t</form></div>", "t" },
	{ "<table><tr><td>c</td></tr></table>", "c" },
	/* text: entities kept, stray characters escaped */
	{ "<p>caf&eacute; &amp; &#233; &#xE9;</p>", "<p>caf&eacute; &amp; &#233; &#xE9;</p>" },
	{ "<p>1 < 2 & 3 > 2 \"q\"</p>", "<p>1 &lt; 2 &amp; 3 &gt; 2 \"q\"</p>" /* quotes are inert in text */ },
	{ "<p>&lt;script&gt;</p>", "<p>&lt;script&gt;</p>" },
	{ "<p>< script>x</p>", "<p>&lt; script&gt;x</p>" },
	{ "<p>x</p><b", "<p>x</p>" },
	{ "<a href=\"https://x.example/\"", "" },
	{ "<p>x</ p>y", "<p>xy</p>" },
	{ "<scriptx>t</scriptx>", "t" },
	{ "<p>\"><script>alert(1)</script></p>", "<p>\"&gt;</p>" },
};

static void test_sanitize(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(sanitize_cases); i++) {
		GString *out = g_string_new(NULL);
		html_sanitize(out, sanitize_cases[i].in);
		CHECK_STR(out->str, sanitize_cases[i].want, sanitize_cases[i].in);
		g_string_free(out, TRUE);
	}
}

static void test_value(void)
{
	GString *out = g_string_new(NULL);
	html_value(out, "<p>Provided by <a href=\"https://lib.example/\">us</a></p>");
	CHECK_STR(out->str, "<p>Provided by <a href=\"https://lib.example/\">us</a></p>", "markup");
	g_string_truncate(out, 0);
	html_value(out, "Plain <b>text</b> ");
	CHECK_STR(out->str, "Plain &lt;b&gt;text&lt;/b&gt; ", "plain text is escaped whole");
	g_string_truncate(out, 0);
	/* deep nesting is cut without losing balance */
	GString *deep = g_string_new(NULL);
	for (int i = 0; i < 100; i++)
		g_string_append(deep, "<span>");
	g_string_append(deep, "x>");
	html_value(out, deep->str);
	int opens = 0, closes = 0;
	for (const char *p = out->str; (p = strstr(p, "<span>")); p++)
		opens++;
	for (const char *p = out->str; (p = strstr(p, "</span>")); p++)
		closes++;
	CHECK(opens == closes && opens > 0 && opens <= 32, "deep: %d opened, %d closed", opens,
	      closes);
	g_string_free(deep, TRUE);
	g_string_free(out, TRUE);
}

static void test_url_is_safe(void)
{
	CHECK(html_url_is_safe("https://example.org/", false), "https");
	CHECK(html_url_is_safe("HTTP://example.org/", true), "scheme case");
	CHECK(html_url_is_safe("mailto:a@b", false), "mailto link");
	CHECK(!html_url_is_safe("mailto:a@b", true), "mailto image");
	CHECK(!html_url_is_safe("//evil.example/", false), "scheme-relative");
	CHECK(!html_url_is_safe("/relative", false), "relative");
	CHECK(!html_url_is_safe("https://a b", false), "space");
	CHECK(!html_url_is_safe("javascript:alert(1)", false), "javascript");
	CHECK(!html_url_is_safe("", false), "empty");
}

static void test_lang_parse(void)
{
	static const struct { const char *header, *want; } cases[] = {
		{ "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr-ch fr en de *" },
		{ "en;q=0.5, de", "de en" },
		{ "de;q=0, en", "en" },
		{ "EN-gb", "en-gb" },
		{ "", "" },
		{ " , ,en , ", "en" },
		/* http/accept.c clamps q into 0..1; a malformed q counts as 0 (refused) */
		{ "en;q=2, fr;q=1.000, de;q=0.0001, it;q=abc, es", "en fr es de" },
		{ "123, en-123456789, x-y_z, fr", "fr" },
		{ "en;foo=bar;q=0.3, fr;Q=0.4", "fr en" },
		{ "a, b, c", "a b c" },
		{ "en;q=0.9;q=0.1, fr;q=0.5", "fr en" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct lang_list l;
		lang_list_parse(cases[i].header, &l);
		GString *got = g_string_new(NULL);
		for (int k = 0; k < l.count; k++)
			g_string_append_printf(got, "%s%s", k ? " " : "", l.tags[k]);
		CHECK_STR(got->str, cases[i].want, cases[i].header);
		g_string_free(got, TRUE);
	}
	struct lang_list l;
	lang_list_parse(NULL, &l);
	CHECK_INT(l.count, 0, "NULL header");
	GString *many = g_string_new(NULL);
	for (int i = 0; i < 200; i++)
		g_string_append_printf(many, "l%c, ", 'a' + i % 26);
	lang_list_parse(many->str, &l);
	CHECK_INT(l.count, LANG_MAX, "long header is capped");
	g_string_free(many, TRUE);
}

static void test_lang_pick(void)
{
	static const struct { const char *map, *header, *want; } cases[] = {
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "fr", "fr" },
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "fr-CH, en;q=0.5", "fr" },
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "en-GB,fr;q=0.9", "en" },
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "de, fr;q=0.1", "fr" },
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "de", "en" },
		{ "{\"fr\":[\"b\"],\"en\":[\"a\"]}", "", "en" },
		{ "{\"fr\":[\"b\"],\"none\":[\"n\"]}", "de", "none" },
		{ "{\"fr\":[\"b\"],\"de\":[\"c\"]}", "it", "fr" },
		{ "{\"en-US\":[\"a\"],\"fr\":[\"b\"]}", "en", "en-US" },
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "*", "en" },
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "FR", "fr" },
		{ "{\"en\":[\"a\"],\"fr\":[\"b\"]}", "fr;q=0, de", "en" },
		{ "{\"e\":[\"a\"],\"en\":[\"b\"]}", "en-gb", "en" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		json_t *map = json_loads(cases[i].map, 0, NULL);
		struct lang_list l;
		lang_list_parse(cases[i].header, &l);
		const char *got = lang_pick(map, &l);
		CHECK_STR(got ? got : "(null)", cases[i].want, cases[i].header);
		json_decref(map);
	}
	json_t *empty = json_object();
	CHECK(lang_pick(empty, NULL) == NULL, "empty map");
	json_decref(empty);
}

static void test_negotiate(void)
{
	static const struct { const char *accept; bool html; } cases[] = {
		/* browsers */
		{ "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true },
		{ "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
		  "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", true },
		{ "application/xhtml+xml", true },
		{ "TEXT/HTML", true },
		/* IIIF clients and tools */
		{ NULL, false },
		{ "", false },
		{ "*/*", false },
		{ "application/json", false },
		{ "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\"",
		  false },
		{ "application/json, text/plain, */*", false },
		{ "application/ld+json, application/json;q=0.9, */*;q=0.1", false },
		/* ties and preferences */
		{ "text/html, application/json", false },
		{ "text/html;q=0.5, application/json", false },
		{ "application/json;q=0.5, text/html", true },
		{ "text/html;q=0, */*", false },
		{ "text/html;q=abc", false },
		{ "text/html;level=1;q=0.9, */*;q=0.8", true },
		{ "text/*", true },          /* text/html through its wildcard, no JSON at all */
		{ "text/*, application/*", false },
		{ ",,, ;;; text/html", false },
		{ "text/html ; q=1.0", true },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		CHECK(negotiate_prefers_html(cases[i].accept) == cases[i].html, "Accept: %s",
		      cases[i].accept ? cases[i].accept : "(none)");
}

int main(void)
{
	UNIT_RUN(test_negotiate);
	UNIT_RUN(test_escape);
	UNIT_RUN(test_is_markup);
	UNIT_RUN(test_sanitize);
	UNIT_RUN(test_value);
	UNIT_RUN(test_url_is_safe);
	UNIT_RUN(test_lang_parse);
	UNIT_RUN(test_lang_pick);
	return unit_report("test_web");
}
