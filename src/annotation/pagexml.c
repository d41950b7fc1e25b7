/*
 * pagexml.c: PAGE XML (PRImA, as written by Transkribus, eScriptorium and Kraken; 2010 to 2019
 * schemas) to region ("block"), line and word records with outlines, in the file's reading
 * order. Parsed as a tree (one page per file, size-capped), refusing DTDs, so no entity is ever
 * expanded and no network touched.
 */
#include "annotation/importers.h"

#include <glib.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "annotation/import.h"
#include "annotation/polygon.h"

#define PAGE_MAX_BYTES (64 * 1024 * 1024)
#define PAGE_NS "primaresearch.org/PAGE/gts/pagecontent"

struct page {
	struct import_state *st;
	const struct anno_target *target;
	double sx, sy;          /* PAGE pixels -> Canvas pixels */
	char *generator;        /* Metadata/Creator */
	xmlNodePtr *regions;    /* text regions in reading order */
	size_t n_regions, cap_regions;
	struct import_buf text; /* scratch */
};

static bool page_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr page_child(const xmlNode *n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (page_is(c, name))
			return c;
	return NULL;
}

static int page_line(const xmlNode *n)
{
	long l = n ? xmlGetLineNo(n) : 0;
	return l > 0 && l < 1000000000 ? (int)l : 0;
}

/* The element's text (its text children only: entity references never occur without a DTD). */
static const char *page_text_of(struct page *p, const xmlNode *n)
{
	import_buf_reset(&p->text);
	if (import_buf_add(&p->text, "", 0) < 0)
		return NULL;
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content &&
		    import_buf_add(&p->text, (const char *)c->content,
				   strlen((const char *)c->content)) < 0) {
			import_fail(p->st, page_line(n), "%s: text too long", (const char *)n->name);
			return NULL;
		}
	return p->text.data;
}

/* A number attribute: 1 with *v, 0 when absent, -1 after import_fail. */
static int page_number(struct page *p, const xmlNode *n, const char *attr, double *v)
{
	xmlChar *s = xmlGetProp(n, (const xmlChar *)attr);
	if (!s)
		return 0;
	int rc = import_number((const char *)s, strlen((const char *)s), v);
	if (rc < 0)
		import_fail(p->st, page_line(n), "%s: %s '%.40s' is not a number",
			    (const char *)n->name, attr, (const char *)s);
	xmlFree(s);
	return rc < 0 ? -1 : 1;
}

/* "x,y x,y ..." of Coords@points into the builder. -1 after import_fail. */
static int page_points_attr(struct page *p, const xmlNode *coords, const char *s,
			    struct polygon_builder *b)
{
	const char *q = s;
	while (*q) {
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		if (!*q)
			break;
		size_t len = strcspn(q, " \t\n\r");
		const char *comma = memchr(q, ',', len);
		double x, y;
		if (!comma || import_number(q, (size_t)(comma - q), &x) < 0 ||
		    import_number(comma + 1, len - (size_t)(comma - q) - 1, &y) < 0)
			return import_fail(p->st, page_line(coords),
					   "Coords: point '%.*s' is not x,y", (int)(len > 40 ? 40 : len),
					   q);
		if (polygon_point(b, x * p->sx, y * p->sy, (double)p->target->width,
				  (double)p->target->height) < 0)
			return import_fail(p->st, page_line(coords), "Coords: more than %d points",
					   POLYGON_MAX_POINTS);
		q += len;
	}
	return 0;
}

/*
 * The outline of an element from its Coords (points attribute, or the 2010 schema's Point
 * children): 1 with *polygon (caller frees) and box, 0 when it has none or it lies outside
 * the Canvas (counted as dropped), -1 after import_fail.
 */
static int page_outline(struct page *p, const xmlNode *n, char **polygon, double box[4])
{
	xmlNodePtr coords = page_child(n, "Coords");
	*polygon = NULL;
	if (!coords)
		return 0;
	struct polygon_builder b = {0};
	polygon_ring_start(&b);
	xmlChar *pts = xmlGetProp(coords, (const xmlChar *)"points");
	int rc = 0;
	if (pts) {
		rc = page_points_attr(p, coords, (const char *)pts, &b);
		xmlFree(pts);
	}
	for (xmlNodePtr c = coords->children; c && rc == 0; c = c->next) {
		double x, y;
		if (!page_is(c, "Point"))
			continue;
		int hx = page_number(p, c, "x", &x), hy = hx < 0 ? -1 : page_number(p, c, "y", &y);
		if (hx < 0 || hy < 0)
			rc = -1;
		else if (!hx || !hy)
			rc = import_fail(p->st, page_line(c), "Point: x and y are required");
		else if (polygon_point(&b, x * p->sx, y * p->sy, (double)p->target->width,
				       (double)p->target->height) < 0)
			rc = import_fail(p->st, page_line(c), "Coords: more than %d points",
					 POLYGON_MAX_POINTS);
	}
	if (rc < 0) {
		polygon_builder_release(&b);
		return -1;
	}
	*polygon = polygon_finish(&b, box);
	if (!*polygon)
		import_drop(p->st, page_line(coords));
	return *polygon ? 1 : 0;
}

