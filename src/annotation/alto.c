/*
 * alto.c: ALTO v2-v4 OCR to line and word records, streamed through libxml2's SAX2 push parser
 * (no tree, no entity declarations kept, no DTD or network access), elements matched by local name.
 */
#include "annotation/importers.h"

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/import.h"

enum alto_collect { ALTO_NONE, ALTO_UNIT, ALTO_SOFTWARE, ALTO_VERSION };

struct alto {
	struct import_state *st;
	const struct anno_target *target;
	xmlParserCtxtPtr ctxt;
	struct import_langs langs;
	struct import_ocr ocr;
	bool seen_root, seen_page;
	/* Description: MeasurementUnit, and softwareName/Version of the first processing step */
	enum alto_collect collect;
	struct import_buf chars;
	char unit[16];
	char *software, *version, *generator;
	double pw, ph;  /* page size, in the measurement unit */
	int line_depth; /* of the TextLine being read */
	int last_line;  /* of the last end tag, for errors about the whole file */
	size_t bytes;   /* read so far */
	struct import_buf scratch;
};

static int alto_lineno(struct alto *a)
{
	return a->ctxt ? xmlSAX2GetLineNumber(a->ctxt) : 0;
}

enum alto_attr { AT_CONTENT, AT_HPOS, AT_VPOS, AT_WIDTH, AT_HEIGHT, AT_WC, AT_LANG, AT_COUNT };

static const char *const alto_attr_names[AT_COUNT] = {"CONTENT", "HPOS", "VPOS", "WIDTH",
						      "HEIGHT",  "WC",   "LANG"};

/* The attributes of one start tag that matter, found in one pass (NULL: absent). */
struct alto_attrs {
	const char *elem;
	const char *v[AT_COUNT];
	size_t len[AT_COUNT];
};

/* Reads SAX2's (localname, prefix, URI, value, end) tuples. */
static void alto_attrs(struct alto_attrs *at, const char *elem, int n, const xmlChar **attrs)
{
	memset(at, 0, sizeof *at);
	at->elem = elem;
	for (int i = 0; i < n; i++) {
		const char *name = (const char *)attrs[5 * i];
		for (int k = 0; k < AT_COUNT; k++) {
			if (name[0] == alto_attr_names[k][0] && strcmp(name, alto_attr_names[k]) == 0) {
				at->v[k] = (const char *)attrs[5 * i + 3];
				at->len[k] = (size_t)(attrs[5 * i + 4] - attrs[5 * i + 3]);
				break;
			}
		}
	}
}

/* 1 with *v set, 0 when absent, -1 (after import_fail) when not a number. */
static int alto_number(struct alto *a, const struct alto_attrs *at, enum alto_attr k, double *v)
{
	const char *s = at->v[k];
	size_t len = at->len[k];
	if (!s)
		return 0;
	if (import_number(s, len, v) < 0)
		return import_fail(a->st, alto_lineno(a), "%s: %s '%.*s' is not a number", at->elem,
				   alto_attr_names[k], (int)(len > 40 ? 40 : len), s);
	return 1;
}

/* Reads HPOS/VPOS/WIDTH/HEIGHT as a Canvas box: 1, 0 when one is missing, -1 on error. */
static int alto_box(struct alto *a, const struct alto_attrs *at, double box[4])
{
	int found = 0;
	for (int i = 0; i < 4; i++) {
		int rc = alto_number(a, at, AT_HPOS + i, &box[i]);
		if (rc < 0)
			return -1;
		found += rc;
	}
	if (found < 4)
		return 0;
	double cw = (double)a->target->width, ch = (double)a->target->height;
	box[0] = box[0] * cw / a->pw;
	box[2] = box[2] * cw / a->pw;
	box[1] = box[1] * ch / a->ph;
	box[3] = box[3] * ch / a->ph;
	return 1;
}

/* Builds the generator from softwareName and softwareVersion. */
static int alto_generator(struct alto *a)
{
	if (!a->software)
		return 0;
	size_t n = strlen(a->software) + (a->version ? strlen(a->version) + 2 : 1);
	if (!(a->generator = malloc(n)))
		return import_fail(a->st, 0, "out of memory");
	snprintf(a->generator, n, "%s%s%s", a->software, a->version ? " " : "",
		 a->version ? a->version : "");
	return 0;
}

static int alto_page(struct alto *a, const struct alto_attrs *at)
{
	int line = alto_lineno(a);
	if (a->seen_page)
		return import_fail(a->st, line, "Page: a second Page (import one page per ALTO file)");
	a->seen_page = true;
	if (alto_generator(a) < 0) /* Description comes before the Page */
		return -1;
	a->ocr.generator = a->generator;
	int w = alto_number(a, at, AT_WIDTH, &a->pw);
	int h = w < 0 ? -1 : alto_number(a, at, AT_HEIGHT, &a->ph);
	if (w < 0 || h < 0)
		return -1;
	if (w && h && a->pw > 0 && a->ph > 0)
		return 0;
	if (w || h)
		return import_fail(a->st, line, "Page: WIDTH and HEIGHT must both be positive");
	if (strcmp(a->unit, "pixel") != 0)
		return import_fail(a->st, line, "Page: no WIDTH/HEIGHT to scale %s coordinates",
				   a->unit);
	/* pixel coordinates without a page size: take them as Canvas pixels */
	a->pw = (double)a->target->width;
	a->ph = (double)a->target->height;
	return 0;
}

