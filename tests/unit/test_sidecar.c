/*
 * test_sidecar.c: YAML sidecars written to a temporary folder, loaded, and compared as whole JSON
 * parts with the Presentation 3.0 shapes expected, together with every problem's count and line.
 */
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "presentation/language.h"
#include "presentation/sidecar.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_sidecar.XXXXXX";
static char fixture[sizeof tmpdir + 32];

/*
 * One sidecar and what it must give: want is a JSON object with the expected parts ("props",
 * "canvases", "toc", "chapters"; absent ones must be NULL), written with ' for " to stay readable.
 * problems is the problem count; line and msg (a substring) describe the first one.
 */
struct sc_case {
	const char *name;
	const char *yaml;
	const char *want;
	int problems;
	int line;
	const char *msg;
};

#define NO_PROBLEMS 0, 0, ""

static const char *write_fixture(const char *text, size_t len)
{
	snprintf(fixture, sizeof fixture, "%s/sidecar.yml", tmpdir);
	FILE *f = fopen(fixture, "wb");
	if (!f)
		return fixture;
	fwrite(text, 1, len, f);
	fclose(f);
	return fixture;
}

static json_t *load_json(const char *quoted)
{
	char *text = strdup(quoted);
	json_error_t err;
	for (char *p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_t *j = json_loads(text, 0, &err);
	if (!j)
		fprintf(stderr, "bad expected JSON (%s): %s\n", err.text, text);
	free(text);
	return j;
}

static void print_problems(const char *name, const struct sidecar_problems *pr)
{
	for (int i = 0; i < pr->count && i < SIDECAR_MAX_PROBLEMS; i++)
		fprintf(stderr, "  %s: line %d: %s\n", name, pr->items[i].line, pr->items[i].msg);
}

static void check_part(const char *name, const char *part, json_t *got, json_t *want)
{
	char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *w = want ? json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	CHECK((!got && !want) || (got && want && json_equal(got, want)), "%s: %s: got %s, want %s",
	      name, part, g ? g : "NULL", w ? w : "NULL");
	free(g);
	free(w);
}

static void check_sidecar(const char *name, const struct sidecar *sc, const char *want_text)
{
	json_t *want = load_json(want_text);
	CHECK(want != NULL, "%s: expected JSON parses", name);
	check_part(name, "props", sc->props, json_object_get(want, "props"));
	check_part(name, "canvases", sc->canvases, json_object_get(want, "canvases"));
	check_part(name, "toc", sc->toc, json_object_get(want, "toc"));
	check_part(name, "chapters", sc->chapters, json_object_get(want, "chapters"));
	json_decref(want);
}

static void check_problems(const char *name, const struct sidecar_problems *pr, int count, int line,
			   const char *msg)
{
	CHECK_INT(pr->count, count, name);
	if (pr->count != count)
		print_problems(name, pr);
	if (count > 0 && pr->count > 0) {
		CHECK_INT(pr->items[0].line, line, name);
		CHECK(strstr(pr->items[0].msg, msg) != NULL, "%s: problem '%s' should contain '%s'",
		      name, pr->items[0].msg, msg);
	}
}

static void run_cases(const struct sc_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct sc_case *tc = &cases[i];
		struct sidecar sc;
		struct sidecar_problems pr;
		int rc = sidecar_load(write_fixture(tc->yaml, strlen(tc->yaml)), &sc, &pr);
		CHECK_INT(rc, 0, tc->name);
		check_sidecar(tc->name, &sc, tc->want);
		check_problems(tc->name, &pr, tc->problems, tc->line, tc->msg);
		sidecar_release(&sc);
	}
}

#define RUN_CASES(cases) run_cases(cases, sizeof cases / sizeof cases[0])

/* Language codes as OCR files write them, as BCP 47 tags, and their names for track labels. */
static void test_language_tags(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "eng", "en" },     { "fre", "fr" },    { "fra", "fr" },       { "deu", "de" },
		{ "ger", "de" },     { "deu_frak", "de" }, { "ENG", "en" },     { "en", "en" },
		{ "en-GB", "en-GB" }, { "fr-CA", "fr-CA" }, { "grc", "grc" },   { "chi_sim", "zh" },
		{ "x", NULL },       { "", NULL },       { "en GB", NULL },     { "<script>", NULL },
		{ "toolonglanguage", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = pres_language_tag(cases[i].in, strlen(cases[i].in));
		if (cases[i].want)
			CHECK(got && strcmp(got, cases[i].want) == 0, "%s -> %s, want %s", cases[i].in,
			      got ? got : "NULL", cases[i].want);
		else
			CHECK(!got, "%s -> %s, want NULL", cases[i].in, got);
		g_free(got);
	}
	CHECK_STR(pres_language_name("fr-CA"), "Fran\xc3\xa7" "ais", "name of fr-CA");
	CHECK_STR(pres_language_name("EN"), "English", "name of EN");
	CHECK(pres_language_name("grc") == NULL, "unknown language: no name");
	CHECK(pres_language_name(NULL) == NULL, "no language");
}

static void test_language_maps(void)
{
	static const struct sc_case cases[] = {
		{ "string", "label: Book of hours\n",
		  "{'props':{'label':{'none':['Book of hours']}}}", NO_PROBLEMS },
		{ "number as text", "label: 1450\n", "{'props':{'label':{'none':['1450']}}}",
		  NO_PROBLEMS },
		{ "boolean as text", "label: true\n", "{'props':{'label':{'none':['true']}}}",
		  NO_PROBLEMS },
		{ "quoted", "label: \"  spaced: yes \"\n",
		  "{'props':{'label':{'none':['  spaced: yes ']}}}", NO_PROBLEMS },
		{ "languages", "summary: {en: A prayer book, fr: Un livre de prières}\n",
		  "{'props':{'summary':{'en':['A prayer book'],'fr':['Un livre de prières']}}}",
		  NO_PROBLEMS },
		{ "lists and none", "label:\n  en: [One, Two]\n  none: Three\n",
		  "{'props':{'label':{'en':['One','Two'],'none':['Three']}}}", NO_PROBLEMS },
		{ "list of strings", "label: [a, b]\n", "{'props':{'label':{'none':['a','b']}}}",
		  NO_PROBLEMS },
		{ "bcp47 tags", "label: {de-CH: Grüezi, zh-Hant-TW: x, ar-latn: y}\n",
		  "{'props':{'label':{'de-CH':['Grüezi'],'zh-Hant-TW':['x'],'ar-latn':['y']}}}",
		  NO_PROBLEMS },
		{ "repeated language", "label:\n  en: a\n  en: b\n",
		  "{'props':{'label':{'en':['a']}}}", 1, 3, "language 'en' is given twice" },
		{ "bad language code", "label: {en_GB: x}\n", "{}", 1, 1,
		  "'en_GB' is not a language code" },
		{ "one-letter language", "label: {e: x, x-klingon: y, i-default: z}\n",
		  "{'props':{'label':{'x-klingon':['y'],'i-default':['z']}}}", 1, 1,
		  "'e' is not a language code" },
		{ "long subtag", "label: {en-abcdefghi: x}\n", "{}", 1, 1, "not a language code" },
		{ "bad code keeps others", "label:\n  en: [ok]\n  12: bad\n",
		  "{'props':{'label':{'en':['ok']}}}", 1, 3, "'12' is not a language code" },
		{ "null", "label:\nsummary: s\n", "{'props':{'summary':{'none':['s']}}}", 1, 1,
		  "label: no value" },
		{ "nested mapping", "label: {en: {x: y}}\n", "{}", 1, 1,
		  "label en: expected text, found a mapping" },
		{ "empty mapping", "label: {}\n", "{}", 1, 1, "no languages" },
		{ "empty list", "label: []\n", "{}", 1, 1, "empty list" },
		{ "list with a mapping", "label:\n  - a\n  - {b: c}\n",
		  "{'props':{'label':{'none':['a']}}}", 1, 3, "expected text, found a mapping" },
	};
	RUN_CASES(cases);
}

static void test_language_map_fn(void)
{
	json_t *got = sidecar_language_map("Jean Miélot"),
	       *want = load_json("{'none':['Jean Miélot']}");
	CHECK(json_equal(got, want), "sidecar_language_map gives {none: [text]}");
	json_decref(got);
	json_decref(want);
}