/* TextEquiv/Unicode of n (the first TextEquiv), NULL when none; conf into *score (-1: none). */
static const char *page_text_equiv(struct page *p, const xmlNode *n, double *score, int *rc)
{
	xmlNodePtr te = page_child(n, "TextEquiv");
	xmlNodePtr uni = page_child(te, "Unicode");
	*score = -1;
	*rc = 0;
	if (!uni)
		return NULL;
	double conf;
	int has = page_number(p, te, "conf", &conf);
	if (has < 0 || (has && !(conf >= 0 && conf <= 1))) {
		if (has > 0)
			import_fail(p->st, page_line(te), "TextEquiv: conf %g is not from 0 to 1",
				    conf);
		*rc = -1;
		return NULL;
	}
	if (has)
		*score = conf;
	const char *text = page_text_of(p, uni);
	if (!text)
		*rc = -1;
	return text;
}

/* Adds a record; NULL after import_fail. text is copied with whitespace collapsed. */
static struct anno_record *page_add(struct page *p, const xmlNode *n, const char *granularity,
				    const char *text, const char *polygon, const double box[4],
				    double score)
{
	int line = page_line(n);
	struct import_buf t = {.max = IMPORT_MAX_TEXT};
	if (import_buf_add(&t, "", 0) < 0 || import_buf_add_collapsed(&t, text, strlen(text)) < 0) {
		import_buf_release(&t);
		import_fail(p->st, line, "%s: text too long", (const char *)n->name);
		return NULL;
	}
	struct anno_record *rec = import_add(p->st, line, p->target->file, p->target->page,
					     "supplementing", granularity);
	if (!rec) {
		import_buf_release(&t);
		return NULL;
	}
	rec->text = t.data;
	rec->generator = anno_strdup(p->generator);
	rec->polygon = anno_strdup(polygon);
	if (polygon) {
		rec->has_xywh = true;
		rec->x = box[0], rec->y = box[1], rec->w = box[2] - box[0], rec->h = box[3] - box[1];
	}
	rec->has_score = score >= 0;
	rec->score = score >= 0 ? score : 0;
	if ((p->generator && !rec->generator) || (polygon && !rec->polygon)) {
		import_fail(p->st, line, "out of memory");
		return NULL;
	}
	return rec;
}

/* A word: its record, linked to line record index li. */
static int page_word(struct page *p, const xmlNode *w, size_t li, struct import_buf *words)
{
	double score, box[4];
	int rc;
	const char *t = page_text_equiv(p, w, &score, &rc);
	if (rc < 0)
		return -1;
	if (!t || !*t)
		return 0;
	if (import_buf_add_word(words, t, strlen(t)) < 0)
		return import_fail(p->st, page_line(w), "TextLine: text too long");
	char *poly;
	rc = page_outline(p, w, &poly, box);
	if (rc <= 0)
		return rc; /* no outline: the word lives in its line's text only */
	struct anno_record *rec = page_add(p, w, "word", t, poly, box, score);
	free(poly);
	if (!rec)
		return -1;
	char id[32];
	snprintf(id, sizeof id, "#%zu", li);
	return (rec->line_id = strdup(id)) ? 0 : import_fail(p->st, page_line(w), "out of memory");
}

/* The record of a region or line, its text filled in later: its index in out, or -1. */
static long page_start(struct page *p, const xmlNode *n, const char *granularity)
{
	double box[4];
	char *poly;
	if (page_outline(p, n, &poly, box) < 0)
		return -1;
	struct anno_record *rec = page_add(p, n, granularity, "", poly, box, -1);
	free(poly);
	return rec ? (long)(p->st->out->count - 1) : -1;
}