static int alto_line_start(struct alto *a, const struct alto_attrs *at)
{
	int line = alto_lineno(a);
	if (!a->seen_page)
		return import_fail(a->st, line, "TextLine outside a Page");
	if (a->ocr.in_line)
		return import_fail(a->st, line, "TextLine inside a TextLine");
	double box[4];
	int rc = alto_box(a, at, box);
	if (rc < 0)
		return -1;
	a->line_depth = a->langs.depth;
	return import_ocr_line_start(&a->ocr, line, rc ? box : NULL, import_langs_top(&a->langs));
}

/* The word's score from WC (0..1), -1 when absent; -2 after import_fail. */
static double alto_wc(struct alto *a, const struct alto_attrs *at)
{
	double wc;
	int rc = alto_number(a, at, AT_WC, &wc);
	if (rc == 1 && (wc < 0 || wc > 1))
		rc = import_fail(a->st, alto_lineno(a), "String: WC %g is not between 0 and 1", wc);
	return rc < 0 ? -2 : rc ? wc : -1;
}

/*
 * Without entity substitution (which is never asked for), libxml2 hands attribute values over
 * with every '&' as "&#38;" and no other reference left, so this is an exact decoding.
 */
static const char *alto_unescape(struct alto *a, const char *s, size_t len)
{
	import_buf_reset(&a->scratch);
	for (size_t i = 0; i < len;) {
		size_t ref = len - i >= 5 && memcmp(s + i, "&#38;", 5) == 0 ? 5 : 0;
		if (import_buf_add(&a->scratch, ref ? "&" : s + i, 1) < 0) {
			import_fail(a->st, alto_lineno(a), "String: CONTENT too long");
			return NULL;
		}
		i += ref ? ref : 1;
	}
	return a->scratch.data;
}

/*
 * SP and HYP need no handling: a line's text is its Strings joined by single spaces, so the
 * parts of a hyphenated word stay apart ("exam" "ple") and the hyphen itself is dropped.
 */
static int alto_word(struct alto *a, const struct alto_attrs *at)
{
	size_t len = at->len[AT_CONTENT];
	const char *content = at->v[AT_CONTENT];
	if (!a->ocr.in_line || !content || !len)
		return 0; /* Strings belong to lines; empty ones carry no text */
	if (memchr(content, '&', len)) {
		if (!(content = alto_unescape(a, content, len)))
			return -1;
		len = a->scratch.len;
	}
	double box[4];
	int has_box = alto_box(a, at, box);
	double wc = has_box < 0 ? -2 : alto_wc(a, at);
	if (wc < -1)
		return -1;
	return import_ocr_word(&a->ocr, alto_lineno(a), content, len, has_box ? box : NULL, wc,
			       import_langs_top(&a->langs));
}

/* Starts collecting the text of Description elements that matter. */
static void alto_collect(struct alto *a, const char *name)
{
	if (strcmp(name, "MeasurementUnit") == 0)
		a->collect = ALTO_UNIT;
	else if (strcmp(name, "softwareName") == 0 && !a->software)
		a->collect = ALTO_SOFTWARE;
	else if (strcmp(name, "softwareVersion") == 0 && !a->version)
		a->collect = ALTO_VERSION;
	else
		return;
	import_buf_reset(&a->chars);
	import_buf_add(&a->chars, "", 0);
}

static int alto_collected(struct alto *a)
{
	enum alto_collect what = a->collect;
	a->collect = ALTO_NONE;
	if (!a->chars.data)
		return import_fail(a->st, alto_lineno(a), "out of memory");
	while (a->chars.len && a->chars.data[a->chars.len - 1] == ' ')
		a->chars.data[--a->chars.len] = '\0';
	if (what == ALTO_UNIT) {
		const char *u = a->chars.data;
		if (strcmp(u, "pixel") && strcmp(u, "mm10") && strcmp(u, "inch1200"))
			return import_fail(a->st, alto_lineno(a),
					   "MeasurementUnit: '%.40s' is not pixel, mm10 or inch1200",
					   u);
		snprintf(a->unit, sizeof a->unit, "%s", u);
		return 0;
	}
	char **dst = what == ALTO_SOFTWARE ? &a->software : &a->version;
	if (!a->chars.len)
		return 0;
	if (!(*dst = strdup(a->chars.data)))
		return import_fail(a->st, alto_lineno(a), "out of memory");
	return 0;
}