static void test_metadata(void)
{
	static const struct sc_case cases[] = {
		{ "list",
		  "metadata:\n  - label: Date\n    value: about 1450\n  - label: {en: Scribe, fr: "
		  "Copiste}\n    value: Jean Miélot\n",
		  "{'props':{'metadata':[{'label':{'none':['Date']},'value':{'none':['about "
		  "1450']}},"
		  "{'label':{'en':['Scribe'],'fr':['Copiste']},'value':{'none':['Jean "
		  "Miélot']}}]}}",
		  NO_PROBLEMS },
		{ "number and list values",
		  "metadata:\n  - {label: Pages, value: 240}\n  - {label: Size, value: [12.5, "
		  "cm]}\n",
		  "{'props':{'metadata':[{'label':{'none':['Pages']},'value':{'none':['240']}},"
		  "{'label':{'none':['Size']},'value':{'none':['12.5','cm']}}]}}",
		  NO_PROBLEMS },
		{ "value in languages",
		  "metadata:\n  - label: Title\n    value: {en: [Hours, Prayers], de: "
		  "Stundenbuch}\n",
		  "{'props':{'metadata':[{'label':{'none':['Title']},'value':{'en':['Hours','"
		  "Prayers'],'de':['Stundenbuch']}}]}}",
		  NO_PROBLEMS },
		{ "short mapping form", "metadata: {Date: about 1450, Pages: 240}\n",
		  "{'props':{'metadata':[{'label':{'none':['Date']},'value':{'none':['about "
		  "1450']}},"
		  "{'label':{'none':['Pages']},'value':{'none':['240']}}]}}",
		  NO_PROBLEMS },
		{ "missing value",
		  "metadata:\n  - label: Date\n    value: 1450\n  - label: Scribe\n",
		  "{'props':{'metadata':[{'label':{'none':['Date']},'value':{'none':['1450']}}]}}",
		  1, 4, "metadata item 2: 'value' is missing" },
		{ "missing label", "metadata:\n  - value: 1450\n", "{}", 1, 2,
		  "'label' is missing" },
		{ "text instead of list", "metadata: a date\n", "{}", 1, 1,
		  "metadata: expected a list of {label, value}, found 'a date'" },
		{ "item not a mapping", "metadata:\n  - Date\n", "{}", 1, 2,
		  "metadata item 1: expected a mapping with label and value" },
		{ "unknown key in item", "metadata:\n  - {label: a, value: b, lang: en}\n",
		  "{'props':{'metadata':[{'label':{'none':['a']},'value':{'none':['b']}}]}}", 1, 2,
		  "metadata item 1: unknown key 'lang' (known: label, value)" },
		{ "bad value language", "metadata:\n  - label: a\n    value: {english!: b}\n", "{}",
		  1, 3, "metadata item 1 value" },
	};
	RUN_CASES(cases);
}

static void test_required_statement(void)
{
	static const struct sc_case cases[] = {
		{ "valid",
		  "requiredStatement:\n  label: Attribution\n  value: Provided by the Example "
		  "Library\n",
		  "{'props':{'requiredStatement':{'label':{'none':['Attribution']},'value':{'none':"
		  "['Provided by the Example Library']}}}}",
		  NO_PROBLEMS },
		{ "languages",
		  "requiredStatement: {label: {en: Attribution}, value: {en: Example, fr: "
		  "Exemple}}\n",
		  "{'props':{'requiredStatement':{'label':{'en':['Attribution']},'value':{'en':['"
		  "Example'],'fr':['Exemple']}}}}",
		  NO_PROBLEMS },
		{ "text", "requiredStatement: Provided by us\n", "{}", 1, 1,
		  "requiredStatement: expected a mapping with label and value" },
		{ "missing label", "label: x\nrequiredStatement:\n  value: v\n",
		  "{'props':{'label':{'none':['x']}}}", 1, 3, "'label' is missing" },
	};
	RUN_CASES(cases);
}

static void test_rights(void)
{
	static const struct sc_case cases[] = {
		{ "cc license", "rights: http://creativecommons.org/licenses/by/4.0/\n",
		  "{'props':{'rights':'http://creativecommons.org/licenses/by/4.0/'}}",
		  NO_PROBLEMS },
		{ "cc public domain", "rights: http://creativecommons.org/publicdomain/zero/1.0/\n",
		  "{'props':{'rights':'http://creativecommons.org/publicdomain/zero/1.0/'}}",
		  NO_PROBLEMS },
		{ "rightsstatements", "rights: http://rightsstatements.org/vocab/InC/1.0/\n",
		  "{'props':{'rights':'http://rightsstatements.org/vocab/InC/1.0/'}}",
		  NO_PROBLEMS },
		{ "https is rewritten", "rights: https://creativecommons.org/licenses/by/4.0/\n",
		  "{'props':{'rights':'http://creativecommons.org/licenses/by/4.0/'}}", 1, 1,
		  "is written 'http://creativecommons.org/licenses/by/4.0/'" },
		{ "deed page", "rights: https://creativecommons.org/licenses/by-sa/4.0/deed.fr\n",
		  "{'props':{'rights':'http://creativecommons.org/licenses/by-sa/4.0/'}}", 1, 1,
		  "served that way" },
		{ "unknown cc path", "rights: http://creativecommons.org/about/\n", "{}", 1, 1,
		  "is not a Creative Commons" },
		{ "free text", "rights: All rights reserved\n", "{}", 1, 1,
		  "'All rights reserved' is not a Creative Commons or RightsStatements.org URI" },
		{ "other site", "rights: http://example.org/licence\n", "{}", 1, 1,
		  "is not a Creative Commons" },
		{ "bare prefix", "rights: http://creativecommons.org/licenses/\n", "{}", 1, 1,
		  "is not a Creative Commons" },
		{ "list", "rights: [http://creativecommons.org/licenses/by/4.0/]\n", "{}", 1, 1,
		  "rights: expected text, found a list" },
		{ "reported on its line",
		  "# a comment\nlabel: Book\nsummary: Prayers\n\nmetadata:\n  - {label: a, value: "
		  "b}\nrights: CC-BY\nnavDate: 1450\n",
		  "{'props':{'label':{'none':['Book']},'summary':{'none':['Prayers']},"
		  "'metadata':[{'label':{'none':['a']},'value':{'none':['b']}}],'navDate':'1450-01-"
		  "01T00:00:00Z'}}",
		  1, 7, "rights: 'CC-BY'" },
	};
	RUN_CASES(cases);
}