/* A line and its words; its text is its own TextEquiv, else its words'. */
static int page_text_line(struct page *p, const xmlNode *l, struct import_buf *region_text)
{
	double score;
	long at = page_start(p, l, "line");
	if (at < 0)
		return -1;
	size_t li = (size_t)at;
	int rc = 0;
	struct anno_record *rec;
	struct import_buf words = {.max = IMPORT_MAX_TEXT};
	for (xmlNodePtr w = l->children; w && rc >= 0; w = w->next)
		if (page_is(w, "Word"))
			rc = page_word(p, w, li, &words);
	const char *own = rc < 0 ? NULL : page_text_equiv(p, l, &score, &rc);
	const char *text = own && *own ? own : words.data ? words.data : "";
	rec = &p->st->out->items[li];
	if (rc >= 0) {
		free(rec->text);
		struct import_buf t = {.max = IMPORT_MAX_TEXT};
		if (import_buf_add(&t, "", 0) < 0 || import_buf_add_collapsed(&t, text, strlen(text)) < 0)
			rc = import_fail(p->st, page_line(l), "TextLine: text too long");
		rec->text = t.data;
		rec->has_score = own && score >= 0;
		rec->score = rec->has_score ? score : 0;
	}
	if (rc >= 0 && rec->text && *rec->text &&
	    import_buf_add(region_text, "\n", region_text->len ? 1 : 0) == 0)
		import_buf_add(region_text, rec->text, strlen(rec->text));
	if (rc >= 0 && (!rec->text || !*rec->text || !rec->has_xywh))
		import_truncate(p->st, li); /* no text, or no place on the Canvas: its words go too */
	import_buf_release(&words);
	return rc < 0 ? -1 : 0;
}

/* A text region: its record first (text filled in after its lines), then its lines. */
static int page_region(struct page *p, const xmlNode *r)
{
	double score;
	long at = page_start(p, r, "block");
	if (at < 0)
		return -1;
	size_t ri = (size_t)at;
	int rc = 0;
	struct anno_record *rec;
	struct import_buf lines = {.max = IMPORT_MAX_TEXT};
	for (xmlNodePtr l = r->children; l && rc >= 0; l = l->next)
		if (page_is(l, "TextLine"))
			rc = page_text_line(p, l, &lines);
	const char *own = rc < 0 ? NULL : page_text_equiv(p, r, &score, &rc);
	rec = &p->st->out->items[ri];
	if (rc >= 0) {
		const char *text = own && *own ? own : lines.data ? lines.data : "";
		free(rec->text);
		rec->text = strdup(text);
		if (!rec->text)
			rc = import_fail(p->st, page_line(r), "out of memory");
		rec->has_score = own && score >= 0;
		rec->score = rec->has_score ? score : 0;
	}
	import_buf_release(&lines);
	if (rc >= 0 && (!*rec->text || !rec->has_xywh)) {
		/* kept only as the home of its lines: move them down one place */
		anno_record_release(rec);
		size_t n = p->st->out->count - ri - 1;
		memmove(rec, rec + 1, n * sizeof *rec);
		p->st->out->count--;
		for (size_t i = ri; i < p->st->out->count; i++) {
			struct anno_record *w = &p->st->out->items[i];
			w->seq--;
			if (w->line_id) {
				snprintf(w->line_id, strlen(w->line_id) + 1, "#%zu",
					 (size_t)strtoull(w->line_id + 1, NULL, 10) - 1);
			}
		}
	}
	return rc < 0 ? -1 : 0;
}

/* Collects text regions below n (they nest in table and other regions) in document order. */
static int page_collect(struct page *p, xmlNodePtr n)
{
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (page_is(c, "TextRegion")) {
			if (p->n_regions == p->cap_regions) {
				size_t cap = p->cap_regions ? 2 * p->cap_regions : 32;
				xmlNodePtr *r = realloc(p->regions, cap * sizeof *r);
				if (!r)
					return import_fail(p->st, 0, "out of memory");
				p->regions = r;
				p->cap_regions = cap;
			}
			p->regions[p->n_regions++] = c;
		}
		if (strstr((const char *)c->name, "Region") && page_collect(p, c) < 0)
			return -1;
	}
	return 0;
}

/* A region's rank in the reading order: its position, or n_order+doc position when not in it. */
struct page_rank {
	xmlNodePtr region;
	size_t rank;
};

static int page_by_rank(const void *a, const void *b)
{
	size_t x = ((const struct page_rank *)a)->rank, y = ((const struct page_rank *)b)->rank;
	return x < y ? -1 : x > y;
}

/* Index attribute of a *Indexed element, for sorting an ordered group's children. */
static long page_index_of(const xmlNode *n)
{
	xmlChar *s = xmlGetProp(n, (const xmlChar *)"index");
	long v = s ? strtol((const char *)s, NULL, 10) : 0;
	xmlFree(s);
	return v;
}