static void alto_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		       const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
		       int nb_attributes, int nb_defaulted, const xmlChar **attrs)
{
	struct alto *a = ctx;
	const char *name = (const char *)localname;
	if (a->st->failed)
		return;
	if (!a->seen_root && strcmp(name, "alto") != 0) {
		import_fail(a->st, alto_lineno(a), "root element is <%.40s>, not <alto>", name);
		return;
	}
	a->seen_root = true;
	/* LANG exists on TextBlock, TextLine and String; their children inherit it */
	bool word = strcmp(name, "String") == 0, line = !word && strcmp(name, "TextLine") == 0;
	bool page = !word && !line && strcmp(name, "Page") == 0;
	struct alto_attrs at = {0};
	if (word || line || page || strcmp(name, "TextBlock") == 0)
		alto_attrs(&at, name, nb_attributes, attrs);
	if (import_langs_push(&a->langs, at.v[AT_LANG], at.len[AT_LANG]) < 0) {
		import_fail(a->st, alto_lineno(a), "elements nested deeper than %d",
			    IMPORT_MAX_DEPTH);
		return;
	}
	if (word)
		alto_word(a, &at);
	else if (line)
		alto_line_start(a, &at);
	else if (page)
		alto_page(a, &at);
	else if (!a->seen_page)
		alto_collect(a, name);
}

static void alto_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		     const xmlChar *uri)
{
	struct alto *a = ctx;
	if (a->st->failed)
		return;
	if (a->collect != ALTO_NONE)
		alto_collected(a);
	else if (a->ocr.in_line && a->langs.depth == a->line_depth)
		import_ocr_line_end(&a->ocr, NULL);
	import_langs_pop(&a->langs);
	a->last_line = alto_lineno(a);
}

static void alto_chars(void *ctx, const xmlChar *ch, int len)
{
	struct alto *a = ctx;
	if (a->collect != ALTO_NONE && !a->st->failed &&
	    import_buf_add_collapsed(&a->chars, (const char *)ch, (size_t)len) < 0)
		import_fail(a->st, alto_lineno(a), "Description text too long");
}

/* Parser errors: only fatal ones (not well-formed XML) stop the import. */
static void alto_error(void *ctx, xmlErrorPtr e)
{
	struct alto *a = ctx;
	if (!e || e->level != XML_ERR_FATAL)
		return;
	size_t n = e->message ? strlen(e->message) : 0;
	while (n && (e->message[n - 1] == '\n' || e->message[n - 1] == ' '))
		n--;
	import_fail(a->st, e->line, "XML: %.*s", (int)(n > 200 ? 200 : n),
		    e->message ? e->message : "");
}

static int alto_feed(void *ctx, const char *chunk, int len, int last)
{
	struct alto *a = ctx;
	a->bytes += (size_t)len;
	if (last && !a->bytes)
		return import_fail(a->st, 1, "empty file");
	xmlParseChunk(a->ctxt, chunk, len, last);
	if (!a->st->failed && last && !a->seen_page)
		import_fail(a->st, a->last_line, "no Page element");
	return a->st->failed ? -1 : 0;
}

static int alto_parse(struct alto *a, const struct anno_input *in)
{
	xmlSAXHandler sax;
	memset(&sax, 0, sizeof sax);
	/* no entityDecl/getEntity/externalSubset: entities are never stored, so never expanded */
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = alto_start;
	sax.endElementNs = alto_end;
	sax.characters = alto_chars;
	sax.serror = alto_error;
	import_xml_init();
	a->ctxt = xmlCreatePushParserCtxt(&sax, a, NULL, 0, in->name);
	if (!a->ctxt)
		return import_fail(a->st, 0, "out of memory");
	xmlCtxtUseOptions(a->ctxt, XML_PARSE_NONET);
	return import_feed(in, a->st, alto_feed, a);
}

static int alto_run(const struct anno_input *in, const struct anno_target *target,
		    struct anno_list *out, const struct anno_sink *sink,
		    struct anno_import_error *err)
{
	struct import_state st;
	struct alto a = {.st = &st, .target = target, .unit = "pixel"};
	import_begin(&st, out, sink, err);
	a.chars.max = 1024;
	a.scratch.max = IMPORT_MAX_TEXT;
	a.ocr.st = &st;
	a.ocr.target = target;
	a.ocr.text.max = IMPORT_MAX_TEXT;
	int rc = 0;
	if (!target->file || target->width <= 0 || target->height <= 0)
		rc = import_fail(&st, 0, "the target has no file or no Canvas size");
	else
		rc = alto_parse(&a, in);
	if (a.ctxt) {
		xmlFreeDoc(a.ctxt->myDoc); /* where libxml2 keeps entity declarations in SAX mode */
		xmlFreeParserCtxt(a.ctxt);
	}
	import_langs_release(&a.langs);
	import_buf_release(&a.chars);
	import_buf_release(&a.scratch);
	import_buf_release(&a.ocr.text);
	free(a.software);
	free(a.version);
	free(a.generator);
	return import_finish(&st, rc);
}

int anno_import_alto(const char *path, const struct anno_target *target, struct anno_list *out,
		     struct anno_import_error *err)
{
	struct anno_input in = {.name = path, .path = path};
	return alto_run(&in, target, out, NULL, err);
}

int anno_parse_alto(const struct anno_input *in, const struct anno_target *target,
		    const struct anno_sink *sink, struct anno_import_error *err)
{
	return alto_run(in, target, NULL, sink, err);
}