static void test_provider(void)
{
	static const struct sc_case cases[] = {
		{ "documented form",
		  "provider:\n  - label: Example Library\n    homepage: "
		  "https://library.example.org/\n    logo: https://library.example.org/logo.png\n",
		  "{'props':{'provider':[{'id':'https://library.example.org/"
		  "#provider','type':'Agent',"
		  "'label':{'none':['Example Library']},"
		  "'homepage':[{'id':'https://library.example.org/"
		  "','type':'Text','label':{'none':['Example Library']},'format':'text/html'}],"
		  "'logo':[{'id':'https://library.example.org/"
		  "logo.png','type':'Image','format':'image/png'}]}]}}",
		  NO_PROBLEMS },
		{ "one mapping, explicit id, full links",
		  "provider:\n  id: https://example.org/about\n  label: {en: Example "
		  "Organization}\n"
		  "  homepage: {id: 'https://example.org/', label: {en: Example Organization "
		  "Homepage}, language: en}\n"
		  "  logo: {id: https://example.org/images/logo.png, width: 120, height: 100}\n"
		  "  seeAlso: {id: https://data.example.org/about/us.jsonld, profile: "
		  "https://schema.org/}\n",
		  "{'props':{'provider':[{'id':'https://example.org/"
		  "about','type':'Agent','label':{'en':['Example Organization']},"
		  "'homepage':[{'id':'https://example.org/','type':'Text','label':{'en':['Example "
		  "Organization Homepage']},'format':'text/html','language':['en']}],"
		  "'logo':[{'id':'https://example.org/images/"
		  "logo.png','type':'Image','format':'image/png','width':120,'height':100}],"
		  "'seeAlso':[{'id':'https://data.example.org/about/"
		  "us.jsonld','type':'Dataset','format':'application/ld+json','profile':'https://"
		  "schema.org/'}]}]}}",
		  NO_PROBLEMS },
		{ "homepage fragment replaced",
		  "provider: [{label: L, homepage: 'https://x.org/p#top'}]\n",
		  "{'props':{'provider':[{'id':'https://x.org/"
		  "p#provider','type':'Agent','label':{'none':['L']},"
		  "'homepage':[{'id':'https://x.org/"
		  "p#top','type':'Text','label':{'none':['L']},'format':'text/html'}]}]}}",
		  NO_PROBLEMS },
		{ "svg logo, no homepage but id",
		  "provider: [{id: https://x.org/me, label: L, logo: https://x.org/l.SVG}]\n",
		  "{'props':{'provider':[{'id':'https://x.org/"
		  "me','type':'Agent','label':{'none':['L']},"
		  "'logo':[{'id':'https://x.org/l.SVG','type':'Image','format':'image/"
		  "svg+xml'}]}]}}",
		  NO_PROBLEMS },
		{ "no id and no homepage", "provider:\n  - label: Anonymous\n", "{}", 1, 2,
		  "provider item 1: needs an id or a homepage" },
		{ "missing label", "provider:\n  - homepage: https://x.org/\n", "{}", 1, 2,
		  "'label' is missing" },
		{ "text", "provider: Example Library\n", "{}", 1, 1,
		  "expected a mapping with label and homepage" },
		{ "logo type",
		  "provider:\n  - id: https://x.org/\n    label: L\n    logo: {id: "
		  "https://x.org/l.png, type: Video}\n",
		  "{'props':{'provider':[{'id':'https://x.org/"
		  "','type':'Agent','label':{'none':['L']},"
		  "'logo':[{'id':'https://x.org/l.png','type':'Image','format':'image/png'}]}]}}",
		  1, 4, "type 'Video' is not Image" },
		{ "bad width",
		  "provider:\n  - id: https://x.org/\n    label: L\n    logo: {id: "
		  "https://x.org/l.png, width: -3}\n",
		  "{'props':{'provider':[{'id':'https://x.org/"
		  "','type':'Agent','label':{'none':['L']},"
		  "'logo':[{'id':'https://x.org/l.png','type':'Image','format':'image/png'}]}]}}",
		  1, 4, "width must be a positive integer" },
	};
	RUN_CASES(cases);
}

static void test_homepage(void)
{
	static const struct sc_case cases[] = {
		{ "url", "homepage: https://library.example.org/items/42\n",
		  "{'props':{'homepage':[{'id':'https://library.example.org/items/"
		  "42','type':'Text',"
		  "'label':{'none':['https://library.example.org/items/42']},'format':'text/"
		  "html'}]}}",
		  NO_PROBLEMS },
		{ "mapping",
		  "homepage: {id: https://x.org/42, label: {en: Catalogue}, format: "
		  "application/xhtml+xml}\n",
		  "{'props':{'homepage':[{'id':'https://x.org/"
		  "42','type':'Text','label':{'en':['Catalogue']},'format':'application/"
		  "xhtml+xml'}]}}",
		  NO_PROBLEMS },
		{ "list", "homepage: [http://a.org/, {id: http://b.org/, label: B}]\n",
		  "{'props':{'homepage':[{'id':'http://a.org/"
		  "','type':'Text','label':{'none':['http://a.org/']},'format':'text/html'},"
		  "{'id':'http://b.org/','type':'Text','label':{'none':['B']},'format':'text/"
		  "html'}]}}",
		  NO_PROBLEMS },
		{ "not http", "homepage: www.example.org\n", "{}", 1, 1,
		  "homepage: 'www.example.org' is not an http(s) URL" },
		{ "ftp", "homepage: ftp://example.org/\n", "{}", 1, 1, "is not an http(s) URL" },
		{ "space", "homepage: http://example.org/a b\n", "{}", 1, 1,
		  "is not an http(s) URL" },
		{ "missing id", "homepage:\n  label: Home\n", "{}", 1, 2,
		  "'id' (the URL) is missing" },
		{ "unknown key", "homepage: {id: https://x.org/, title: Home}\n",
		  "{'props':{'homepage':[{'id':'https://x.org/"
		  "','type':'Text','label':{'none':['https://x.org/']},'format':'text/html'}]}}",
		  1, 1, "unknown key 'title'" },
		{ "no valid language", "homepage: {id: https://x.org/, language: 'e n'}\n",
		  "{'props':{'homepage':[{'id':'https://x.org/"
		  "','type':'Text','label':{'none':['https://x.org/']},'format':'text/html'}]}}",
		  1, 1, "'e n' is not a language code" },
		{ "bad language", "homepage: {id: https://x.org/, language: [en, 'e n']}\n",
		  "{'props':{'homepage':[{'id':'https://x.org/"
		  "','type':'Text','label':{'none':['https://x.org/']},'format':'text/"
		  "html','language':['en']}]}}",
		  1, 1, "'e n' is not a language code" },
	};
	RUN_CASES(cases);
}

static void test_see_also_rendering(void)
{
	static const struct sc_case cases[] = {
		{ "documented seeAlso",
		  "seeAlso: [{id: https://library.example.org/items/42.xml, format: text/xml, "
		  "profile: https://www.loc.gov/mods}]\n",
		  "{'props':{'seeAlso':[{'id':'https://library.example.org/items/"
		  "42.xml','type':'Dataset','format':'text/xml','profile':'https://www.loc.gov/"
		  "mods'}]}}",
		  NO_PROBLEMS },
		{ "seeAlso url guesses format", "seeAlso: https://x.org/42.json?v=2\n",
		  "{'props':{'seeAlso':[{'id':'https://x.org/"
		  "42.json?v=2','type':'Dataset','format':'application/json'}]}}",
		  NO_PROBLEMS },
		{ "seeAlso without extension", "seeAlso: https://x.org/record/42\n",
		  "{'props':{'seeAlso':[{'id':'https://x.org/record/42','type':'Text'}]}}",
		  NO_PROBLEMS },
		{ "seeAlso image",
		  "seeAlso: {id: https://x.org/a, format: image/jpeg, label: Scan}\n",
		  "{'props':{'seeAlso':[{'id':'https://x.org/a','type':'Image','format':'image/"
		  "jpeg','label':{'none':['Scan']}}]}}",
		  NO_PROBLEMS },
		{ "seeAlso explicit type", "seeAlso: {id: https://x.org/a.html, type: Dataset}\n",
		  "{'props':{'seeAlso':[{'id':'https://x.org/"
		  "a.html','type':'Dataset','format':'text/html'}]}}",
		  NO_PROBLEMS },
		{ "seeAlso bad type", "seeAlso: {id: https://x.org/a.txt, type: Book}\n",
		  "{'props':{'seeAlso':[{'id':'https://x.org/a.txt','type':'Text','format':'text/"
		  "plain'}]}}",
		  1, 1, "type 'Book' is not one of" },
		{ "documented rendering",
		  "rendering: [{id: https://library.example.org/items/42.pdf, label: PDF, format: "
		  "application/pdf}]\n",
		  "{'props':{'rendering':[{'id':'https://library.example.org/items/"
		  "42.pdf','type':'Text','label':{'none':['PDF']},'format':'application/pdf'}]}}",
		  NO_PROBLEMS },
		{ "rendering label from file name", "rendering: https://x.org/files/42.pdf\n",
		  "{'props':{'rendering':[{'id':'https://x.org/files/"
		  "42.pdf','type':'Text','format':'application/"
		  "pdf','label':{'none':['42.pdf']}}]}}",
		  NO_PROBLEMS },
		{ "rendering video",
		  "rendering:\n  - https://x.org/film.mp4#t=1\n  - http://x.org/audio.MP3\n",
		  "{'props':{'rendering':[{'id':'https://x.org/"
		  "film.mp4#t=1','type':'Video','format':'video/"
		  "mp4','label':{'none':['film.mp4']}},"
		  "{'id':'http://x.org/audio.MP3','type':'Sound','format':'audio/"
		  "mpeg','label':{'none':['audio.MP3']}}]}}",
		  NO_PROBLEMS },
		{ "rendering of a folder url", "rendering: https://x.org/book/\n",
		  "{'props':{'rendering':[{'id':'https://x.org/book/"
		  "','type':'Text','label':{'none':['https://x.org/book/']}}]}}",
		  NO_PROBLEMS },
		{ "one bad item of two", "rendering:\n  - https://x.org/a.pdf\n  - not a url\n",
		  "{'props':{'rendering':[{'id':'https://x.org/"
		  "a.pdf','type':'Text','format':'application/pdf','label':{'none':['a.pdf']}}]}}",
		  1, 3, "rendering item 2: 'not a url' is not an http(s) URL" },
		{ "number", "seeAlso: 42\n", "{}", 1, 1, "'42' is not an http(s) URL" },
	};
	RUN_CASES(cases);
}