static int page_by_index(const void *a, const void *b)
{
	long x = page_index_of(*(xmlNodePtr const *)a), y = page_index_of(*(xmlNodePtr const *)b);
	return x < y ? -1 : x > y;
}

/* Appends the regionRef ids of a group in order (ordered groups by index) to ids. */
static void page_order(xmlNodePtr group, GPtrArray *ids, int depth)
{
	bool ordered = strncmp((const char *)group->name, "OrderedGroup", 12) == 0;
	GPtrArray *kids = g_ptr_array_new();
	for (xmlNodePtr c = group->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			g_ptr_array_add(kids, c);
	if (ordered)
		g_ptr_array_sort(kids, page_by_index);
	for (guint i = 0; i < kids->len; i++) {
		xmlNodePtr c = g_ptr_array_index(kids, i);
		const char *name = (const char *)c->name;
		if (strncmp(name, "RegionRef", 9) == 0) {
			xmlChar *ref = xmlGetProp(c, (const xmlChar *)"regionRef");
			if (ref)
				g_ptr_array_add(ids, ref);
		} else if (strstr(name, "Group") && depth < 64) {
			page_order(c, ids, depth + 1);
		}
	}
	g_ptr_array_free(kids, TRUE);
}

/* Sorts the collected regions into the file's ReadingOrder (unlisted ones after, as found). */
static int page_sort(struct page *p, xmlNodePtr page)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(xmlFree);
	xmlNodePtr ro = page_child(page, "ReadingOrder");
	for (xmlNodePtr g = ro ? ro->children : NULL; g; g = g->next)
		if (g->type == XML_ELEMENT_NODE)
			page_order(g, ids, 0);
	GHashTable *pos = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = ids->len; i-- > 0;)
		g_hash_table_insert(pos, g_ptr_array_index(ids, i), GUINT_TO_POINTER(i + 1));
	struct page_rank *r = p->n_regions ? calloc(p->n_regions, sizeof *r) : NULL;
	if (p->n_regions && !r) {
		g_hash_table_destroy(pos);
		g_ptr_array_free(ids, TRUE);
		return import_fail(p->st, 0, "out of memory");
	}
	for (size_t i = 0; i < p->n_regions; i++) {
		xmlChar *id = xmlGetProp(p->regions[i], (const xmlChar *)"id");
		guint at = id ? GPOINTER_TO_UINT(g_hash_table_lookup(pos, id)) : 0;
		xmlFree(id);
		r[i] = (struct page_rank){p->regions[i], at ? at - 1 : ids->len + i};
	}
	if (p->n_regions)
		qsort(r, p->n_regions, sizeof *r, page_by_rank); /* ranks are distinct: stable */
	for (size_t i = 0; i < p->n_regions; i++)
		p->regions[i] = r[i].region;
	free(r);
	g_hash_table_destroy(pos);
	g_ptr_array_free(ids, TRUE);
	return 0;
}

/* Page@imageWidth/imageHeight give the scale to the Canvas. */
static int page_scale(struct page *p, xmlNodePtr page)
{
	double w = 0, h = 0;
	int hw = page_number(p, page, "imageWidth", &w);
	int hh = hw < 0 ? -1 : page_number(p, page, "imageHeight", &h);
	if (hw < 0 || hh < 0)
		return -1;
	if (!hw || !hh || !(w > 0) || !(h > 0))
		return import_fail(p->st, page_line(page),
				   "Page: imageWidth and imageHeight must be positive numbers");
	p->sx = (double)p->target->width / w;
	p->sy = (double)p->target->height / h;
	return 0;
}

static int page_metadata(struct page *p, xmlNodePtr root)
{
	xmlNodePtr creator = page_child(page_child(root, "Metadata"), "Creator");
	const char *t = creator ? page_text_of(p, creator) : NULL;
	if (creator && !t)
		return -1;
	if (t) {
		struct import_buf g = {.max = 1024};
		if (import_buf_add(&g, "", 0) == 0 && import_buf_add_collapsed(&g, t, strlen(t)) == 0 &&
		    g.len)
			p->generator = g.data;
		else
			import_buf_release(&g);
	}
	return 0;
}

