/*
 * test_importers_ml.c: outlines (annotation/polygon.c) and the machine-learning importers:
 * PAGE XML with reading order, polygons and scores, and its broken and hostile variants, each
 * failing with its line and reason and leaving nothing behind.
 */
#include "importers_fixture.h"

#include <glib.h>

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

int main(void)
{
	if (!fixture_dir_make())
		return 1;
	UNIT_RUN(test_polygon);
	UNIT_RUN(test_page);
	UNIT_RUN(test_page_errors);
	fixture_dir_remove();
	return unit_report("importers_ml");
}