static void test_nav_date(void)
{
	static const struct {
		const char *in, *out; /* out NULL: a problem */
	} cases[] = {
		{ "1450", "1450-01-01T00:00:00Z" },
		{ "1450-06", "1450-06-01T00:00:00Z" },
		{ "1450-01-01", "1450-01-01T00:00:00Z" },
		{ "'1450-01-01'", "1450-01-01T00:00:00Z" },
		{ "2010-01-01T00:00:00Z", "2010-01-01T00:00:00Z" },
		{ "2010-01-01T01:30:00+01:00", "2010-01-01T00:30:00Z" },
		{ "2010-01-01T00:30:00+01:00", "2009-12-31T23:30:00Z" },
		{ "2010-12-31T22:00:00-05:00", "2011-01-01T03:00:00Z" },
		{ "2001-12-14t21:59:43.10-05:00", "2001-12-15T02:59:43Z" },
		{ "2001-12-14 21:59:43.10 -5", "2001-12-15T02:59:43Z" },
		{ "2010-01-01T12:00:00", "2010-01-01T12:00:00Z" },
		{ "2010-01-01T12:00+0200", "2010-01-01T10:00:00Z" },
		{ "2000-02-29", "2000-02-29T00:00:00Z" },
		{ "0001-01-01", "0001-01-01T00:00:00Z" },
		{ "1900-02-29", NULL },
		{ "2010-13-01", NULL },
		{ "2010-01-32", NULL },
		{ "2010-00-10", NULL },
		{ "about 1450", NULL },
		{ "1450-1-1", NULL },
		{ "14500", NULL },
		{ "0000", NULL },
		{ "2010-01-01T25:00:00Z", NULL },
		{ "2010-01-01T10:60:00Z", NULL },
		{ "2010-01-01T10:00:00+15:00", NULL },
		{ "2010-01-01Z", NULL },
		{ "2010-01T10:00:00Z", NULL },
		{ "2010-01-01T10:00:00.Z", NULL },
		{ "0001-01-01T00:30:00+01:00", NULL },
		{ "[1450]", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char yaml[128], want[128];
		struct sc_case tc = { cases[i].in, yaml, want, cases[i].out ? 0 : 1, 2, "navDate" };
		snprintf(yaml, sizeof yaml, "label: x\nnavDate: %s\n", cases[i].in);
		if (cases[i].out)
			snprintf(want, sizeof want,
				 "{'props':{'label':{'none':['x']},'navDate':'%s'}}", cases[i].out);
		else
			snprintf(want, sizeof want, "{'props':{'label':{'none':['x']}}}");
		run_cases(&tc, 1);
	}
}

#define NAV(geometry)                                                                              \
	"{'props':{'navPlace':{'type':'FeatureCollection','features':[" geometry "]}}}"
#define FEATURE(geometry) "{'type':'Feature','properties':{},'geometry':" geometry "}"

static void test_nav_place(void)
{
	static const struct sc_case cases[] = {
		{ "point", "navPlace: {type: Point, coordinates: [4.35, 50.85]}\n",
		  NAV(FEATURE("{'type':'Point','coordinates':[4.35,50.85]}")), NO_PROBLEMS },
		{ "integers stay integers", "navPlace: {type: Point, coordinates: [4, -50, 12]}\n",
		  NAV(FEATURE("{'type':'Point','coordinates':[4,-50,12]}")), NO_PROBLEMS },
		{ "feature with properties",
		  "navPlace:\n  type: Feature\n  properties: {label: {en: [Brussels]}, rank: 1, "
		  "capital: true, note: ~}\n"
		  "  geometry: {type: Point, coordinates: [4.35, 50.85]}\n",
		  NAV("{'type':'Feature','properties':{'label':{'en':['Brussels']},'rank':1,'"
		      "capital':true,'note':null},"
		      "'geometry':{'type':'Point','coordinates':[4.35,50.85]}}"),
		  NO_PROBLEMS },
		{ "list of geometries",
		  "navPlace:\n  - {type: Point, coordinates: [1, 2]}\n  - {type: LineString, "
		  "coordinates: [[1, 2], [3, 4]]}\n",
		  NAV(FEATURE("{'type':'Point','coordinates':[1,2]}") "," FEATURE(
			  "{'type':'LineString','coordinates':[[1,2],[3,4]]}")),
		  NO_PROBLEMS },
		{ "feature collection",
		  "navPlace:\n  type: FeatureCollection\n  id: https://x.org/fc\n  features:\n"
		  "    - {type: Feature, geometry: {type: MultiPoint, coordinates: [[1, 2]]}}\n",
		  NAV(FEATURE("{'type':'MultiPoint','coordinates':[[1,2]]}")), NO_PROBLEMS },
		{ "polygon",
		  "navPlace: {type: Polygon, coordinates: [[[0, 0], [10, 0], [10, 10], [0, "
		  "0.0]]]}\n",
		  NAV(FEATURE("{'type':'Polygon','coordinates':[[[0,0],[10,0],[10,10],[0,0.0]]]}")),
		  NO_PROBLEMS },
		{ "multipolygon and multilinestring",
		  "navPlace:\n  - {type: MultiPolygon, coordinates: [[[[0, 0], [1, 0], [1, 1], [0, "
		  "0]]]]}\n"
		  "  - {type: MultiLineString, coordinates: [[[0, 0], [1, 1]]]}\n",
		  NAV(FEATURE("{'type':'MultiPolygon','coordinates':[[[[0,0],[1,0],[1,1],[0,0]]"
			      "]]}") "," FEATURE("{'type':'MultiLineString','coordinates':[[[0,0],["
						 "1,1]]]}")),
		  NO_PROBLEMS },
		{ "geometry collection",
		  "navPlace: {type: GeometryCollection, geometries: [{type: Point, coordinates: "
		  "[1, 2]}]}\n",
		  NAV(FEATURE("{'type':'GeometryCollection','geometries':[{'type':'Point','"
			      "coordinates':[1,2]}]}")),
		  NO_PROBLEMS },
		{ "ring not closed",
		  "navPlace: {type: Polygon, coordinates: [[[0, 0], [10, 0], [10, 10], [0, 1]]]}\n",
		  "{}", 1, 1, "must end where it starts" },
		{ "ring too short",
		  "navPlace:\n  type: Polygon\n  coordinates:\n    - [[0, 0], [1, 1], [0, 0]]\n",
		  "{}", 1, 4, "needs at least 4 positions" },
		{ "line too short", "navPlace: {type: LineString, coordinates: [[0, 0]]}\n", "{}",
		  1, 1, "needs at least 2 positions" },
		{ "longitude out of range", "navPlace:\n  type: Point\n  coordinates: [200, 50]\n",
		  "{}", 1, 3, "longitude 200 is outside -180..180" },
		{ "latitude out of range", "navPlace: {type: Point, coordinates: [4, -91]}\n", "{}",
		  1, 1, "latitude -91 is outside -90..90" },
		{ "text coordinate", "navPlace: {type: Point, coordinates: [east, 50]}\n", "{}", 1,
		  1, "expected a number, found 'east'" },
		{ "quoted coordinate", "navPlace: {type: Point, coordinates: ['4', 50]}\n", "{}", 1,
		  1, "expected a number" },
		{ "one number", "navPlace: {type: Point, coordinates: [4]}\n", "{}", 1, 1,
		  "a position has 2 or 3 numbers, not 1" },
		{ "unknown type", "navPlace: {type: Circle, coordinates: [4, 5]}\n", "{}", 1, 1,
		  "type 'Circle' is not a GeoJSON geometry" },
		{ "missing coordinates", "navPlace: {type: Point}\n", "{}", 1, 1,
		  "'coordinates' is missing" },
		{ "feature without geometry", "navPlace: {type: Feature, properties: {}}\n", "{}",
		  1, 1, "the Feature has no geometry" },
		{ "one bad of two",
		  "navPlace:\n  - {type: Point, coordinates: [1, 2]}\n  - {type: Point, "
		  "coordinates: [1, 200]}\n",
		  NAV(FEATURE("{'type':'Point','coordinates':[1,2]}")), 1, 3,
		  "navPlace item 2: latitude 200 is outside" },
		{ "text", "navPlace: Brussels\n", "{}", 1, 1,
		  "expected a GeoJSON geometry or Feature" },
		{ "unknown key", "navPlace: {type: Point, coordinates: [1, 2], crs: x}\n",
		  NAV(FEATURE("{'type':'Point','coordinates':[1,2]}")), 1, 1, "unknown key 'crs'" },
	};
	RUN_CASES(cases);
}

static void test_behavior_viewing_direction(void)
{
	static const struct sc_case cases[] = {
		{ "one", "behavior: paged\n", "{'props':{'behavior':['paged']}}", NO_PROBLEMS },
		{ "list", "behavior: [paged, auto-advance, repeat]\n",
		  "{'props':{'behavior':['paged','auto-advance','repeat']}}", NO_PROBLEMS },
		{ "repeated", "behavior: [paged, paged]\n", "{'props':{'behavior':['paged']}}",
		  NO_PROBLEMS },
		{ "disjoint", "behavior:\n  - paged\n  - continuous\n",
		  "{'props':{'behavior':['paged']}}", 1, 3,
		  "'continuous' cannot be combined with 'paged'" },
		{ "unknown", "behavior: [pages, paged]\n", "{'props':{'behavior':['paged']}}", 1, 1,
		  "'pages' is not a behavior (known: auto-advance" },
		{ "mapping", "behavior: {paged: true}\n", "{}", 1, 1,
		  "expected text, found a mapping" },
		{ "range only", "behavior: [paged, sequence]\n", "{'props':{'behavior':['paged']}}", 1,
		  1, "'sequence' is not valid here: only on Ranges" },
		{ "annotations only", "behavior: hidden\n", "{}", 1, 1,
		  "'hidden' is not valid here: only on annotations" },
		{ "canvas entry", "canvases:\n  a.jpg: {behavior: [facing-pages, paged]}\n",
		  "{'canvases':{'a.jpg':{'behavior':['facing-pages']}}}", 1, 2,
		  "'paged' is not valid here: only on Collections, Manifests and Ranges" },
		{ "direction", "viewingDirection: right-to-left\n",
		  "{'props':{'viewingDirection':'right-to-left'}}", NO_PROBLEMS },
		{ "bad direction", "viewingDirection: rtl\n", "{}", 1, 1,
		  "'rtl' is not one of left-to-right" },
		{ "direction list", "viewingDirection: [left-to-right]\n", "{}", 1, 1,
		  "expected text" },
	};
	RUN_CASES(cases);
}

/* HTML in values reaches viewers only as Presentation 3 §4.5 allows it. */
static void test_html_values(void)
{
	static const struct sc_case cases[] = {
		{ "clean html kept", "summary: \"<p>Its <b>bold</b> &amp; <i>fine</i><br/></p>\"\n",
		  "{'props':{'summary':{'none':['<p>Its <b>bold</b> &amp; <i>fine</i><br></p>']}}}",
		  NO_PROBLEMS },
		{ "script dropped", "summary: '<p>a<script>alert(1)</script></p>'\n",
		  "{'props':{'summary':{'none':['<p>a</p>']}}}", 1, 1, "HTML reduced" },
		{ "handler and javascript link dropped",
		  "metadata: [{label: L, value: '<a href=\"javascript:x()\" onclick=\"x()\">t</a>'}]\n",
		  "{'props':{'metadata':[{'label':{'none':['L']},'value':{'none':['<a>t</a>']}}]}}", 1,
		  1, "HTML reduced" },
		{ "plain text untouched", "summary: 1 < 2 and <b>x\n",
		  "{'props':{'summary':{'none':['1 < 2 and <b>x']}}}", NO_PROBLEMS },
		{ "no html in a label", "label: '<p>A &amp; <b>B</b><script>x()</script></p>'\n",
		  "{'props':{'label':{'none':['A & B']}}}", 1, 1, "a label cannot hold HTML" },
		{ "metadata label is text, value may be html",
		  "metadata: [{label: '<b>Date</b>', value: '<p><i>1450</i></p>'}]\n",
		  "{'props':{'metadata':[{'label':{'none':['Date']},"
		  "'value':{'none':['<p><i>1450</i></p>']}}]}}", 1, 1, "a label cannot hold HTML" },
	};
	RUN_CASES(cases);
}

/* collection.yml and manifest.yml describe one kind of resource each. */
static void test_behavior_by_resource(void)
{
	static const struct {
		const char *file, *text, *msg;
	} cases[] = {
		{ "collection.yml", "behavior: [multi-part]\n", NULL },
		{ "collection.yml", "behavior: [facing-pages]\n", "only on Canvases" },
		{ "manifest.yml", "behavior: [paged, repeat]\n", NULL },
		{ "manifest.yml", "behavior: [together]\n", "only on Collections" },
		{ "manifest.yml", "behavior: [non-paged]\n", "only on Canvases" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[600];
		snprintf(path, sizeof path, "%s/%s", tmpdir, cases[i].file);
		FILE *f = fopen(path, "wb");
		CHECK(f != NULL, "write %s", path);
		if (!f)
			continue;
		fputs(cases[i].text, f);
		fclose(f);
		struct sidecar sc;
		struct sidecar_problems pr;
		sidecar_load(path, &sc, &pr);
		if (cases[i].msg)
			CHECK(pr.count == 1 && strstr(pr.items[0].msg, cases[i].msg), "%s %s: %s",
			      cases[i].file, cases[i].text, pr.count ? pr.items[0].msg : "no problem");
		else
			CHECK(pr.count == 0, "%s %s: %s", cases[i].file, cases[i].text,
			      pr.count ? pr.items[0].msg : "");
		sidecar_release(&sc);
		unlink(path);
	}
}

static void test_canvases(void)
{
	static const struct sc_case cases[] = {
		{ "documented", "canvases:\n  page1.jpg: {label: Front cover}\n",
		  "{'canvases':{'page1.jpg':{'label':{'none':['Front cover']}}}}", NO_PROBLEMS },
		{ "many properties",
		  "canvases:\n  p 2.tif:\n    label: {en: Back}\n    summary: s\n    metadata: "
		  "{Folio: 2v}\n"
		  "    requiredStatement: {label: a, value: b}\n    rights: "
		  "http://rightsstatements.org/vocab/NoC-US/1.0/\n"
		  "    navDate: 1451\n    behavior: facing-pages\n    navPlace: {type: Point, "
		  "coordinates: [1, 2]}\n"
		  "    homepage: https://x.org/p2\n",
		  "{'canvases':{'p 2.tif':{'label':{'en':['Back']},'summary':{'none':['s']},"
		  "'metadata':[{'label':{'none':['Folio']},'value':{'none':['2v']}}],"
		  "'requiredStatement':{'label':{'none':['a']},'value':{'none':['b']}},"
		  "'rights':'http://rightsstatements.org/vocab/NoC-US/1.0/"
		  "','navDate':'1451-01-01T00:00:00Z',"
		  "'behavior':['facing-pages'],"
		  "'navPlace':{'type':'FeatureCollection','features':[" FEATURE(
			  "{'type':'Point','coordinates':[1,2]}") "]},"
								  "'homepage':[{'id':'https://"
								  "x.org/"
								  "p2','type':'Text','label':{'"
								  "none':['https://x.org/"
								  "p2']},'format':'text/html'}]}}}",
		  NO_PROBLEMS },
		{ "not a canvas property",
		  "canvases:\n  a.jpg: {label: A, viewingDirection: left-to-right}\n",
		  "{'canvases':{'a.jpg':{'label':{'none':['A']}}}}", 1, 2,
		  "canvas a.jpg: unknown key 'viewingDirection' (known: label, summary" },
		{ "bad rights on its line",
		  "canvases:\n  a.jpg:\n    label: A\n  b.jpg:\n    label: B\n    rights: CC0\n",
		  "{'canvases':{'a.jpg':{'label':{'none':['A']}},'b.jpg':{'label':{'none':['B']}}}"
		  "}",
		  1, 6, "canvas b.jpg rights: 'CC0'" },
		{ "path", "canvases:\n  ../secret.jpg: {label: x}\n  a.jpg: {label: A}\n",
		  "{'canvases':{'a.jpg':{'label':{'none':['A']}}}}", 1, 2,
		  "'../secret.jpg' is not a file name" },
		{ "list", "canvases: [a.jpg]\n", "{}", 1, 1,
		  "canvases: expected a mapping of file names" },
		{ "text value", "canvases:\n  a.jpg: Front\n", "{}", 1, 2,
		  "canvas a.jpg: expected a mapping of Canvas properties, found 'Front'" },
		{ "twice", "canvases:\n  a.jpg: {label: A}\n  a.jpg: {label: B}\n",
		  "{'canvases':{'a.jpg':{'label':{'none':['A']}}}}", 1, 3,
		  "'a.jpg' is given twice" },
		{ "nothing valid", "canvases:\n  a.jpg: {rights: x}\n", "{}", 1, 2,
		  "canvas a.jpg rights" },
	};
	RUN_CASES(cases);
}

static void test_toc(void)
{
	static const struct sc_case cases[] = {
		{ "documented",
		  "toc:\n  - label: Calendar\n    canvases: [page1.jpg, page2.jpg]\n  - label: "
		  "Hours of the Virgin\n"
		  "    items:\n      - label: Matins\n        canvases: [page3.jpg]\n",
		  "{'toc':[{'label':{'none':['Calendar']},'canvases':['page1.jpg','page2.jpg']},"
		  "{'label':{'none':['Hours of the "
		  "Virgin']},'items':[{'label':{'none':['Matins']},'canvases':['page3.jpg']}]}]}",
		  NO_PROBLEMS },
		{ "one file as text and both lists",
		  "toc:\n  - {label: {en: Part}, canvases: a.jpg, items: [{label: b, canvases: "
		  "[b.jpg]}]}\n",
		  "{'toc':[{'label':{'en':['Part']},'canvases':['a.jpg'],'items':[{'label':{'none':"
		  "['b']},'canvases':['b.jpg']}]}]}",
		  NO_PROBLEMS },
		{ "missing label",
		  "toc:\n  - canvases: [a.jpg]\n  - {label: B, canvases: [b.jpg]}\n",
		  "{'toc':[{'label':{'none':['B']},'canvases':['b.jpg']}]}", 1, 2,
		  "toc item 1: 'label' is missing" },
		{ "empty node", "toc:\n  - label: A\n", "{}", 1, 2,
		  "toc item 1: lists no canvases and no items" },
		{ "nested problem numbered",
		  "toc:\n  - label: A\n    items:\n      - {label: A1, canvases: [a.jpg]}\n      - "
		  "{label: A2, canvases: [x/a.jpg]}\n",
		  "{'toc':[{'label':{'none':['A']},'items':[{'label':{'none':['A1']},'canvases':['"
		  "a.jpg']}]}]}",
		  1, 5, "toc item 1.2 canvases: 'x/a.jpg' is not a file name" },
		{ "not a list", "toc: {label: A}\n", "{}", 1, 1, "toc: expected a list" },
		{ "unknown key", "toc:\n  - {label: A, canvases: [a.jpg], ranges: []}\n",
		  "{'toc':[{'label':{'none':['A']},'canvases':['a.jpg']}]}", 1, 2,
		  "unknown key 'ranges' (known: label, canvases, items)" },
	};
	RUN_CASES(cases);
}

/* A toc of depth nodes with items, and one more inside the last: 16 levels are allowed. */
static void test_toc_depth(void)
{
	for (int depth = 15; depth <= 16; depth++) {
		char yaml[8192] = "toc:\n", *p = yaml + strlen(yaml);
		for (int i = 0; i < depth; i++)
			p += sprintf(p, "%*s- label: L%d\n%*s  canvases: [a.jpg]\n%*s  items:\n",
				     4 * i + 2, "", i + 1, 4 * i + 2, "", 4 * i + 2, "");
		p += sprintf(p, "%*s- {label: last, canvases: [b.jpg]}\n", 4 * depth + 2, "");
		struct sidecar sc;
		struct sidecar_problems pr;
		CHECK_INT(sidecar_load(write_fixture(yaml, strlen(yaml)), &sc, &pr), 0, "deep toc");
		int levels = 0;
		for (json_t *n = json_array_get(sc.toc, 0); n;
		     n = json_array_get(json_object_get(n, "items"), 0))
			levels++;
		CHECK_INT(levels, 16, "toc levels kept");
		CHECK_INT(pr.count, depth == 15 ? 0 : 1, "deep toc problems");
		CHECK(depth == 15 || (pr.count &&
				      strstr(pr.items[0].msg, "nested deeper than 16 levels") &&
				      pr.items[0].line == 5 + 3 * 15),
		      "depth problem on the 16th items line: %d %s",
		      pr.count ? pr.items[0].line : 0, pr.count ? pr.items[0].msg : "none");
		sidecar_release(&sc);
	}
}

static void test_chapters(void)
{
	static const struct sc_case cases[] = {
		{ "documented",
		  "chapters:\n  - {label: Introduction, start: 0, end: 42.5}\n  - {label: "
		  "Childhood, start: 42.5, end: 300}\n",
		  "{'chapters':[{'label':{'none':['Introduction']},'start':0.0,'end':42.5},"
		  "{'label':{'none':['Childhood']},'start':42.5,'end':300.0}]}",
		  NO_PROBLEMS },
		{ "sorted by start, overlap allowed",
		  "chapters:\n  - {label: B, start: 10, end: 20}\n  - {label: A, start: 0, end: "
		  "15}\n  - {label: C, start: 10, end: 12}\n",
		  "{'chapters':[{'label':{'none':['A']},'start':0.0,'end':15.0},{'label':{'none':['"
		  "B']},'start':10.0,'end':20.0},"
		  "{'label':{'none':['C']},'start':10.0,'end':12.0}]}",
		  NO_PROBLEMS },
		{ "clock times and file",
		  "chapters:\n  - {label: A, start: '1:02', end: '1:00:00.5', file: a.mp3}\n",
		  "{'chapters':[{'label':{'none':['A']},'start':62.0,'end':3600.5,'file':'a.mp3'}]"
		  "}",
		  NO_PROBLEMS },
		{ "end before start",
		  "chapters:\n  - {label: A, start: 0, end: 5}\n  - label: B\n    start: 10\n    "
		  "end: 10\n",
		  "{'chapters':[{'label':{'none':['A']},'start':0.0,'end':5.0}]}", 1, 5,
		  "chapters item 2: end 10 is not after start" },
		{ "negative start", "chapters:\n  - {label: A, start: -1, end: 5}\n", "{}", 1, 2,
		  "start -1 is negative" },
		{ "missing end", "chapters:\n  - {label: A, start: 1}\n", "{}", 1, 2,
		  "'end' is missing" },
		{ "text start", "chapters:\n  - {label: A, start: soon, end: 5}\n", "{}", 1, 2,
		  "chapters item 1 start: expected a time in seconds" },
		{ "bad clock", "chapters:\n  - {label: A, start: '1:75', end: 500}\n", "{}", 1, 2,
		  "expected a time in seconds" },
		{ "not a list", "chapters: {label: A}\n", "{}", 1, 1, "chapters: expected a list" },
		{ "unknown key", "chapters:\n  - {label: A, start: 0, end: 1, stop: 2}\n",
		  "{'chapters':[{'label':{'none':['A']},'start':0.0,'end':1.0}]}", 1, 2,
		  "unknown key 'stop'" },
	};
	RUN_CASES(cases);
}

static void test_unknown_keys(void)
{
	static const struct sc_case cases[] = {
		{ "unknown", "label: A\nlable: B\n", "{'props':{'label':{'none':['A']}}}", 1, 2,
		  "unknown key 'lable' (known: label, summary, metadata, requiredStatement, "
		  "rights, provider" },
		{ "case", "navdate: 1450\n", "{}", 1, 1,
		  "unknown key 'navdate' (did you mean 'navDate'?" },
		{ "twice", "label: A\nlabel: B\n", "{'props':{'label':{'none':['A']}}}", 1, 2,
		  "key 'label' is given twice; the first one is used" },
		{ "complex key", "? [a, b]\n: c\nlabel: A\n", "{'props':{'label':{'none':['A']}}}",
		  1, 1, "expected text as a key, found a list" },
		{ "problems in line order", "label: {en_GB: x}\nzzz: 1\n", "{}", 2, 1,
		  "'en_GB' is not a language code" },
		{ "many", "a: 1\nb: 2\nc: 3\nlabel: x\n", "{'props':{'label':{'none':['x']}}}", 3,
		  1, "unknown key 'a'" },
	};
	RUN_CASES(cases);
}

/* Files that are not a sidecar at all: -1 and one problem at the right line. */
static void test_not_sidecars(void)
{
	static const struct {
		const char *name, *text;
		int line;
		const char *msg;
	} cases[] = {
		{ "syntax error", "label: a\nsummary: b\n- item\n", 3, "not valid YAML" },
		{ "unclosed flow", "label: a\nmetadata: [a, b\n\n", 4, "not valid YAML" },
		{ "tab indent", "label:\n\ten: x\n", 2, "not valid YAML" },
		{ "list root", "- a\n- b\n", 1,
		  "expected a mapping of keys such as 'label: ...', found a list" },
		{ "text root", "\n\nhello\n", 3, "found 'hello'" },
		{ "empty", "", 1, "found nothing" },
		{ "comments only", "# nothing here\n", 1, "found nothing" },
		{ "null document", "---\n...\n", 2, "found nothing" },
		{ "invalid utf-8", "label: a\nsummary: \xff\xfe\n", 2, "not valid YAML" },
		{ "invalid utf-8, CR line ends", "label: a\rsummary: b\rx: \xff\xfe\r", 3,
		  "not valid YAML" },
		{ "invalid utf-8, CR LF line ends", "label: a\r\nsummary: \xff\xfe\r\n", 2,
		  "not valid YAML" },
		{ "syntax error, CR line ends", "label: a\rsummary: b\r- item\r", 3, "not valid YAML" },
		{ "undefined alias", "label: a\nsummary: *nope\n", 2, "not valid YAML" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sidecar sc;
		struct sidecar_problems pr;
		int rc =
			sidecar_load(write_fixture(cases[i].text, strlen(cases[i].text)), &sc, &pr);
		CHECK_INT(rc, -1, cases[i].name);
		CHECK(!sc.props && !sc.canvases && !sc.toc && !sc.chapters, "%s: nothing",
		      cases[i].name);
		check_problems(cases[i].name, &pr, 1, cases[i].line, cases[i].msg);
		sidecar_release(&sc);
	}
	struct sidecar sc;
	struct sidecar_problems pr;
	CHECK_INT(sidecar_load("/nonexistent/manifest.yml", &sc, &pr), -1, "missing file");
	check_problems("missing file", &pr, 1, 0, "cannot read the file: No such file");
	sidecar_release(&sc);
	CHECK_INT(sidecar_load(tmpdir, &sc, &pr), -1, "directory");
	check_problems("directory", &pr, 1, 0, "cannot read the file: Is a directory");
	sidecar_release(&sc);
}

static void test_more_documents(void)
{
	static const struct sc_case cases[] = {
		{ "second document ignored", "label: A\n---\nlabel: B\n",
		  "{'props':{'label':{'none':['A']}}}", 1, 2,
		  "only the first YAML document is read" },
		{ "explicit start", "---\nlabel: A\n", "{'props':{'label':{'none':['A']}}}",
		  NO_PROBLEMS },
		{ "anchors", "label: &l Book\nsummary: *l\n",
		  "{'props':{'label':{'none':['Book']},'summary':{'none':['Book']}}}",
		  NO_PROBLEMS },
		{ "bom and crlf", "\xef\xbb\xbflabel: A\r\nsummary: B\r\n",
		  "{'props':{'label':{'none':['A']},'summary':{'none':['B']}}}", NO_PROBLEMS },
		{ "nul escape", "label: \"a\\0b\"\nsummary: s\n",
		  "{'props':{'summary':{'none':['s']}}}", 1, 1, "NUL" },
	};
	RUN_CASES(cases);
}

static void test_many_problems(void)
{
	char yaml[4096], *p = yaml;
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "k%d: x\n", i);
	struct sidecar sc;
	struct sidecar_problems pr;
	CHECK_INT(sidecar_load(write_fixture(yaml, strlen(yaml)), &sc, &pr), 0, "many problems");
	CHECK_INT(pr.count, 100, "every problem counted");
	CHECK_INT(pr.items[SIDECAR_MAX_PROBLEMS - 1].line, SIDECAR_MAX_PROBLEMS, "last kept line");
	CHECK(strstr(pr.items[SIDECAR_MAX_PROBLEMS - 1].msg, "unknown key 'k63'") != NULL,
	      "last kept");
	sidecar_release(&sc);
}

/* Loads text (len bytes) expecting rc and a first problem containing msg. */
static void check_hostile(const char *name, const char *text, size_t len, int rc, const char *msg)
{
	struct sidecar sc;
	struct sidecar_problems pr;
	CHECK_INT(sidecar_load(write_fixture(text, len), &sc, &pr), rc, name);
	CHECK(pr.count >= 1, "%s: a problem is reported", name);
	int found = 0;
	for (int i = 0; i < pr.count && i < SIDECAR_MAX_PROBLEMS; i++)
		found |= strstr(pr.items[i].msg, msg) != NULL;
	CHECK(found, "%s: a problem contains '%s'", name, msg);
	if (!found)
		print_problems(name, &pr);
	sidecar_release(&sc);
}

static void test_hostile(void)
{
	size_t big = 2u << 20;
	char *text = malloc(big + 64), *p;

	/* 2 MiB of valid YAML */
	p = text + sprintf(text, "summary: ");
	memset(p, 'a', big);
	p[big] = '\n';
	check_hostile("2 MiB", text, (size_t)(p - text) + big + 1, -1, "file too large");

	/* not a regular file: the read stops after the limit */
	struct sidecar sc;
	struct sidecar_problems pr;
	CHECK_INT(sidecar_load("/dev/zero", &sc, &pr), -1, "/dev/zero");
	check_problems("/dev/zero", &pr, 1, 0, "file too large");
	sidecar_release(&sc);

	/* nesting 10000 deep, both flow and a deep map */
	p = text + sprintf(text, "label: ");
	for (int i = 0; i < 10000; i++)
		*p++ = '[';
	for (int i = 0; i < 10000; i++)
		*p++ = ']';
	*p++ = '\n';
	check_hostile("10000 deep", text, (size_t)(p - text), -1, "nested deeper than 64 levels");
	p = text + sprintf(text, "label: ");
	for (int i = 0; i < 10000; i++)
		p += sprintf(p, "{a: ");
	for (int i = 0; i < 10000; i++)
		*p++ = '}';
	*p++ = '\n';
	check_hostile("10000 deep maps", text, (size_t)(p - text), -1, "nested deeper than 64");

	/* more values than allowed */
	p = text + sprintf(text, "label: [");
	for (int i = 0; i < 250000; i++)
		p += sprintf(p, "a,");
	p += sprintf(p, "a]\n");
	check_hostile("250000 values", text, (size_t)(p - text), -1, "more than 200000 values");

	/* billion laughs in Feature properties (copied as plain JSON) */
	p = text +
	    sprintf(text,
		    "navPlace:\n  type: Feature\n  geometry: {type: Point, coordinates: [1, 2]}\n"
		    "  properties:\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, "
		    "lol]\n");
	for (int i = 1; i < 10; i++)
		p += sprintf(p,
			     "    l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
			     "*l%d]\n",
			     i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			     i - 1);
	check_hostile("alias bomb in properties", text, (size_t)(p - text), 0, "too many values");

	/* billion laughs in the table of contents */
	p = text + sprintf(text, "toc:\n  - &t0 {label: x, canvases: [a.jpg]}\n");
	for (int i = 1; i < 10; i++)
		p += sprintf(p,
			     "  - &t%d {label: x, items: [*t%d, *t%d, *t%d, *t%d, *t%d, *t%d, "
			     "*t%d, *t%d, *t%d, *t%d]}\n",
			     i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			     i - 1);
	check_hostile("alias bomb in toc", text, (size_t)(p - text), 0, "too many values");

	/* a wide mapping repeated through aliases: key scans are paid for too */
	p = text + sprintf(text, "x-big: &big {");
	for (int i = 0; i < 5000; i++)
		p += sprintf(p, "k%d: 1, ", i);
	p += sprintf(p, "label: x}\ncanvases:\n");
	for (int i = 0; i < 3000; i++)
		p += sprintf(p, "  f%d.jpg: *big\n", i);
	check_hostile("wide alias", text, (size_t)(p - text), 0, "too many values");

	/* cycles: anchors are registered before their children in libyaml */
	static const char *const cycles[][2] = {
		{ "toc: &t [{label: x, items: *t}]\n", "nested deeper than 16" },
		{ "navPlace: &g {type: GeometryCollection, geometries: [*g]}\n",
		  "nested too deeply" },
		{ "navPlace: {type: Feature, geometry: {type: Point, coordinates: [1, 2]}, "
		  "properties: &p {me: *p}}\n",
		  "nested too deeply" },
		{ "label: &l [*l]\n", "expected text, found a list" },
		{ "metadata: &m [*m]\n", "expected a mapping with label and value" },
		{ "navPlace: &n {type: Polygon, coordinates: [*n]}\n",
		  "expected a list of coordinates" },
	};
	for (size_t i = 0; i < sizeof cycles / sizeof cycles[0]; i++)
		check_hostile(cycles[i][0], cycles[i][0], strlen(cycles[i][0]), 0, cycles[i][1]);
	free(text);
}

static const char documented_yaml[] =
	"label: Book of hours                  # a string, or a map of languages\n"
	"summary: {en: A prayer book, fr: Un livre de prières}\n"
	"metadata:\n"
	"  - label: Date\n"
	"    value: about 1450\n"
	"  - label: {en: Scribe, fr: Copiste}\n"
	"    value: Jean Miélot\n"
	"rights: http://creativecommons.org/licenses/by/4.0/\n"
	"requiredStatement:\n"
	"  label: Attribution\n"
	"  value: Provided by the Example Library\n"
	"provider:\n"
	"  - label: Example Library\n"
	"    homepage: https://library.example.org/\n"
	"    logo: https://library.example.org/logo.png\n"
	"homepage: https://library.example.org/items/42          # or {id:, label:, format:}\n"
	"seeAlso: [{id: https://library.example.org/items/42.xml, format: text/xml, profile: "
	"https://www.loc.gov/mods}]\n"
	"rendering: [{id: https://library.example.org/items/42.pdf, label: PDF, format: "
	"application/pdf}]\n"
	"navDate: 1450-01-01\n"
	"navPlace: {type: Point, coordinates: [4.35, 50.85]}      # GeoJSON geometry or "
	"Feature(s)\n"
	"behavior: [paged]\n"
	"viewingDirection: left-to-right\n"
	"canvases:                              # per-file settings inside a folder's Manifest\n"
	"  page1.jpg: {label: Front cover}\n"
	"toc:                                   # the table of contents: Ranges\n"
	"  - label: Calendar\n"
	"    canvases: [page1.jpg, page2.jpg]\n"
	"  - label: Hours of the Virgin\n"
	"    items:\n"
	"      - label: Matins\n"
	"        canvases: [page3.jpg]\n"
	"chapters:                              # for a single audio/video file: Ranges by time\n"
	"  - {label: Introduction, start: 0, end: 42.5}\n"
	"  - {label: Childhood, start: 42.5, end: 300}\n";

static const char documented_json[] =
	"{'props':{"
	"'label':{'none':['Book of hours']},"
	"'summary':{'en':['A prayer book'],'fr':['Un livre de prières']},"
	"'metadata':[{'label':{'none':['Date']},'value':{'none':['about 1450']}},"
	"{'label':{'en':['Scribe'],'fr':['Copiste']},'value':{'none':['Jean Miélot']}}],"
	"'rights':'http://creativecommons.org/licenses/by/4.0/',"
	"'requiredStatement':{'label':{'none':['Attribution']},'value':{'none':['Provided by the "
	"Example Library']}},"
	"'provider':[{'id':'https://library.example.org/"
	"#provider','type':'Agent','label':{'none':['Example Library']},"
	"'homepage':[{'id':'https://library.example.org/','type':'Text','label':{'none':['Example "
	"Library']},'format':'text/html'}],"
	"'logo':[{'id':'https://library.example.org/logo.png','type':'Image','format':'image/"
	"png'}]}],"
	"'homepage':[{'id':'https://library.example.org/items/42','type':'Text',"
	"'label':{'none':['https://library.example.org/items/42']},'format':'text/html'}],"
	"'seeAlso':[{'id':'https://library.example.org/items/"
	"42.xml','type':'Dataset','format':'text/xml','profile':'https://www.loc.gov/mods'}],"
	"'rendering':[{'id':'https://library.example.org/items/"
	"42.pdf','type':'Text','label':{'none':['PDF']},'format':'application/pdf'}],"
	"'navDate':'1450-01-01T00:00:00Z',"
	"'navPlace':{'type':'FeatureCollection','features':[{'type':'Feature','properties':{},"
	"'geometry':{'type':'Point','coordinates':[4.35,50.85]}}]},"
	"'behavior':['paged'],"
	"'viewingDirection':'left-to-right'},"
	"'canvases':{'page1.jpg':{'label':{'none':['Front cover']}}},"
	"'toc':[{'label':{'none':['Calendar']},'canvases':['page1.jpg','page2.jpg']},"
	"{'label':{'none':['Hours of the "
	"Virgin']},'items':[{'label':{'none':['Matins']},'canvases':['page3.jpg']}]}],"
	"'chapters':[{'label':{'none':['Introduction']},'start':0.0,'end':42.5},"
	"{'label':{'none':['Childhood']},'start':42.5,'end':300.0}]}";

/* The example in docs/presentation.md, embedded and as the docs have it, with no problem. */
static void test_documented_example(void)
{
	struct sc_case tc = { "documented example", documented_yaml, documented_json, NO_PROBLEMS };
	run_cases(&tc, 1);

	FILE *f = fopen("docs/presentation.md", "r");
	CHECK(f != NULL, "docs/presentation.md readable (run from the repository root)");
	if (!f)
		return;
	static char doc[65536];
	size_t n = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[n] = 0;
	char *start = strstr(doc, "```yaml\n"), *end = start ? strstr(start + 8, "```\n") : NULL;
	CHECK(start && end, "docs have a yaml example");
	if (!start || !end)
		return;
	*end = 0;
	tc.name = "example in docs/presentation.md";
	tc.yaml = start + 8;
	run_cases(&tc, 1);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	UNIT_RUN(test_language_maps);
	UNIT_RUN(test_language_tags);
	UNIT_RUN(test_behavior_by_resource);
	UNIT_RUN(test_html_values);
	UNIT_RUN(test_language_map_fn);
	UNIT_RUN(test_metadata);
	UNIT_RUN(test_required_statement);
	UNIT_RUN(test_rights);
	UNIT_RUN(test_provider);
	UNIT_RUN(test_homepage);
	UNIT_RUN(test_see_also_rendering);
	UNIT_RUN(test_nav_date);
	UNIT_RUN(test_nav_place);
	UNIT_RUN(test_behavior_viewing_direction);
	UNIT_RUN(test_canvases);
	UNIT_RUN(test_toc);
	UNIT_RUN(test_toc_depth);
	UNIT_RUN(test_chapters);
	UNIT_RUN(test_unknown_keys);
	UNIT_RUN(test_not_sidecars);
	UNIT_RUN(test_more_documents);
	UNIT_RUN(test_many_problems);
	UNIT_RUN(test_hostile);
	UNIT_RUN(test_documented_example);
	unlink(fixture);
	rmdir(tmpdir);
	return unit_report("sidecar");
}