static int page_document(struct page *p, xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (doc->intSubset || doc->extSubset)
		return import_fail(p->st, page_line(root), "DTDs are not allowed in PAGE XML");
	if (!root || !page_is(root, "PcGts"))
		return import_fail(p->st, page_line(root), "root element is <%.40s>, not <PcGts>",
				   root ? (const char *)root->name : "");
	if (!root->ns || !strstr((const char *)root->ns->href, PAGE_NS))
		return import_fail(p->st, page_line(root), "PcGts: not in the PAGE namespace");
	xmlNodePtr page = page_child(root, "Page");
	if (!page)
		return import_fail(p->st, page_line(root), "no Page element");
	if (page_metadata(p, root) < 0 || page_scale(p, page) < 0 || page_collect(p, page) < 0 ||
	    page_sort(p, page) < 0)
		return -1;
	p->st->hold = true; /* words name their lines by index: one batch for the page */
	for (size_t i = 0; i < p->n_regions; i++)
		if (page_region(p, p->regions[i]) < 0)
			return -1;
	p->st->hold = false;
	return 0;
}

/* libxml2's errors: the first fatal one, with its line. */
static void page_error(void *ctx, xmlErrorPtr e)
{
	struct page *p = ((xmlParserCtxtPtr)ctx)->_private; /* ctx: the tree builder's userData */
	if (!e || e->level != XML_ERR_FATAL)
		return;
	size_t n = e->message ? strcspn(e->message, "\n") : 0;
	import_fail(p->st, e->line, "XML: %.*s", (int)(n > 200 ? 200 : n),
		    e->message ? e->message : "");
}

/* A DOCTYPE is refused where it stands, before any entity it declares is looked at. */
static void page_no_dtd(void *ctx, const xmlChar *name, const xmlChar *ext_id,
			const xmlChar *system_id)
{
	(void)name, (void)ext_id, (void)system_id;
	xmlParserCtxtPtr ctxt = ctx;
	struct page *p = ctxt->_private;
	import_fail(p->st, xmlSAX2GetLineNumber(ctx), "DTDs are not allowed in PAGE XML");
	xmlStopParser(ctxt);
}

static xmlDocPtr page_read(struct page *p, const struct anno_input *in)
{
	struct stat sb;
	if (in->path && (stat(in->path, &sb) < 0 || !S_ISREG(sb.st_mode))) {
		import_fail(p->st, 0, "cannot read %s", in->name);
		return NULL;
	}
	if ((in->path ? (size_t)sb.st_size : in->len) > PAGE_MAX_BYTES) {
		import_fail(p->st, 0, "PAGE file larger than %d MiB", PAGE_MAX_BYTES >> 20);
		return NULL;
	}
	import_xml_init();
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		import_fail(p->st, 0, "out of memory");
		return NULL;
	}
	ctxt->_private = p;
	ctxt->sax->serror = page_error;
	ctxt->sax->internalSubset = page_no_dtd;
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	xmlDocPtr doc = in->path ? xmlCtxtReadFile(ctxt, in->path, NULL, opts)
				 : xmlCtxtReadMemory(ctxt, in->data ? in->data : "", (int)in->len,
						     in->name, NULL, opts);
	xmlFreeParserCtxt(ctxt);
	if (!doc && !p->st->failed)
		import_fail(p->st, 0, in->len || in->path ? "not well-formed XML" : "empty file");
	return doc;
}

static int page_run(const struct anno_input *in, const struct anno_target *target,
		    struct anno_list *out, const struct anno_sink *sink,
		    struct anno_import_error *err)
{
	struct import_state st;
	struct page p = {.st = &st, .target = target, .text = {.max = IMPORT_MAX_TEXT}};
	import_begin(&st, out, sink, err);
	int rc = -1;
	if (!target->file || target->width <= 0 || target->height <= 0) {
		import_fail(&st, 0, "the target has no file or no Canvas size");
	} else {
		xmlDocPtr doc = page_read(&p, in);
		if (doc && !st.failed)
			rc = page_document(&p, doc);
		xmlFreeDoc(doc);
	}
	st.hold = false;
	free(p.regions);
	free(p.generator);
	import_buf_release(&p.text);
	return import_finish(&st, rc);
}

int anno_import_page(const char *path, const struct anno_target *target, struct anno_list *out,
		     struct anno_import_error *err)
{
	struct anno_input in = {.name = path, .path = path};
	return page_run(&in, target, out, NULL, err);
}

int anno_parse_page(const struct anno_input *in, const struct anno_target *target,
		    const struct anno_sink *sink, struct anno_import_error *err)
{
	return page_run(in, target, NULL, sink, err);
}

bool anno_is_page_xml(const struct anno_input *in)
{
	char head[4096];
	size_t n = import_head(in, head, sizeof head);
	return memmem(head, n, PAGE_NS, strlen(PAGE_NS)) != NULL;
}
