/*
 * hocr.c: hOCR (HTML or XHTML) OCR to line and word records, streamed through libxml2's HTML
 * push parser: page size from the ocr_page bbox, lines and words from their title properties.
 */
#include "annotation/importers.h"

#include <ctype.h>
#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/import.h"

struct hocr {
	struct import_state *st;
	const struct anno_target *target;
	htmlParserCtxtPtr ctxt;
	struct import_langs langs;
	struct import_ocr ocr;
	char *generator;
	bool seen_page;
	double px, py, pw, ph;    /* the ocr_page bbox: origin and size */
	int line_depth;           /* of the line being read */
	int last_line;            /* of the last end tag, for errors about the whole file */
	struct import_buf loose;  /* the line's text outside words (for lines without any) */
	/* the word being read */
	bool in_word, word_has_box;
	int word_depth, word_start;
	double wbox[4], wconf;    /* wconf: score 0..1, -1 for none */
	struct import_buf word;
	/* the raw bytes are checked to be UTF-8 before the HTML parser (which would silently
	 * read bad bytes as Latin-1) sees them */
	int utf8_line;            /* lines fed so far, counting from 1 */
	unsigned char utf8_carry[4]; /* a sequence cut by the chunk boundary */
	int utf8_ncarry;
};

static int hocr_lineno(struct hocr *h)
{
	return h->ctxt ? xmlSAX2GetLineNumber(h->ctxt) : 0;
}

static const char *hocr_attr(const xmlChar **atts, const char *name)
{
	for (int i = 0; atts && atts[i]; i += 2)
		if (strcmp((const char *)atts[i], name) == 0)
			return atts[i + 1] ? (const char *)atts[i + 1] : "";
	return NULL;
}

