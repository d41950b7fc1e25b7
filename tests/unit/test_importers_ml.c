/*
 * test_importers_ml.c: outlines (annotation/polygon.c) and the machine-learning importers:
 * PAGE XML with reading order, polygons and scores, and its broken and hostile variants, each
 * failing with its line and reason and leaving nothing behind.
 */
#include "importers_fixture.h"

#include <glib.h>

#include "annotation/mask.h"
#include "annotation/polygon.h"

static void test_polygon_svg(void)
{
	char *svg = polygon_svg("0,0 10,0 10,5;1,1 2,1 2,2");
	CHECK_S(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"><polygon points=\"0,0 10,0 10,5\"/>"
		     "<polygon points=\"1,1 2,1 2,2\"/></svg>", "two rings");
	g_free(svg);
	svg = polygon_svg("0,0 1,0 1,1\"/><script>alert(1)</script><polygon points=\"");
	/* a store edited by hand: its markup stays out of the SVG */
	CHECK_S(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"><polygon points=\"0,0 1,0 1,11 \"/>"
		     "</svg>", "markup left out");
	g_free(svg);
}

static void test_polygon(void)
{
	struct polygon_builder b = {0};
	double box[4];
	polygon_ring_start(&b);
	polygon_point(&b, -5, 10, 100, 50);
	polygon_point(&b, 50, 10, 100, 50);
	polygon_point(&b, 50, 10, 100, 50); /* repeated: skipped */
	polygon_point(&b, 120.456, 80, 100, 50);
	polygon_ring_start(&b); /* a ring of two points is dropped */
	polygon_point(&b, 1, 1, 100, 50);
	polygon_point(&b, 2, 2, 100, 50);
	polygon_ring_start(&b);
	polygon_point(&b, 1, 1, 100, 50);
	polygon_point(&b, 3, 1, 100, 50);
	polygon_point(&b, 3, 2.5, 100, 50);
	char *t = polygon_finish(&b, box);
	CHECK_S(t, "0,10 50,10 100,50;1,1 3,1 3,2.5", "clamped rings");
	CHECK_D(box[0], 0, "x0");
	CHECK_D(box[1], 1, "y0");
	CHECK_D(box[2], 100, "x1");
	CHECK_D(box[3], 50, "y1");
	char *svg = t ? polygon_svg(t) : NULL;
	CHECK_S(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"><polygon points=\"0,10 50,10 "
		     "100,50\"/><polygon points=\"1,1 3,1 3,2.5\"/></svg>", "svg");
	double *xy;
	size_t n, *rl, rings;
	CHECK_INT(polygon_parse(t, &xy, &n, &rl, &rings), 0, "parse");
	CHECK(n == 6 && rings == 2 && rl[0] == 3 && rl[1] == 3 && xy[4] == 100 && xy[11] == 2.5,
	      "parsed %zu points in %zu rings", n, rings);
	free(xy);
	free(rl);
	g_free(svg);
	free(t);
	/* collinear points have no area: nothing is left */
	polygon_ring_start(&b);
	polygon_point(&b, 0, 0, 100, 50);
	polygon_point(&b, 1, 1, 100, 50);
	polygon_point(&b, 2, 2, 100, 50);
	CHECK(polygon_finish(&b, box) == NULL, "collinear ring");
	const char *bad[] = {"", "1,2 3,4", "1,2 3,4 x,5", "1,2 3,4 5,6;", "1,2  3,4 5,6"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_INT(polygon_parse(bad[i], &xy, &n, &rl, &rings), -1, bad[i]);
}

/* ---- PAGE XML ------------------------------------------------------------------------------ */

#define PAGE_HEAD                                                                                 \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                            \
	"<PcGts xmlns=\"http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15\">\n"    \
	"  <Metadata><Creator>Kraken 4.3</Creator></Metadata>\n"

static const char page_doc[] =
	PAGE_HEAD
	"  <Page imageFilename=\"p1.jpg\" imageWidth=\"2000\" imageHeight=\"3000\">\n"
	"    <ReadingOrder><OrderedGroup id=\"ro\">\n"
	"      <RegionRefIndexed index=\"1\" regionRef=\"r1\"/>\n"
	"      <RegionRefIndexed index=\"0\" regionRef=\"r2\"/>\n"
	"    </OrderedGroup></ReadingOrder>\n"
	"    <TextRegion id=\"r1\"><Coords points=\"100,1000 1900,1000 1900,1400 100,1400\"/>\n"
	"      <TextLine id=\"l1\"><Coords points=\"100,1000 1900,1000 1900,1200 100,1200\"/>\n"
	"        <Word id=\"w1\"><Coords points=\"100,1000 500,1000 500,1200\"/>\n"
	"          <TextEquiv conf=\"0.5\"><Unicode>second</Unicode></TextEquiv></Word>\n"
	"        <Word id=\"w2\"><Coords points=\"600,1000 900,1000 900,1200 600,1200\"/>\n"
	"          <TextEquiv><Unicode>region</Unicode></TextEquiv></Word>\n"
	"      </TextLine>\n"
	"    </TextRegion>\n"
	"    <TextRegion id=\"r2\"><Coords points=\"100,100 1900,100 1900,500 100,500\"/>\n"
	"      <TextLine id=\"l2\"><Coords points=\"100,100 1900,100 1900,300 100,300\"/>\n"
	"        <TextEquiv conf=\"0.9\"><Unicode>first  line</Unicode></TextEquiv></TextLine>\n"
	"      <TextLine id=\"l3\"><Coords><Point x=\"100\" y=\"300\"/><Point x=\"1000\" "
	"y=\"300\"/><Point x=\"1000\" y=\"500\"/></Coords>\n"
	"        <TextEquiv><Unicode>&amp; more</Unicode></TextEquiv></TextLine>\n"
	"    </TextRegion>\n"
	"    <TextRegion id=\"empty\"><Coords points=\"0,0 10,0 10,10\"/></TextRegion>\n"
	"  </Page>\n"
	"</PcGts>\n";

static const struct anno_target page_target = {"books/b1/p1.jpg", 0, 1000, 1500};

static void test_page(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	const char *f = "books/b1/p1.jpg", *g = "Kraken 4.3";
	struct anno_input in = {"p1.xml", fx("p1.xml", page_doc), NULL, 0};
	CHECK(anno_is_page_xml(&in), "sniffed as PAGE");
	CHECK_INT(anno_import_page(in.path, &page_target, &out, &err), 0, err.msg);
	/* region r2 comes first (index 0); everything halves (2000x3000 on 1000x1500) */
	struct want w[] = {
		{f, 0, "supplementing", "block", "first line\n& more", NULL, true, 50, 50, 900, 200,
		 false, 0, g, 1, NULL},
		{f, 0, "supplementing", "line", "first line", NULL, true, 50, 50, 900, 100, true,
		 0.9, g, 2, NULL},
		{f, 0, "supplementing", "line", "& more", NULL, true, 50, 150, 450, 100, false, 0, g,
		 3, NULL},
		{f, 0, "supplementing", "block", "second region", NULL, true, 50, 500, 900, 200,
		 false, 0, g, 4, NULL},
		{f, 0, "supplementing", "line", "second region", NULL, true, 50, 500, 900, 100,
		 false, 0, g, 5, NULL},
		{f, 0, "supplementing", "word", "second", NULL, true, 50, 500, 200, 100, true, 0.5,
		 g, 6, "#4"},
		{f, 0, "supplementing", "word", "region", NULL, true, 300, 500, 150, 100, false, 0,
		 g, 7, "#4"},
	};
	CHECK_INT(out.count, sizeof w / sizeof *w, "records");
	for (size_t i = 0; i < sizeof w / sizeof *w; i++)
		check_rec(&out, i, &w[i], "page");
	if (out.count == 7) {
		CHECK_S(out.items[0].polygon, "50,50 950,50 950,250 50,250", "region outline");
		CHECK_S(out.items[2].polygon, "50,150 500,150 500,250", "Point outline");
		CHECK_S(out.items[5].polygon, "50,500 250,500 250,600", "word outline");
	}
	anno_list_release(&out);
	CHECK(!anno_is_page_xml(&(struct anno_input){"a", NULL, "<alto xmlns=\"x\"/>", 17}),
	      "ALTO is not PAGE");
}

static const struct bad_case page_bad[] = {
	{"not xml", "<PcGts", 1, "XML:"},
	{"alto root", "<alto xmlns=\"http://schema.primaresearch.org/PAGE/gts/pagecontent/x\"/>", 1,
	 "not <PcGts>"},
	{"no ns", "<PcGts><Page imageWidth=\"1\" imageHeight=\"1\"/></PcGts>", 1,
	 "not in the PAGE namespace"},
	{"no page", PAGE_HEAD "</PcGts>", 2, "no Page element"},
	{"no size", PAGE_HEAD "<Page imageWidth=\"10\"/></PcGts>", 4, "imageHeight must be"},
	{"bad size", PAGE_HEAD "<Page imageWidth=\"10\" imageHeight=\"x\"/></PcGts>", 4,
	 "imageHeight 'x' is not a number"},
	{"bad point", PAGE_HEAD "<Page imageWidth=\"10\" imageHeight=\"10\">\n<TextRegion>\n"
			  "<Coords points=\"1,1 2;2 3,3\"/></TextRegion></Page></PcGts>", 6,
	 "point '2;2' is not x,y"},
	{"bad conf", PAGE_HEAD "<Page imageWidth=\"10\" imageHeight=\"10\"><TextRegion>"
			 "<Coords points=\"1,1 5,1 5,5\"/><TextLine><Coords points=\"1,1 5,1 5,5\"/>\n"
			 "<TextEquiv conf=\"1.5\"><Unicode>x</Unicode></TextEquiv></TextLine>"
			 "</TextRegion></Page></PcGts>", 5, "conf 1.5 is not from 0 to 1"},
	{"dtd", "<?xml version=\"1.0\"?>\n<!DOCTYPE PcGts [<!ENTITY a \"aaaa\">]>\n"
		"<PcGts xmlns=\"http://schema.primaresearch.org/PAGE/gts/pagecontent/2013\"/>", 2,
	 "DTDs are not allowed"},
	/* billion laughs: refused without expanding a single entity (memory stays small) */
	{"laughs", "<?xml version=\"1.0\"?>\n<!DOCTYPE PcGts [\n<!ENTITY a \"lollollollol\">\n"
		   "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
		   "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
		   "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
		   "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
		   "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
		   "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
		   "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
		   "<!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>\n"
		   "<PcGts xmlns=\"http://schema.primaresearch.org/PAGE/gts/pagecontent/2013\">"
		   "<Page imageWidth=\"10\" imageHeight=\"10\"><TextRegion><TextEquiv><Unicode>"
		   "&i;&i;&i;&i;&i;&i;&i;&i;&i;&i;</Unicode></TextEquiv></TextRegion></Page></PcGts>",
	 2, "DTDs are not allowed"},
};

static void test_page_errors(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	anno_list_add(&out); /* records already there stay; none are added */
	for (size_t i = 0; i < sizeof page_bad / sizeof *page_bad; i++) {
		const struct bad_case *c = &page_bad[i];
		int rc = anno_import_page(fx("bad.xml", c->text), &page_target, &out, &err);
		check_fails(rc, &out, 1, &err, c->line, c->msg, c->name);
	}
	int rc = anno_import_page(fx("empty.xml", ""), &page_target, &out, &err);
	check_fails(rc, &out, 1, &err, 1, "XML:", "empty");
	anno_list_release(&out);
}

/* ---- masks and COCO segmentation ------------------------------------------------------------ */

/* The outline of a mask drawn as rows of '#' and '.', through column-major runs as COCO. */
static char *traced(const char *const *rows, long w, long h)
{
	uint32_t counts[64];
	size_t n = 0;
	int64_t run = 0;
	int want = 0;
	for (long k = 0; k < w * h; k++) {
		int in = rows[k % h][k / h] == '#';
		if (in != want) {
			counts[n++] = (uint32_t)run;
			run = 0;
			want = in;
		}
		run++;
	}
	counts[n++] = (uint32_t)run;
	struct mask m;
	const char *why = NULL;
	struct polygon_builder b = {0};
	double box[4];
	if (mask_from_counts(&m, w, h, counts, n, &why) < 0 || mask_trace(&m, &b, 1, 1, 99, 99) < 0)
		return NULL;
	mask_release(&m);
	return polygon_finish(&b, box);
}

/* Regions are filled once traced: a ring is one outline (its hole and the island in the hole
 * apart), a U whose right arm rises above where the fill starts is one too. */
static void test_mask_regions(void)
{
	static const char *const ring[] = {"#####", "#...#", "#.#.#", "#...#", "#####"};
	char *t = traced(ring, 5, 5);
	CHECK_S(t, "0,0 5,0 5,5 0,5;2,2 3,2 3,3 2,3", "ring and island");
	free(t);
	static const char *const u[] = {"#..#", "#..#", "####"};
	t = traced(u, 4, 3);
	CHECK_S(t, "0,0 1,0 1,2 3,2 3,0 4,0 4,3 0,3", "U");
	free(t);
	static const char *const zigzag[] = {"#.#.#", ".#.#.", "#...#", "#####"};
	t = traced(zigzag, 5, 4);
	CHECK(t && !strchr(t, ';'), "zigzag joined diagonally is one region: %s", t ? t : "");
	free(t);
}

static void test_mask(void)
{
	uint32_t *counts;
	size_t n;
	const char *why = NULL;
	/* pycocotools' encoding of [3, 2, 5, 2] (the 4th is stored as the difference to the 2nd) */
	CHECK_INT(mask_counts_from_string("3250", 4, &counts, &n, &why), 0, "compressed");
	CHECK(n == 4 && counts[0] == 3 && counts[1] == 2 && counts[2] == 5 && counts[3] == 2,
	      "decoded %zu counts", n);
	struct mask m;
	CHECK_INT(mask_from_counts(&m, 4, 3, counts, n, &why), 0, "mask");
	free(counts);
	struct polygon_builder b = {0};
	double box[4];
	CHECK_INT(mask_trace(&m, &b, 10, 10, 100, 100), 0, "trace");
	char *t = polygon_finish(&b, box);
	/* column 1 rows 0-1 and column 3 rows 1-2: two regions, traced clockwise */
	CHECK_S(t, "10,0 20,0 20,20 10,20;30,10 40,10 40,30 30,30", "outline");
	free(t);
	mask_release(&m);
	/* an L: (0,0) (0,1) (1,1) (2,1) of a 3x2 mask */
	uint32_t l[] = {0, 2, 1, 1, 1, 1};
	CHECK_INT(mask_from_counts(&m, 3, 2, l, 6, &why), 0, "L mask");
	b = (struct polygon_builder){0};
	CHECK_INT(mask_trace(&m, &b, 1, 1, 100, 100), 0, "trace L");
	t = polygon_finish(&b, box);
	CHECK_S(t, "0,0 1,0 1,1 3,1 3,2 0,2", "L outline");
	free(t);
	mask_release(&m);
	/* diagonal neighbours (0,0) and (1,1) are one region, pinched at 1,1 */
	uint32_t diag[] = {0, 1, 2, 1};
	CHECK_INT(mask_from_counts(&m, 2, 2, diag, 4, &why), 0, "diagonal mask");
	b = (struct polygon_builder){0};
	CHECK_INT(mask_trace(&m, &b, 1, 1, 100, 100), 0, "trace diagonal");
	t = polygon_finish(&b, box);
	CHECK_S(t, "0,0 1,0 1,1 2,1 2,2 1,2 1,1 0,1", "diagonal outline");
	free(t);
	mask_release(&m);
	uint32_t over[] = {5, 9};
	CHECK_INT(mask_from_counts(&m, 2, 2, over, 2, &why), -1, "counts past the size");
	CHECK_INT(mask_from_counts(&m, 100000, 100000, over, 2, &why), -1, "too large");
	CHECK_INT(mask_counts_from_string("3 2", 3, &counts, &n, &why), -1, "bad string");
	/* twelve-character runs of 2^59 each, every one added to the count two before it: the sum
	 * would pass what an int64_t holds; refused as soon as a count is past any mask */
	GString *big = g_string_new(NULL);
	for (int i = 0; i < 80; i++)
		g_string_append(big, "ooooooooooo?"); /* 2^59 - 1 */
	CHECK_INT(mask_counts_from_string(big->str, big->len, &counts, &n, &why), -1,
		  "counts past any mask");
	CHECK(why && strstr(why, "larger than any mask"), "reason: %s", why ? why : "(none)");
	g_string_free(big, TRUE);
}

static int resolve_one(void *ctx, const char *name, struct anno_target *t)
{
	(void)ctx;
	if (strcmp(name, "a.jpg") != 0)
		return -1;
	*t = (struct anno_target){"set/a.jpg", 0, 1000, 500};
	return 0;
}

#define COCO_HEAD                                                                           \
	"{\"info\": {\"description\": \"Mask R-CNN R50\"},\n"                                     \
	"\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 100, \"height\": 50}],\n"   \
	"\"categories\": [{\"id\": 1, \"name\": \"cat\"}],\n"

static void test_coco_segmentation(void)
{
	const char doc[] = COCO_HEAD
		"\"annotations\": [\n"
		"{\"image_id\": 1, \"category_id\": 1, \"score\": 0.9,"
		" \"segmentation\": [[10, 10, 20, 10, 20, 20], [30, 30, 40, 30, 40, 40, 30, 40]]},\n"
		"{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 50, 25],"
		" \"segmentation\": {\"size\": [5, 10], \"counts\": [11, 2, 3, 2, 32]}},\n"
		"{\"image_id\": 1, \"category_id\": 1,"
		" \"segmentation\": {\"size\": [3, 4], \"counts\": \"3250\"}}\n"
		"]}";
	struct anno_list out = {0};
	struct anno_import_error err;
	CHECK_INT(anno_import_coco(fx("seg.json", doc), resolve_one, NULL, &out, &err), 0, err.msg);
	CHECK_INT(out.count, 3, "records");
	if (out.count == 3) {
		/* 100x50 image on a 1000x500 Canvas: x10 */
		CHECK_S(out.items[0].polygon, "100,100 200,100 200,200;300,300 400,300 400,400 300,400",
			"polygons");
		CHECK(out.items[0].has_xywh && out.items[0].x == 100 && out.items[0].w == 300,
		      "box from the outline");
		CHECK_S(out.items[0].generator, "Mask R-CNN R50", "generator");
		CHECK_D(out.items[0].score, 0.9, "score");
		/* mask 10x5: column 2 rows 1-2, column 3 rows 1-2 -> x 2..4, y 1..3 */
		CHECK_S(out.items[1].polygon, "200,100 400,100 400,300 200,300", "uncompressed mask");
		CHECK(out.items[1].w == 500 && out.items[1].h == 250, "the bbox wins");
		CHECK_S(out.items[2].polygon, "250,0 500,0 500,333.33 250,333.33;"
					      "750,166.67 1000,166.67 1000,500 750,500",
			"compressed mask");
	}
	anno_list_release(&out);
	const struct bad_case bad[] = {
		{"odd", COCO_HEAD "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, "
				  "\"segmentation\": [[1, 2, 3]]}]}", 0, "annotations[0].segmentation: "
				  "a polygon with an odd number"},
		{"string", COCO_HEAD "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, "
				     "\"segmentation\": [[1, \"2\", 3, 4, 5, 6]]}]}", 0, "a string"},
		{"rle size", COCO_HEAD "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, "
				       "\"segmentation\": {\"counts\": [1]}}]}", 0, "mask size"},
		{"rle sum", COCO_HEAD "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, "
				      "\"segmentation\": {\"size\": [2, 2], \"counts\": [1, 1]}}]}", 0,
		 "do not add up"},
		{"rle count", COCO_HEAD "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, "
					"\"segmentation\": {\"size\": [2, 2], \"counts\": [1e300]}}]}",
		 0, "annotations[0].segmentation: a count larger than any mask"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = anno_import_coco(fx("bad.json", bad[i].text), resolve_one, NULL, &out, &err);
		check_fails(rc, &out, 0, &err, bad[i].line, bad[i].msg, bad[i].name);
	}
}

/* ---- the streaming importers: a sink that keeps what it is given ---------------------------- */

static int keep_put(void *ctx, struct anno_list *batch, char *msg, size_t size)
{
	(void)msg, (void)size;
	struct anno_list *out = ctx;
	for (size_t i = 0; i < batch->count; i++) {
		struct anno_record *r = anno_list_add(out);
		if (!r)
			return -1;
		*r = batch->items[i];
		memset(&batch->items[i], 0, sizeof batch->items[i]);
	}
	return 0;
}

static struct anno_input in_text(const char *name, const char *text)
{
	return (struct anno_input){name, NULL, text, strlen(text)};
}

static void test_yolo(void)
{
	struct anno_list out = {0};
	struct anno_sink sink = {keep_put, &out};
	struct anno_import_error err;
	char **classes;
	size_t n;
	struct anno_input cl = in_text("classes.txt", "cat\r\ndog\n\n");
	CHECK_INT(anno_yolo_classes(&cl, &classes, &n, &err), 0, err.msg);
	CHECK_INT(n, 2, "classes");
	struct anno_input in = in_text("a.txt", "0 0.5 0.5 0.2 0.4\n\n1 0.1 0.1 0.2 0.2 0.75\n"
					       "1 0.1 0.1 0.3 0.1 0.3 0.4 0.9\n");
	const struct anno_target t = {"set/a.jpg", 0, 1000, 500};
	CHECK_INT(anno_parse_yolo(&in, &t, classes, n, &sink, &err), 0, err.msg);
	CHECK_INT(out.count, 3, "records");
	if (out.count == 3) {
		const struct anno_record *r = out.items;
		CHECK(r[0].x == 400 && r[0].y == 150 && r[0].w == 200 && r[0].h == 200 &&
		      !r[0].has_score && !r[0].polygon, "box");
		CHECK_S(r[0].text, "cat", "class 0");
		CHECK_S(r[0].motivation, "tagging", "motivation");
		/* clamped at the left and top edges */
		CHECK(r[1].x == 0 && r[1].y == 0 && r[1].w == 200 && r[1].h == 100 && r[1].has_score &&
		      r[1].score == 0.75, "clamped box with score");
		CHECK_S(r[2].polygon, "100,50 300,50 300,200", "outline");
		CHECK(r[2].has_score && r[2].score == 0.9 && r[2].x == 100 && r[2].w == 200,
		      "outline box and score");
	}
	anno_list_release(&out);
	const struct bad_case bad[] = {
		{"class", "0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n", 2, "class 2 is not in the class"},
		{"count", "0 0.5 0.5 0.1\n", 1, "4 values"},
		{"number", "0 0.5 x 0.1 0.1\n", 1, "value 3: 'x' is not a number"},
		{"pixels", "0 50 50 10 10\n", 1, "value 2: 50 is not relative"},
		{"score", "0 0.5 0.5 0.1 0.1 7\n", 1, "score 7 is not from 0 to 1"},
		/* past what a size_t holds: refused before it is ever converted */
		{"huge class", "1e30 0.5 0.5 0.1 0.1\n", 1, "class 1e+30 is not in the class"},
		{"fraction", "0.5 0.5 0.5 0.1 0.1\n", 1, "class 0.5 is not in the class"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct anno_input b = in_text("b.txt", bad[i].text);
		int rc = anno_parse_yolo(&b, &t, classes, n, &sink, &err);
		check_fails(rc, &out, 0, &err, bad[i].line, bad[i].msg, bad[i].name);
	}
	anno_yolo_classes_free(classes, n);
}

static void test_label_studio(void)
{
	const char doc[] =
		"[{\"id\": 1, \"data\": {\"image\": \"/data/upload/1/0a1b2c3d-a.jpg\"},\n"
		" \"annotations\": [{\"result\": [\n"
		"  {\"type\": \"rectanglelabels\", \"original_width\": 2000, \"value\": {\"x\": 10,"
		" \"y\": 20, \"width\": 50, \"height\": 40, \"rotation\": 0,"
		" \"rectanglelabels\": [\"cat\"]}},\n"
		"  {\"type\": \"choices\", \"value\": {\"choices\": [\"indoor\"]}},\n"
		"  {\"type\": \"textarea\", \"value\": {\"text\": [\"ignored\"]}}]}],\n"
		" \"predictions\": [{\"model_version\": \"sam-vit-b 1.0\", \"score\": 0.6,"
		" \"result\": [\n"
		"  {\"type\": \"polygonlabels\", \"value\": {\"points\": [[10, 10], [20, 10],"
		" [20, 30]], \"polygonlabels\": [\"dog\"]}},\n"
		"  {\"type\": \"rectanglelabels\", \"score\": 0.9, \"value\": {\"x\": 50, \"y\": 50,"
		" \"width\": 10, \"height\": 10, \"rotation\": 90, \"rectanglelabels\": [\"dog\"]}}"
		"]}]}]";
	struct anno_list out = {0};
	struct anno_sink sink = {keep_put, &out};
	struct anno_import_error err;
	struct anno_input in = in_text("ls.json", doc);
	CHECK_INT(anno_parse_label_studio(&in, resolve_one, NULL, &sink, &err), 0, err.msg);
	CHECK_INT(out.count, 4, "records");
	if (out.count == 4) {
		const struct anno_record *r = out.items; /* a.jpg is 1000 x 500 */
		CHECK(r[0].x == 100 && r[0].y == 100 && r[0].w == 500 && r[0].h == 200 &&
		      !r[0].polygon && !r[0].has_score && !r[0].generator, "rectangle");
		CHECK(!r[1].has_xywh && str_eq(r[1].text, "indoor"), "choice on the whole image");
		CHECK_S(r[2].polygon, "100,50 200,50 200,150", "polygon");
		CHECK_S(r[2].generator, "sam-vit-b 1.0", "model_version");
		CHECK(r[2].has_score && r[2].score == 0.6, "prediction score");
		/* 100x50 box at (500,250), turned 90 degrees clockwise about its corner */
		CHECK_S(r[3].polygon, "500,250 500,350 450,350 450,250", "rotated rectangle");
		CHECK(r[3].score == 0.9 && r[3].x == 450 && r[3].w == 50 && r[3].h == 100,
		      "rotated box and its own score");
	}
	anno_list_release(&out);
	const struct bad_case bad[] = {
		{"not a list", "{}", 1, "a list of tasks"},
		{"syntax", "[{\"data\": }]", 1, "JSON:"},
		{"image", "[{\"data\": {\"image\": \"x.jpg\"}}]", 0, "[0].data.image 'x.jpg'"},
		{"x", "[{\"data\": {\"image\": \"a.jpg\"}, \"annotations\": [{\"result\": [{\"type\": "
		      "\"rectanglelabels\", \"value\": {\"x\": \"1\", \"rectanglelabels\": [\"a\"]}}]}]}]",
		 0, "[0].annotations[0].result[0].value.x: not a number"},
		{"points", "[{\"data\": {\"image\": \"a.jpg\"}, \"predictions\": [{\"result\": [{\"type\":"
			   " \"polygonlabels\", \"value\": {\"points\": [[1]], \"polygonlabels\": "
			   "[\"a\"]}}]}]}]", 0, "[0].predictions[0].result[0].value.points[0]: not [x, y]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct anno_input b = in_text("b.json", bad[i].text);
		int rc = anno_parse_label_studio(&b, resolve_one, NULL, &sink, &err);
		check_fails(rc, &out, 0, &err, bad[i].line, bad[i].msg, bad[i].name);
	}
}

static void test_timed(void)
{
	const char whisper[] =
		"{\"text\": \" Hello world. Bye.\", \"language\": \"en\", \"segments\": [\n"
		" {\"id\": 0, \"start\": 0.0, \"end\": 2.5, \"text\": \" Hello world.\", \"words\": [\n"
		"  {\"word\": \" Hello\", \"start\": 0.1, \"end\": 0.9, \"probability\": 0.98},\n"
		"  {\"word\": \" world.\", \"start\": 1.0, \"end\": 2.4, \"probability\": 0.5}]},\n"
		" {\"id\": 1, \"start\": 2.5, \"end\": 4, \"text\": \" Bye.\"}]}";
	const struct anno_target t = {"talks/t.mp4", 0, 0, 0};
	struct anno_list out = {0};
	struct anno_sink sink = {keep_put, &out};
	struct anno_import_error err;
	struct anno_input in = in_text("t.json", whisper);
	CHECK_INT(anno_parse_timed_json(&in, &t, &sink, &err), 0, err.msg);
	CHECK_INT(out.count, 4, "records");
	if (out.count == 4) {
		const struct anno_record *r = out.items;
		CHECK(str_eq(r[0].text, "Hello world.") && str_eq(r[0].granularity, "line") &&
		      r[0].has_time && r[0].start == 0 && r[0].end == 2.5, "segment");
		CHECK(str_eq(r[1].text, "Hello") && str_eq(r[1].granularity, "word") &&
		      str_eq(r[1].line_id, "#0") && r[1].start == 0.1 && r[1].score == 0.98,
		      "word");
		CHECK(str_eq(r[2].line_id, "#0") && r[2].end == 2.4, "second word");
		CHECK(str_eq(r[3].text, "Bye.") && str_eq(r[3].motivation, "supplementing"),
		      "segment without words");
	}
	anno_list_release(&out);
	struct anno_input seg = in_text("s.json", "{\"model\": \"pyannote 3.1\", \"segments\": "
						 "[{\"start\": 1, \"end\": 3, \"speaker\": \"SPEAKER_01\"}]}");
	CHECK_INT(anno_parse_timed_json(&seg, &t, &sink, &err), 0, err.msg);
	CHECK(out.count == 1 && str_eq(out.items[0].motivation, "tagging") &&
	      str_eq(out.items[0].text, "SPEAKER_01") && str_eq(out.items[0].generator,
								"pyannote 3.1"), "speaker turn");
	anno_list_release(&out);
	struct anno_input csv = in_text("s.csv", "Start,End,Label,Score\n0,1.5,applause,0.8\n"
						"00:01:02.5,1:03,\"music, loud\",\n");
	CHECK(anno_is_timed_csv(&csv), "sniffed");
	CHECK_INT(anno_parse_timed_csv(&csv, &t, &sink, &err), 0, err.msg);
	CHECK(out.count == 2 && out.items[0].score == 0.8 && out.items[1].start == 62.5 &&
	      out.items[1].end == 63 && str_eq(out.items[1].text, "music, loud") &&
	      !out.items[1].has_score, "CSV segments");
	anno_list_release(&out);
	const struct bad_case bad[] = {
		{"no segments", "{\"text\": \"x\"}", 0, "no \"segments\" array"},
		{"end", "[{\"start\": 3, \"end\": 1, \"label\": \"x\"}]", 0,
		 "segments[0]: end 1 is before start 3"},
		{"word time", "[{\"start\": 0, \"end\": 1, \"text\": \"a\", \"words\": [{\"word\": \"a\","
			      " \"start\": -1, \"end\": 1}]}]", 0,
		 "segments[0].words[0].start: -1 is less than 0"},
		{"no label", "[{\"start\": 0, \"end\": 1}]", 0, "segments[0]: no text and no label"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct anno_input b = in_text("b.json", bad[i].text);
		int rc = anno_parse_timed_json(&b, &t, &sink, &err);
		check_fails(rc, &out, 0, &err, bad[i].line, bad[i].msg, bad[i].name);
	}
	const struct bad_case bad_csv[] = {
		{"header", "from,to,label\n", 1, "must name start, end and label"},
		{"time", "start,end,label\n0,1,a\n1,x,b\n", 3, "end: 'x' is not a time"},
		{"minutes", "start,end,label\n0:75,1:80,a\n", 2, "start: '0:75'"},
	};
	for (size_t i = 0; i < sizeof bad_csv / sizeof *bad_csv; i++) {
		struct anno_input b = in_text("b.csv", bad_csv[i].text);
		int rc = anno_parse_timed_csv(&b, &t, &sink, &err);
		check_fails(rc, &out, 0, &err, bad_csv[i].line, bad_csv[i].msg, bad_csv[i].name);
	}
}

int main(void)
{
	if (!fixture_dir_make())
		return 1;
	UNIT_RUN(test_polygon);
	UNIT_RUN(test_polygon_svg);
	UNIT_RUN(test_page);
	UNIT_RUN(test_page_errors);
	UNIT_RUN(test_mask);
	UNIT_RUN(test_mask_regions);
	UNIT_RUN(test_coco_segmentation);
	UNIT_RUN(test_yolo);
	UNIT_RUN(test_label_studio);
	UNIT_RUN(test_timed);
	fixture_dir_remove();
	return unit_report("importers_ml");
}
