/*
 * test_importers_ml.c: outlines (annotation/polygon.c) and the machine-learning importers:
 * PAGE XML with reading order, polygons and scores, and its broken and hostile variants, each
 * failing with its line and reason and leaving nothing behind.
 */
#include "importers_fixture.h"

#include <glib.h>

#include "annotation/mask.h"
#include "annotation/polygon.h"

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
		"<PcGts xmlns=\"http://schema.primaresearch.org/PAGE/gts/pagecontent/2013\"/>", 3,
	 "DTDs are not allowed"},
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

static void test_mask(void)
{
	int64_t *counts;
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
	int64_t l[] = {0, 2, 1, 1, 1, 1};
	CHECK_INT(mask_from_counts(&m, 3, 2, l, 6, &why), 0, "L mask");
	b = (struct polygon_builder){0};
	CHECK_INT(mask_trace(&m, &b, 1, 1, 100, 100), 0, "trace L");
	t = polygon_finish(&b, box);
	CHECK_S(t, "0,0 1,0 1,1 3,1 3,2 0,2", "L outline");
	free(t);
	mask_release(&m);
	/* diagonal neighbours (0,0) and (1,1) are one region, pinched at 1,1 */
	int64_t diag[] = {0, 1, 2, 1};
	CHECK_INT(mask_from_counts(&m, 2, 2, diag, 4, &why), 0, "diagonal mask");
	b = (struct polygon_builder){0};
	CHECK_INT(mask_trace(&m, &b, 1, 1, 100, 100), 0, "trace diagonal");
	t = polygon_finish(&b, box);
	CHECK_S(t, "0,0 1,0 1,1 2,1 2,2 1,2 1,1 0,1", "diagonal outline");
	free(t);
	mask_release(&m);
	int64_t over[] = {5, 9};
	CHECK_INT(mask_from_counts(&m, 2, 2, over, 2, &why), -1, "counts past the size");
	CHECK_INT(mask_from_counts(&m, 100000, 100000, over, 2, &why), -1, "too large");
	CHECK_INT(mask_counts_from_string("3 2", 3, &counts, &n, &why), -1, "bad string");
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
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = anno_import_coco(fx("bad.json", bad[i].text), resolve_one, NULL, &out, &err);
		check_fails(rc, &out, 0, &err, bad[i].line, bad[i].msg, bad[i].name);
	}
}

int main(void)
{
	if (!fixture_dir_make())
		return 1;
	UNIT_RUN(test_polygon);
	UNIT_RUN(test_page);
	UNIT_RUN(test_page_errors);
	UNIT_RUN(test_mask);
	UNIT_RUN(test_coco_segmentation);
	fixture_dir_remove();
	return unit_report("importers_ml");
}