/* Whether the class attribute cls lists the class want. */
static bool hocr_class(const char *cls, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = cls; p && *p;) {
		while (isspace((unsigned char)*p))
			p++;
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		if ((size_t)(e - p) == n && memcmp(p, want, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* Finds "prop v1 v2 ..." among the ';'-separated title properties ('"' quotes a ';'). */
static const char *hocr_prop(const char *title, const char *prop, const char **end)
{
	size_t n = strlen(prop);
	const char *p = title;
	while (p && *p) {
		while (isspace((unsigned char)*p))
			p++;
		const char *e = p;
		for (bool quoted = false; *e && (quoted || *e != ';'); e++)
			if (*e == '"')
				quoted = !quoted;
		if ((size_t)(e - p) > n && memcmp(p, prop, n) == 0 && isspace((unsigned char)p[n])) {
			*end = e;
			return p + n;
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

/* Reads nv numbers of title property prop: 1, 0 when absent, -1 after import_fail. */
static int hocr_numbers(struct hocr *h, const char *title, const char *prop, double *v, int nv)
{
	const char *end, *p = title ? hocr_prop(title, prop, &end) : NULL;
	if (!p)
		return 0;
	int i;
	for (i = 0; i < nv; i++) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *q = p;
		while (q < end && !isspace((unsigned char)*q))
			q++;
		if (q == p)
			break;
		if (import_number(p, (size_t)(q - p), &v[i]) < 0)
			return import_fail(h->st, hocr_lineno(h), "title: bad %s '%.*s'", prop,
					   (int)(end - title > 60 ? 60 : end - title), title);
		p = q;
	}
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p != end || i < nv)
		return import_fail(h->st, hocr_lineno(h), "title: %s takes %d numbers", prop, nv);
	return 1;
}

/* bbox x0 y0 x1 y1 of an element as a Canvas box: 1, 0 when absent, -1 on error. */
static int hocr_box(struct hocr *h, const char *title, double box[4])
{
	double b[4];
	int rc = hocr_numbers(h, title, "bbox", b, 4);
	if (rc <= 0)
		return rc;
	double sx = (double)h->target->width / h->pw, sy = (double)h->target->height / h->ph;
	box[0] = (b[0] - h->px) * sx;
	box[1] = (b[1] - h->py) * sy;
	box[2] = (b[2] - b[0]) * sx;
	box[3] = (b[3] - b[1]) * sy;
	return 1;
}

static int hocr_page(struct hocr *h, const char *title)
{
	int line = hocr_lineno(h);
	if (h->seen_page)
		return import_fail(h->st, line, "a second ocr_page (import one page per hOCR file)");
	h->seen_page = true;
	double b[4];
	int rc = hocr_numbers(h, title, "bbox", b, 4);
	if (rc < 0)
		return -1;
	if (rc == 0 || b[2] <= b[0] || b[3] <= b[1])
		return import_fail(h->st, line, "ocr_page: no bbox with a positive size in title");
	h->px = b[0], h->py = b[1], h->pw = b[2] - b[0], h->ph = b[3] - b[1];
	return 0;
}

static int hocr_line_start(struct hocr *h, const char *title)
{
	if (h->ocr.in_line)
		return 0; /* a line class inside a line: part of the outer one */
	double box[4];
	int rc = hocr_box(h, title, box);
	if (rc < 0)
		return -1;
	h->line_depth = h->langs.depth;
	import_buf_reset(&h->loose);
	return import_ocr_line_start(&h->ocr, hocr_lineno(h), rc ? box : NULL,
				     import_langs_top(&h->langs));
}

static int hocr_word_start(struct hocr *h, const char *title)
{
	int rc = hocr_box(h, title, h->wbox);
	int conf = rc < 0 ? -1 : hocr_numbers(h, title, "x_wconf", &h->wconf, 1);
	if (conf < 0)
		return -1;
	if (conf && (h->wconf < 0 || h->wconf > 100))
		return import_fail(h->st, hocr_lineno(h), "title: x_wconf %g is not 0..100",
				   h->wconf);
	h->wconf = conf ? h->wconf / 100 : -1;
	h->in_word = true;
	h->word_has_box = rc == 1;
	h->word_depth = h->langs.depth;
	h->word_start = hocr_lineno(h);
	import_buf_reset(&h->word);
	return 0;
}

static int hocr_word_end(struct hocr *h)
{
	h->in_word = false;
	struct import_buf *w = &h->word;
	while (w->len && w->data[w->len - 1] == ' ')
		w->data[--w->len] = '\0';
	if (!w->len)
		return 0;
	return import_ocr_word(&h->ocr, h->word_start, w->data, w->len,
			       h->word_has_box ? h->wbox : NULL, h->wconf,
			       import_langs_top(&h->langs));
}

static bool hocr_is_line(const char *cls)
{
	return hocr_class(cls, "ocr_line") || hocr_class(cls, "ocr_header") ||
	       hocr_class(cls, "ocr_caption") || hocr_class(cls, "ocr_textfloat");
}

/* Handles the hOCR meaning of one start tag (the language is already pushed). */
static void hocr_element(struct hocr *h, const char *name, const xmlChar **atts)
{
	const char *cls = hocr_attr(atts, "class"), *title = hocr_attr(atts, "title");
	if (!cls) {
		const char *meta = strcmp(name, "meta") == 0 ? hocr_attr(atts, "name") : NULL;
		const char *content = hocr_attr(atts, "content");
		if (meta && content && strcmp(meta, "ocr-system") == 0 && !h->generator &&
		    !(h->ocr.generator = h->generator = strdup(content)))
			import_fail(h->st, hocr_lineno(h), "out of memory");
		return;
	}
	bool page = hocr_class(cls, "ocr_page"), word = hocr_class(cls, "ocrx_word");
	bool line = !word && hocr_is_line(cls);
	if ((line || word) && !h->seen_page) {
		import_fail(h->st, hocr_lineno(h), "%s outside an ocr_page",
			    word ? "ocrx_word" : "ocr_line");
		return;
	}
	if (page)
		hocr_page(h, title);
	else if (word && !h->in_word)
		hocr_word_start(h, title);
	else if (line && !h->in_word)
		hocr_line_start(h, title);
}

static void hocr_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct hocr *h = ctx;
	if (h->st->failed)
		return;
	const char *lang = hocr_attr(atts, "lang");
	if (!lang)
		lang = hocr_attr(atts, "xml:lang");
	if (import_langs_push(&h->langs, lang, lang ? strlen(lang) : 0) < 0) {
		import_fail(h->st, hocr_lineno(h), "elements nested deeper than %d",
			    IMPORT_MAX_DEPTH);
		return;
	}
	hocr_element(h, (const char *)name, atts);
}

static void hocr_end(void *ctx, const xmlChar *name)
{
	struct hocr *h = ctx;
	if (h->st->failed)
		return;
	if (h->in_word && h->langs.depth == h->word_depth)
		hocr_word_end(h);
	else if (h->ocr.in_line && h->langs.depth == h->line_depth)
		import_ocr_line_end(&h->ocr, h->ocr.text.len ? NULL : &h->loose);
	import_langs_pop(&h->langs);
	h->last_line = hocr_lineno(h);
}

static void hocr_chars(void *ctx, const xmlChar *ch, int len)
{
	struct hocr *h = ctx;
	if (h->st->failed || (!h->in_word && !h->ocr.in_line))
		return;
	struct import_buf *b = h->in_word ? &h->word : &h->loose;
	if (import_buf_add_collapsed(b, (const char *)ch, (size_t)len) < 0)
		import_fail(h->st, hocr_lineno(h), "%s: text longer than %d bytes",
			    h->in_word ? "ocrx_word" : "ocr_line", IMPORT_MAX_TEXT);
}

#define HOCR_PIECE 4096 /* bytes handed to the HTML parser at a time */

/* HTML is parsed in recovery mode: syntax errors are not fatal, structure errors are ours. */
static void hocr_error(void *ctx, xmlErrorPtr e)
{
}

/* Line numbers of the n bytes at p added to *line. */
static void hocr_count_lines(const char *p, size_t n, int *line)
{
	for (const char *nl; n && (nl = memchr(p, '\n', n)); n -= (size_t)(nl + 1 - p), p = nl + 1)
		(*line)++;
}

/*
 * Checks that chunk continues valid UTF-8 (a sequence may straddle chunks: its start is carried
 * to the next call). -1 with the error naming the line of the first bad byte.
 */
static int hocr_check_utf8(struct hocr *h, const char *chunk, size_t len, bool last)
{
	char joined[8];
	size_t take = 0;
	if (h->utf8_ncarry) { /* finish the carried sequence first */
		memcpy(joined, h->utf8_carry, (size_t)h->utf8_ncarry);
		take = len < 4 ? len : 4;
		memcpy(joined + h->utf8_ncarry, chunk, take);
		const char *end;
		g_utf8_validate(joined, (gssize)(h->utf8_ncarry + take), &end);
		size_t good = (size_t)(end - joined);
		if (good <= (size_t)h->utf8_ncarry) /* the carried sequence did not complete */
			return import_fail(h->st, h->utf8_line, "not UTF-8 (hOCR must be UTF-8)");
		take = good - (size_t)h->utf8_ncarry;
		h->utf8_ncarry = 0;
	}
	const char *bad;
	if (g_utf8_validate(chunk + take, (gssize)(len - take), &bad)) {
		hocr_count_lines(chunk, len, &h->utf8_line);
		return 0;
	}
	size_t at = (size_t)(bad - chunk), rest = len - at;
	hocr_count_lines(chunk, at, &h->utf8_line);
	/* an incomplete sequence at the very end may be completed by the next chunk */
	if (!last && rest < 4 && g_utf8_get_char_validated(bad, (gssize)rest) == (gunichar)-2) {
		memcpy(h->utf8_carry, bad, rest);
		h->utf8_ncarry = (int)rest;
		return 0;
	}
	return import_fail(h->st, h->utf8_line, "not UTF-8 (byte 0x%02x; hOCR must be UTF-8)",
			   (unsigned char)*bad);
}

static int hocr_feed(void *ctx, const char *chunk, int len, int last)
{
	struct hocr *h = ctx;
	if (hocr_check_utf8(h, chunk, (size_t)len, last) < 0)
		return -1;
	/*
	 * libxml2's HTML push parser (2.9) never drops what it has parsed, so it would keep the
	 * whole file: between pieces, where no token is being read, drop it here (and the offset
	 * its token search resumes from, which counts from the start of the buffer).
	 */
	for (int off = 0; off < len && !h->st->failed; off += HOCR_PIECE) {
		htmlParseChunk(h->ctxt, chunk + off, len - off < HOCR_PIECE ? len - off : HOCR_PIECE,
			       0);
		xmlParserInputShrink(h->ctxt->input);
		h->ctxt->checkIndex = 0;
	}
	if (last && !h->st->failed)
		htmlParseChunk(h->ctxt, "", 0, 1);
	if (!h->st->failed && last && !h->seen_page)
		import_fail(h->st, h->last_line, "no element with class ocr_page");
	return h->st->failed ? -1 : 0;
}

static int hocr_parse(struct hocr *h, const struct anno_input *in)
{
	htmlSAXHandler sax;
	memset(&sax, 0, sizeof sax);
	sax.initialized = XML_SAX2_MAGIC; /* so that serror gets the parser's errors */
	sax.startElement = hocr_start;
	sax.endElement = hocr_end;
	sax.characters = hocr_chars;
	sax.ignorableWhitespace = hocr_chars;
	sax.serror = hocr_error;
	import_xml_init();
	/* UTF-8 unless the file declares otherwise (HTML's default would be Latin-1) */
	h->ctxt = htmlCreatePushParserCtxt(&sax, h, NULL, 0, in->name, XML_CHAR_ENCODING_UTF8);
	if (!h->ctxt)
		return import_fail(h->st, 0, "out of memory");
	htmlCtxtUseOptions(h->ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	return import_feed(in, h->st, hocr_feed, h);
}

static int hocr_run(const struct anno_input *in, const struct anno_target *target,
		    struct anno_list *out, const struct anno_sink *sink,
		    struct anno_import_error *err)
{
	struct import_state st;
	struct hocr h = {.st = &st, .target = target, .utf8_line = 1};
	import_begin(&st, out, sink, err);
	h.ocr.st = &st;
	h.ocr.target = target;
	h.ocr.text.max = h.loose.max = h.word.max = IMPORT_MAX_TEXT;
	int rc;
	if (!target->file || target->width <= 0 || target->height <= 0)
		rc = import_fail(&st, 0, "the target has no file or no Canvas size");
	else
		rc = hocr_parse(&h, in);
	if (h.ctxt) {
		xmlFreeDoc(h.ctxt->myDoc);
		htmlFreeParserCtxt(h.ctxt);
	}
	import_langs_release(&h.langs);
	import_buf_release(&h.ocr.text);
	import_buf_release(&h.loose);
	import_buf_release(&h.word);
	free(h.generator);
	return import_finish(&st, rc);
}

int anno_import_hocr(const char *path, const struct anno_target *target, struct anno_list *out,
		     struct anno_import_error *err)
{
	struct anno_input in = {.name = path, .path = path};
	return hocr_run(&in, target, out, NULL, err);
}

int anno_parse_hocr(const struct anno_input *in, const struct anno_target *target,
		    const struct anno_sink *sink, struct anno_import_error *err)
{
	return hocr_run(in, target, NULL, sink, err);
}
