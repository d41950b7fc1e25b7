/*
 * test_importers.c: ALTO, hOCR and WebVTT files written to a temporary folder, imported, and
 * compared field by field with the records expected; broken and hostile variants of each, and
 * the ALTO parse rate (printed, never asserted). COCO and CSV: test_importers_tags.c.
 */
#include "importers_fixture.h"

#include <time.h>

static void test_record(void)
{
	struct anno_list l = {0};
	for (int i = 0; i < 1000; i++) {
		struct anno_record *r = anno_list_add(&l);
		CHECK(r && !r->text && !r->has_xywh && r->seq == 0, "zeroed %d", i);
		if (r)
			r->text = anno_strdup("x");
	}
	CHECK_INT(l.count, 1000, "count");
	CHECK(l.cap >= 1000, "cap");
	CHECK(anno_strdup(NULL) == NULL, "strdup NULL");
	char *s = anno_strdup("abc");
	CHECK_S(s, "abc", "strdup");
	free(s);
	anno_record_release(&l.items[0]);
	CHECK(l.items[0].text == NULL, "released record is zeroed");
	anno_list_release(&l);
	CHECK(l.items == NULL && l.count == 0 && l.cap == 0, "released list is empty");
}

/* ---- ALTO -------------------------------------------------------------------------------- */

static const char alto_v4_mm10[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\">\n"
	"  <Description>\n"
	"    <MeasurementUnit>mm10</MeasurementUnit>\n"
	"    <Processing ID=\"p1\"><processingSoftware><softwareName>ABBYY FineReader"
	"</softwareName><softwareVersion>15</softwareVersion></processingSoftware></Processing>\n"
	"  </Description>\n"
	"  <Layout>\n"
	"    <Page ID=\"P1\" WIDTH=\"2000\" HEIGHT=\"3000\" PHYSICAL_IMG_NR=\"1\">\n"
	"      <PrintSpace>\n"
	"        <TextBlock ID=\"B1\" LANG=\"en\" HPOS=\"100\" VPOS=\"100\" WIDTH=\"1800\" "
	"HEIGHT=\"400\">\n"
	"          <TextLine ID=\"L1\" HPOS=\"100\" VPOS=\"100\" WIDTH=\"1800\" HEIGHT=\"200\">\n"
	"            <String ID=\"S1\" CONTENT=\"Hello\" HPOS=\"100\" VPOS=\"110\" WIDTH=\"400\" "
	"HEIGHT=\"180\" WC=\"0.95\"/><SP WIDTH=\"20\" HPOS=\"500\" VPOS=\"110\"/>\n"
	"            <String ID=\"S2\" CONTENT=\"w&amp;rld\" HPOS=\"520\" VPOS=\"110\" "
	"WIDTH=\"600\" HEIGHT=\"180\" LANG=\"fr\"/><HYP CONTENT=\"-\"/>\n"
	"          </TextLine>\n"
	"          <TextLine ID=\"L2\" HPOS=\"100\" VPOS=\"300\" WIDTH=\"1000\" HEIGHT=\"200\">\n"
	"            <String CONTENT=\"again\" HPOS=\"100\" VPOS=\"300\" WIDTH=\"500\" "
	"HEIGHT=\"200\"/>\n"
	"          </TextLine>\n"
	"        </TextBlock>\n"
	"      </PrintSpace>\n"
	"    </Page>\n"
	"  </Layout>\n"
	"</alto>\n";

static const struct anno_target page_target = {"books/b1/p1.jpg", 3, 1000, 1500};

static void check_alto_v4(const struct anno_list *l, size_t base, const char *name)
{
	const char *gen = "ABBYY FineReader 15", *f = "books/b1/p1.jpg";
	char l0[16], l3[16];
	snprintf(l0, sizeof l0, "#%zu", base);
	snprintf(l3, sizeof l3, "#%zu", base + 3);
	/* mm10 page 2000x3000 on a 1000x1500 Canvas: every number halves */
	struct want w[] = {
		{f, 3, "supplementing", "line", "Hello w&rld", "en", true, 50, 50, 900, 100,
		 false, 0, gen, 1, NULL},
		{f, 3, "supplementing", "word", "Hello", "en", true, 50, 55, 200, 90, true, 0.95,
		 gen, 2, l0},
		{f, 3, "supplementing", "word", "w&rld", "fr", true, 260, 55, 300, 90, false, 0,
		 gen, 3, l0},
		{f, 3, "supplementing", "line", "again", "en", true, 50, 150, 500, 100, false, 0,
		 gen, 4, NULL},
		{f, 3, "supplementing", "word", "again", "en", true, 50, 150, 250, 100, false, 0,
		 gen, 5, l3},
	};
	CHECK_INT(l->count - base, 5, name);
	for (size_t i = 0; i < 5; i++)
		check_rec(l, base + i, &w[i], name);
}

static void test_alto_v4_mm10(void)
{
	struct anno_list out = {0};
	struct anno_import_error err = {7, "stale"};
	int rc = anno_import_alto(fx("v4.xml", alto_v4_mm10), &page_target, &out, &err);
	CHECK_INT(rc, 0, "alto v4");
	CHECK(err.line == 0 && !err.msg[0], "alto v4: err cleared: %d %s", err.line, err.msg);
	check_alto_v4(&out, 0, "alto v4");
	/* appended after existing records, line ids are indexes in the whole list */
	rc = anno_import_alto(fx("v4.xml", alto_v4_mm10), &page_target, &out, &err);
	CHECK_INT(rc, 0, "alto v4 again");
	check_alto_v4(&out, 5, "alto v4 again");
	anno_list_release(&out);
}

static const char alto_v2_pixel[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v2#\" "
	"xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n"
	"<Description><MeasurementUnit>pixel</MeasurementUnit><OCRProcessing ID=\"o\">"
	"<ocrProcessingStep><processingSoftware><softwareName>tesseract</softwareName>"
	"</processingSoftware></ocrProcessingStep></OCRProcessing></Description>\n"
	"<Layout><Page ID=\"p\" WIDTH=\"1000\" HEIGHT=\"800\"><PrintSpace>\n"
	"<TextBlock ID=\"b\"><TextLine HPOS=\"10\" VPOS=\"20\" WIDTH=\"300\" HEIGHT=\"40\">"
	"<String CONTENT=\"one\" HPOS=\"10\" VPOS=\"20\" WIDTH=\"100\" HEIGHT=\"40\"/><SP/>"
	"<String CONTENT=\"two\" HPOS=\"150.5\" VPOS=\"20\" WIDTH=\"160\" HEIGHT=\"40\"/>"
	"</TextLine></TextBlock>\n"
	"</PrintSpace></Page></Layout></alto>\n";

static const char alto_v3_inch1200[] =
	"<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v3#\">\n"
	"<Description><MeasurementUnit>inch1200</MeasurementUnit></Description>\n"
	"<Layout><Page WIDTH=\"9600\" HEIGHT=\"12000\"><PrintSpace><TextBlock>\n"
	"<TextLine LANG=\"de\" HPOS=\"1200\" VPOS=\"2400\" WIDTH=\"4800\" HEIGHT=\"400\">"
	"<String CONTENT=\"Stra\xC3\x9F" "e\" HPOS=\"1200\" VPOS=\"2400\" WIDTH=\"2000\" "
	"HEIGHT=\"400\"/></TextLine>\n"
	"</TextBlock></PrintSpace></Page></Layout></alto>\n";

/* a prefix instead of a default namespace, and no page size: pixel coordinates are Canvas's */
static const char alto_prefixed[] =
	"<a:alto xmlns:a=\"http://www.loc.gov/standards/alto/ns-v4#\"><a:Layout><a:Page>"
	"<a:TextBlock><a:TextLine HPOS=\"10\" VPOS=\"20\" WIDTH=\"100\" HEIGHT=\"30\">"
	"<a:String CONTENT=\"x\" HPOS=\"10\" VPOS=\"20\" WIDTH=\"10\" HEIGHT=\"30\"/>"
	"</a:TextLine></a:TextBlock></a:Page></a:Layout></a:alto>";

static void test_alto_versions(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	struct anno_target t = {"p.png", 0, 1000, 800};
	CHECK_INT(anno_import_alto(fx("v2.xml", alto_v2_pixel), &t, &out, &err), 0, "alto v2");
	struct want v2[] = {
		{"p.png", 0, "supplementing", "line", "one two", NULL, true, 10, 20, 300, 40, false,
		 0, "tesseract", 1, NULL},
		{"p.png", 0, "supplementing", "word", "one", NULL, true, 10, 20, 100, 40, false, 0,
		 "tesseract", 2, "#0"},
		{"p.png", 0, "supplementing", "word", "two", NULL, true, 150.5, 20, 160, 40, false,
		 0, "tesseract", 3, "#0"},
	};
	CHECK_INT(out.count, 3, "alto v2 count");
	for (size_t i = 0; i < 3; i++)
		check_rec(&out, i, &v2[i], "alto v2");
	anno_list_release(&out);

	/* 8 x 10 inches in 1/1200 inch on a 2400x3000 Canvas: a quarter */
	t = (struct anno_target){"s.tif", 1, 2400, 3000};
	CHECK_INT(anno_import_alto(fx("v3.xml", alto_v3_inch1200), &t, &out, &err), 0, "alto v3");
	struct want v3[] = {
		{"s.tif", 1, "supplementing", "line", "Stra\xC3\x9F" "e", "de", true, 300, 600,
		 1200, 100, false, 0, NULL, 1, NULL},
		{"s.tif", 1, "supplementing", "word", "Stra\xC3\x9F" "e", "de", true, 300, 600, 500,
		 100, false, 0, NULL, 2, "#0"},
	};
	CHECK_INT(out.count, 2, "alto v3 count");
	for (size_t i = 0; i < 2; i++)
		check_rec(&out, i, &v3[i], "alto v3");
	anno_list_release(&out);

	t = (struct anno_target){"q.jpg", 0, 500, 500};
	CHECK_INT(anno_import_alto(fx("pre.xml", alto_prefixed), &t, &out, &err), 0, "prefixed");
	struct want pre = {"q.jpg", 0, "supplementing", "word", "x", NULL, true, 10, 20, 10, 30,
			   false, 0, NULL, 2, "#0"};
	CHECK_INT(out.count, 2, "prefixed count");
	check_rec(&out, 1, &pre, "prefixed");
	anno_list_release(&out);
}

/* Boxes outside the Canvas are clamped; nothing left: dropped and counted. */
static const char alto_clamp[] =
	"<alto><Layout><Page WIDTH=\"1000\" HEIGHT=\"1000\">\n"
	"<TextLine HPOS=\"-50\" VPOS=\"10\" WIDTH=\"200\" HEIGHT=\"20\">\n"
	"<String CONTENT=\"in\" HPOS=\"-50\" VPOS=\"10\" WIDTH=\"100\" HEIGHT=\"20\"/>\n"
	"<String CONTENT=\"out\" HPOS=\"2000\" VPOS=\"10\" WIDTH=\"100\" HEIGHT=\"20\"/>\n"
	"</TextLine>\n"
	"<TextLine HPOS=\"5000\" VPOS=\"5000\" WIDTH=\"10\" HEIGHT=\"10\">\n"
	"<String CONTENT=\"placed\" HPOS=\"100\" VPOS=\"100\" WIDTH=\"50\" HEIGHT=\"50\"/>\n"
	"<String CONTENT=\"flat\" HPOS=\"300\" VPOS=\"100\" WIDTH=\"0\" HEIGHT=\"50\"/>\n"
	"</TextLine>\n"
	"<TextLine HPOS=\"5000\" VPOS=\"5000\" WIDTH=\"10\" HEIGHT=\"10\">\n"
	"<String CONTENT=\"lost\" HPOS=\"5000\" VPOS=\"5000\" WIDTH=\"10\" HEIGHT=\"10\"/>\n"
	"</TextLine>\n"
	"<TextLine><String CONTENT=\"nowhere\"/><String CONTENT=\"\"/></TextLine>\n"
	"<TextLine HPOS=\"1\" VPOS=\"1\" WIDTH=\"1\" HEIGHT=\"1\"></TextLine>\n"
	"</Page></Layout></alto>\n";

static void test_alto_clamp(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	struct anno_target t = {"c.png", 0, 1000, 1000};
	CHECK_INT(anno_import_alto(fx("clamp.xml", alto_clamp), &t, &out, &err), 0, "clamp");
	struct want w[] = {
		{"c.png", 0, "supplementing", "line", "in out", NULL, true, 0, 10, 150, 20, false,
		 0, NULL, 1, NULL},
		{"c.png", 0, "supplementing", "word", "in", NULL, true, 0, 10, 50, 20, false, 0,
		 NULL, 2, "#0"},
		/* the line's own box is off the page: the union of its placed words */
		{"c.png", 0, "supplementing", "line", "placed flat", NULL, true, 100, 100, 50, 50,
		 false, 0, NULL, 3, NULL},
		{"c.png", 0, "supplementing", "word", "placed", NULL, true, 100, 100, 50, 50, false,
		 0, NULL, 4, "#2"},
		/* no coordinates at all: no region */
		{"c.png", 0, "supplementing", "line", "nowhere", NULL, false, 0, 0, 0, 0, false, 0,
		 NULL, 5, NULL},
		{"c.png", 0, "supplementing", "word", "nowhere", NULL, false, 0, 0, 0, 0, false, 0,
		 NULL, 6, "#4"},
	};
	CHECK_INT(out.count, 6, "clamp count");
	for (size_t i = 0; i < 6; i++)
		check_rec(&out, i, &w[i], "clamp");
	/* "out", "flat", "lost" and the "lost" line */
	CHECK_INT(err.line, 4, "clamp: first drop");
	CHECK(strstr(err.msg, "4 boxes outside the Canvas") != NULL, "clamp note: %s", err.msg);
	anno_list_release(&out);
}

#define ALTO_HEAD "<?xml version=\"1.0\"?>\n<alto>\n"
#define ALTO_PAGE "<Layout><Page WIDTH=\"10\" HEIGHT=\"10\">\n"
#define ALTO_LINE "<TextLine HPOS=\"1\" VPOS=\"1\" WIDTH=\"1\" HEIGHT=\"1\">\n"

static const struct bad_case alto_bad[] = {
	{"not UTF-8", ALTO_HEAD ALTO_PAGE ALTO_LINE "<String CONTENT=\"caf\xe9\" HPOS=\"1\" "
	 "VPOS=\"1\" WIDTH=\"1\" HEIGHT=\"1\"/>\n</TextLine></Page></Layout></alto>\n", 5,
	 "UTF-8"},
	{"mismatch", ALTO_HEAD ALTO_PAGE ALTO_LINE "<String CONTENT=\"a\">\n</TextLine>\n", 6,
	 "XML: Opening and ending tag mismatch"},
	{"bad HPOS", ALTO_HEAD ALTO_PAGE ALTO_LINE "<String CONTENT=\"a\" HPOS=\"1x\" VPOS=\"1\" "
	 "WIDTH=\"1\" HEIGHT=\"1\"/>\n</TextLine></Page></Layout></alto>\n", 5,
	 "String: HPOS '1x' is not a number"},
	{"bad line", ALTO_HEAD ALTO_PAGE "\n<TextLine HPOS=\"\" VPOS=\"1\" WIDTH=\"1\" "
	 "HEIGHT=\"1\"/></Page></Layout></alto>\n", 5, "TextLine: HPOS '' is not a number"},
	{"bad WC", ALTO_HEAD ALTO_PAGE ALTO_LINE "<String CONTENT=\"a\" WC=\"1.5\"/>\n"
	 "</TextLine></Page></Layout></alto>\n", 5, "String: WC 1.5 is not between 0 and 1"},
	{"second page", ALTO_HEAD ALTO_PAGE "</Page>\n<Page WIDTH=\"1\" HEIGHT=\"1\"/>\n"
	 "</Layout></alto>\n", 5, "a second Page"},
	{"line outside page", ALTO_HEAD "<Layout>\n" ALTO_LINE "</TextLine></Layout></alto>\n",
	 4, "TextLine outside a Page"},
	{"not alto", "<?xml version=\"1.0\"?>\n<html><body/></html>\n", 2,
	 "root element is <html>, not <alto>"},
	{"mm10 without size", ALTO_HEAD "<Description><MeasurementUnit>mm10</MeasurementUnit>"
	 "</Description>\n<Layout>\n<Page ID=\"p\">\n</Page></Layout></alto>\n", 5,
	 "Page: no WIDTH/HEIGHT to scale mm10 coordinates"},
	{"zero width", ALTO_HEAD "<Layout>\n<Page WIDTH=\"0\" HEIGHT=\"10\"/></Layout></alto>\n", 4,
	 "Page: WIDTH and HEIGHT must both be positive"},
	{"unknown unit", ALTO_HEAD "<Description>\n<MeasurementUnit>furlong\n</MeasurementUnit>\n"
	 "</Description></alto>\n", 5, "MeasurementUnit: 'furlong' is not pixel, mm10 or inch1200"},
	{"empty", "", 1, "empty file"},
	{"no page", ALTO_HEAD "<Description/>\n</alto>\n", 4, "no Page element"},
	{"truncated", ALTO_HEAD ALTO_PAGE ALTO_LINE, 4, "XML: "},
	{"nested lines", ALTO_HEAD ALTO_PAGE ALTO_LINE ALTO_LINE, 5, "TextLine inside a TextLine"},
};

static void test_alto_errors(void)
{
	struct anno_target t = {"e.png", 0, 100, 100};
	for (size_t i = 0; i < sizeof alto_bad / sizeof alto_bad[0]; i++) {
		const struct bad_case *c = &alto_bad[i];
		struct anno_list out = {0};
		struct anno_import_error err;
		anno_list_add(&out)->text = anno_strdup("kept");
		int rc = anno_import_alto(fx("bad.xml", c->text), &t, &out, &err);
		check_fails(rc, &out, 1, &err, c->line, c->msg, c->name);
		CHECK_S(out.items[0].text, "kept", c->name);
		anno_list_release(&out);
	}
	struct anno_list out = {0};
	struct anno_import_error err;
	int rc = anno_import_alto(fx("missing/none.xml", ""), &t, &out, &err);
	check_fails(rc, &out, 0, &err, 0, "cannot open", "missing file");
	struct anno_target nosize = {"e.png", 0, 0, 0};
	rc = anno_import_alto(fx("v4.xml", alto_v4_mm10), &nosize, &out, &err);
	check_fails(rc, &out, 0, &err, 0, "no Canvas size", "no canvas size");
	rc = anno_import_alto(tmpdir, &t, &out, &err);
	check_fails(rc, &out, 0, &err, 0, "not a regular file", "directory");
}

#define LOLS                                                                        \
	"<!DOCTYPE alto [\n <!ENTITY lol \"lol\">\n"                                \
	" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"   \
	" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n" \
	" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n" \
	" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n" \
	" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n" \
	" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n" \
	" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n" \
	" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n" \
	" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n" \
	"]>\n"

#define ALTO_ONE_WORD(content)                                                          \
	"<alto><Layout><Page WIDTH=\"10\" HEIGHT=\"10\"><TextLine HPOS=\"0\" VPOS=\"0\" " \
	"WIDTH=\"5\" HEIGHT=\"5\"><String CONTENT=\"" content "\" HPOS=\"0\" VPOS=\"0\" "  \
	"WIDTH=\"5\" HEIGHT=\"5\"/></TextLine></Page></Layout></alto>\n"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_alto_hostile(void)
{
	struct anno_target t = {"h.png", 0, 10, 10};
	struct anno_list out = {0};
	struct anno_import_error err;
	/* entities are never declared, so never expanded: billion laughs is an undefined entity */
	double t0 = now();
	int rc = anno_import_alto(fx("lol.xml", LOLS ALTO_ONE_WORD("&lol9;")), &t, &out, &err);
	check_fails(rc, &out, 0, &err, 13, "Entity 'lol9' not defined", "billion laughs");
	CHECK(now() - t0 < 2, "billion laughs took %.1f s", now() - t0);

	/* an internal entity pointing at a local file is not read either */
	rc = anno_import_alto(fx("xxe.xml", "<!DOCTYPE alto [<!ENTITY xxe SYSTEM "
					    "\"file:///etc/passwd\">]>\n" ALTO_ONE_WORD("&xxe;")),
			      &t, &out, &err);
	check_fails(rc, &out, 0, &err, 2, "Entity 'xxe' not defined", "external entity");

	/* an external DTD is not loaded: its entity stays undefined and the word has no text */
	fx("secret.dtd", "<!ENTITY secret \"SECRET\">\n");
	char doc[1024];
	snprintf(doc, sizeof doc, "<!DOCTYPE alto SYSTEM \"%s/secret.dtd\">\n%s", tmpdir,
		 ALTO_ONE_WORD("&secret;"));
	rc = anno_import_alto(fx("dtd.xml", doc), &t, &out, &err);
	CHECK_INT(rc, 0, "external DTD");
	for (size_t i = 0; i < out.count; i++)
		CHECK(!strstr(out.items[i].text, "SECRET"), "external DTD was loaded");
	anno_list_release(&out);

	/* 100,000 nested elements: libxml2's depth limit */
	size_t n = 100000, len = 0;
	char *deep = malloc(n * 3 + 64);
	len += (size_t)sprintf(deep, "<alto>");
	for (size_t i = 0; i < n; i++, len += 3)
		memcpy(deep + len, "<a>", 3);
	rc = anno_import_alto(fx_len("deep.xml", deep, len), &t, &out, &err);
	check_fails(rc, &out, 0, &err, 1, "elements nested deeper than 512", "deep XML");
	free(deep);
}

/* Generates an ALTO page of lines x 20 words; returns its length. */
static size_t alto_generate(char *buf, size_t cap, int lines)
{
	size_t n = (size_t)snprintf(buf, cap,
				    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alto xmlns=\""
				    "http://www.loc.gov/standards/alto/ns-v4#\"><Description>"
				    "<MeasurementUnit>pixel</MeasurementUnit></Description>"
				    "<Layout><Page WIDTH=\"2480\" HEIGHT=\"3508\"><PrintSpace>"
				    "<TextBlock ID=\"b1\" LANG=\"en\">\n");
	for (int l = 0; l < lines; l++) {
		n += (size_t)snprintf(buf + n, cap - n,
				      "<TextLine ID=\"l%d\" HPOS=\"100\" VPOS=\"%d\" WIDTH=\"2200\" "
				      "HEIGHT=\"50\">\n",
				      l, 100 + l * 60);
		for (int w = 0; w < 20; w++)
			n += (size_t)snprintf(buf + n, cap - n,
					      "<String ID=\"s%d_%d\" CONTENT=\"word%d\" HPOS=\"%d\" "
					      "VPOS=\"%d\" WIDTH=\"100\" HEIGHT=\"50\" WC=\"0.9%d\"/>"
					      "<SP WIDTH=\"10\" HPOS=\"%d\" VPOS=\"%d\"/>\n",
					      l, w, w, 100 + w * 110, 100 + l * 60, w % 10,
					      200 + w * 110, 100 + l * 60);
		n += (size_t)snprintf(buf + n, cap - n, "</TextLine>\n");
	}
	n += (size_t)snprintf(buf + n, cap - n,
			      "</TextBlock></PrintSpace></Page></Layout></alto>\n");
	return n;
}

/* Parse speed on a 1,000-word page, printed (speed is never asserted). */
static void test_alto_speed(void)
{
	size_t cap = 400 * 1000;
	char *buf = malloc(cap);
	size_t len = alto_generate(buf, cap, 50);
	const char *path = fx_len("speed.xml", buf, len);
	struct anno_target t = {"s.png", 0, 1240, 1754};
	int rounds = 40, ok = 0;
	size_t records = 0;
	double t0 = now();
	for (int i = 0; i < rounds; i++) {
		struct anno_list out = {0};
		struct anno_import_error err;
		ok += anno_import_alto(path, &t, &out, &err) == 0;
		records += out.count;
		anno_list_release(&out);
	}
	double dt = now() - t0;
	CHECK_INT(ok, rounds, "speed imports");
	CHECK_INT(records, (size_t)rounds * 1050, "speed records");
	printf("importers: ALTO %zu KB page of 1000 words: %.0f words/s, %.0f records/s, "
	       "%.1f MB/s\n",
	       len / 1000, rounds * 1000 / dt, (double)records / dt, (double)len * rounds / dt / 1e6);
	free(buf);
}

/* ---- hOCR -------------------------------------------------------------------------------- */

static const char hocr_sample[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
	"\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
	"<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
	" <head>\n"
	"  <title></title>\n"
	"  <meta name='ocr-system' content='tesseract 5.3.0' />\n"
	" </head>\n"
	" <body>\n"
	"  <div class='ocr_page' id='page_1' title='image \"scan; 1.png\"; bbox 0 0 2000 1000; "
	"ppageno 0'>\n"
	"   <div class='ocr_carea' id='block_1_1' title=\"bbox 100 100 1900 400\">\n"
	"    <p class='ocr_par' id='par_1_1' lang='deu' title=\"bbox 100 100 1900 400\">\n"
	"     <span class='ocr_line' id='line_1_1' title=\"bbox 100 100 1100 200; baseline 0 -5; "
	"x_size 30\">\n"
	"      <span class='ocrx_word' id='word_1_1' title='bbox 100 100 500 200; x_wconf 93'>"
	"<strong>Gr\xC3\xBC\xC3\x9F" "e</strong></span>\n"
	"      <span class='ocrx_word' id='word_1_2' title='bbox 600 100 1100 200; x_wconf 80'>"
	"A&amp;B</span>\n"
	"     </span>\n"
	"     <span class='ocr_header' id='line_1_2' title=\"bbox 100 300 900 400\">Plain   header\n"
	"text</span>\n"
	"     <span class='ocr_line' title=\"bbox 100 500 900 600\"> </span>\n"
	"    </p>\n"
	"   </div>\n"
	"  </div>\n"
	" </body>\n"
	"</html>\n";

static void test_hocr(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	struct anno_target t = {"h/p1.jpg", 0, 1000, 500};
	CHECK_INT(anno_import_hocr(fx("p1.hocr", hocr_sample), &t, &out, &err), 0, "hocr");
	const char *g = "tesseract 5.3.0", *f = "h/p1.jpg";
	/* a 2000x1000 page on a 1000x500 Canvas: halves */
	struct want w[] = {
		{f, 0, "supplementing", "line", "Gr\xC3\xBC\xC3\x9F" "e A&B", "de", true, 50, 50,
		 500, 50, false, 0, g, 1, NULL},
		{f, 0, "supplementing", "word", "Gr\xC3\xBC\xC3\x9F" "e", "de", true, 50, 50, 200,
		 50, true, 0.93, g, 2, "#0"},
		{f, 0, "supplementing", "word", "A&B", "de", true, 300, 50, 250, 50, true, 0.80, g,
		 3, "#0"},
		{f, 0, "supplementing", "line", "Plain header text", "de", true, 50, 150, 400, 50,
		 false, 0, g, 4, NULL},
	};
	CHECK_INT(out.count, 4, "hocr count");
	for (size_t i = 0; i < 4; i++)
		check_rec(&out, i, &w[i], "hocr");
	anno_list_release(&out);

	/* plain HTML without declarations, words partly off the page, a word outside lines */
	const char *plain =
		"<html><body><div class=\"ocr_page\" title=\"bbox 10 10 110 110\">\n"
		"<span class=\"ocr_line\" title=\"bbox 0 0 200 20\"><span class=\"ocrx_word\" "
		"title=\"bbox 100 10 200 20\">edge</span> <span class=\"ocrx_word\" "
		"title=\"bbox 300 300 400 400\">gone</span></span>\n"
		"<span class=\"ocrx_word\" title=\"bbox 10 10 20 20\">free</span>\n"
		"</div></body></html>\n";
	t = (struct anno_target){"h/p2.jpg", 1, 100, 100};
	CHECK_INT(anno_import_hocr(fx("p2.hocr", plain), &t, &out, &err), 0, "hocr plain");
	struct want p[] = {
		{"h/p2.jpg", 1, "supplementing", "line", "edge gone", NULL, true, 0, 0, 100, 10,
		 false, 0, NULL, 1, NULL},
		{"h/p2.jpg", 1, "supplementing", "word", "edge", NULL, true, 90, 0, 10, 10, false,
		 0, NULL, 2, "#0"},
		{"h/p2.jpg", 1, "supplementing", "word", "free", NULL, true, 0, 0, 10, 10, false, 0,
		 NULL, 3, NULL},
	};
	CHECK_INT(out.count, 3, "hocr plain count");
	for (size_t i = 0; i < 3; i++)
		check_rec(&out, i, &p[i], "hocr plain");
	CHECK_INT(err.line, 2, "hocr plain: dropped word's line");
	CHECK(strstr(err.msg, "1 box outside") != NULL, "hocr note: %s", err.msg);
	anno_list_release(&out);
}

#define HOCR_PAGE "<html><body>\n<div class='ocr_page' title='bbox 0 0 100 100'>\n"

static const struct bad_case hocr_bad[] = {
	{"not UTF-8", HOCR_PAGE "<span class='ocr_line' title='bbox 0 0 10 10'>\n"
	 "<span class='ocrx_word' title='bbox 1 2 3 4'>caf\xe9</span></span></div></body></html>", 4,
	 "not UTF-8"},
	{"no page", "<html>\n<body><p class='ocr_par'>hi</p></body>\n</html>\n", 3,
	 "no element with class ocr_page"},
	{"bad bbox", HOCR_PAGE "<span class='ocr_line' title='bbox 0 0 10 10'>\n"
	 "<span class='ocrx_word' title='bbox 1 2 x 4'>a</span></span></div></body></html>", 4,
	 "title: bad bbox"},
	{"short bbox", HOCR_PAGE "\n<span class='ocr_line' title='bbox 0 0 10; x_size 3'>a</span>",
	 4, "title: bbox takes 4 numbers"},
	{"line before page", "<html><body>\n\n<span class='ocr_line' title='bbox 0 0 1 1'>a</span>",
	 3, "ocr_line outside an ocr_page"},
	{"second page", HOCR_PAGE "</div>\n<div class='ocr_page' title='bbox 0 0 9 9'></div>", 4,
	 "a second ocr_page"},
	{"page without bbox", "<html><body>\n<div class='ocr_page' title='image \"a.png\"'>", 2,
	 "ocr_page: no bbox"},
	{"empty page bbox", "<html><body>\n<div class='ocr_page' title='bbox 5 5 5 9'>", 2,
	 "ocr_page: no bbox with a positive size"},
	{"bad confidence", HOCR_PAGE "<span class='ocrx_word' title='bbox 0 0 1 1; x_wconf 120'>",
	 3, "x_wconf 120 is not 0..100"},
};

/* "é" (2 bytes) and "€" (3 bytes) cut by the 256 KiB chunk boundary are still UTF-8; a bad
 * byte far into the file is named with its line. */
static void test_hocr_utf8_chunks(void)
{
	struct anno_target t = {"e.png", 0, 100, 100};
	const char *head = HOCR_PAGE "<span class='ocr_line' title='bbox 0 0 10 10'>"
			   "<span class='ocrx_word' title='bbox 1 2 3 4'>";
	const char *tail = "</span></span></div></body></html>\n";
	const char *cut[] = { "\xc3\xa9", "\xe2\x82\xac", "\xe2\x82\xac" };
	const size_t at[] = { 1, 1, 2 }; /* bytes of the character before the boundary */
	size_t n = 400000;
	char *doc = malloc(n);
	for (int k = 0; k < 3; k++) {
		size_t len = (size_t)sprintf(doc, "%s<!--", head);
		size_t pad = (256 << 10) - at[k] - len - 3;
		memset(doc + len, '\n', pad);
		len += pad;
		len += (size_t)sprintf(doc + len, "-->%s%s", cut[k], tail);
		struct anno_list out = {0};
		struct anno_import_error err;
		CHECK_INT(anno_import_hocr(fx_len("cut.hocr", doc, len), &t, &out, &err), 0, err.msg);
		anno_list_release(&out);
	}
	size_t len = (size_t)sprintf(doc, "%s<!--", head);
	memset(doc + len, '\n', 300000);
	len += 300000;
	len += (size_t)sprintf(doc + len, "-->caf\xe9%s", tail);
	struct anno_list out = {0};
	struct anno_import_error err;
	int rc = anno_import_hocr(fx_len("late.hocr", doc, len), &t, &out, &err);
	check_fails(rc, &out, 0, &err, 300003, "not UTF-8", "bad byte after 300000 lines");
	anno_list_release(&out);
	free(doc);
}

static void test_hocr_errors(void)
{
	struct anno_target t = {"e.png", 0, 100, 100};
	for (size_t i = 0; i < sizeof hocr_bad / sizeof hocr_bad[0]; i++) {
		const struct bad_case *c = &hocr_bad[i];
		struct anno_list out = {0};
		struct anno_import_error err;
		int rc = anno_import_hocr(fx("bad.hocr", c->text), &t, &out, &err);
		check_fails(rc, &out, 0, &err, c->line, c->msg, c->name);
		anno_list_release(&out);
	}
}

static void test_hocr_hostile(void)
{
	struct anno_target t = {"h.png", 0, 10, 10};
	struct anno_list out = {0};
	struct anno_import_error err;
	const char *lol = LOLS "<html><body><div class='ocr_page' title='bbox 0 0 10 10'>"
			       "<span class='ocr_line' title='bbox 0 0 5 5'><span class='ocrx_word'"
			       " title='bbox 0 0 5 5'>&lol9;</span></span></div></body></html>\n";
	double t0 = now();
	int rc = anno_import_hocr(fx("lol.hocr", lol), &t, &out, &err);
	CHECK(now() - t0 < 2, "hOCR billion laughs took %.1f s", now() - t0);
	CHECK_INT(rc, 0, "hOCR billion laughs");
	CHECK_INT(out.count, 2, "hOCR billion laughs count");
	for (size_t i = 0; i < out.count; i++)
		CHECK(strlen(out.items[i].text) < 16, "expanded: %.40s", out.items[i].text);
	anno_list_release(&out);

	size_t n = 100000, len = 0;
	char *deep = malloc(n * 5 + 128);
	len += (size_t)sprintf(deep, "<html><body><div class='ocr_page' title='bbox 0 0 9 9'>\n");
	for (size_t i = 0; i < n; i++, len += 5)
		memcpy(deep + len, "<div>", 5);
	rc = anno_import_hocr(fx_len("deep.hocr", deep, len), &t, &out, &err);
	check_fails(rc, &out, 0, &err, 2, "elements nested deeper than", "deep hOCR");
	free(deep);
}

/* ---- WebVTT ------------------------------------------------------------------------------ */

static const char vtt_sample[] =
	"\xEF\xBB\xBFWEBVTT - a title\n"
	"Kind: captions\n"
	"Language: en\n"
	"\n"
	"NOTE this is a comment\n"
	"that spans lines\n"
	"\n"
	"STYLE\n"
	"::cue { color: red }\n"
	"\n"
	"REGION\n"
	"id:fred width:40%\n"
	"\n"
	"00:01.000 --> 00:04.500 align:start position:10%\n"
	"<v Roger Bingham>We are in New York City\n"
	"and it's &amp; &lt;great&gt;\n"
	"\n"
	"intro-2\n"
	"01:02:03.250 --> 01:02:05.000\n"
	"<i>Tom</i> &amp; <b>Jerry</b>&nbsp;run &#233;&#x263A; &bogus;\n"
	"\n"
	"\n"
	"3\n"
	"100:00:00.000-->100:00:01.000\n"
	"long hours\n"
	"00:05.000 --> 00:06.000\n"
	"no blank before <00:05.500>karaoke\n"
	"\n"
	"00:07.000 --> 00:07.000\n"
	"<c.yellow></c>\n"
	"\n"
	"NOTE the end\n";

struct cue {
	double start, end;
	const char *text;
};

static void check_vtt(const struct anno_list *out, const char *name)
{
	const struct cue cues[] = {
		{1, 4.5, "We are in New York City and it's & <great>"},
		{3723.25, 3725, "Tom & Jerry\xC2\xA0run \xC3\xA9\xE2\x98\xBA &bogus;"},
		{360000, 360001, "long hours"},
		{5, 6, "no blank before karaoke"},
	};
	CHECK_INT(out->count, 4, name);
	for (size_t i = 0; i < 4 && i < out->count; i++) {
		const struct anno_record *r = &out->items[i];
		struct want w = {"talk.mp4", 0, "supplementing", NULL, cues[i].text, "en", false, 0,
				 0, 0, 0, false, 0, NULL, (int64_t)i + 1, NULL};
		check_rec(out, i, &w, name);
		CHECK(r->has_time, "%s[%zu]: no time", name, i);
		CHECK_D(r->start, cues[i].start, name);
		CHECK_D(r->end, cues[i].end, name);
	}
}

static void test_vtt(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	struct anno_target t = {"talk.mp4", 0, 0, 0};
	CHECK_INT(anno_import_vtt(fx("talk.vtt", vtt_sample), &t, &out, &err), 0, "vtt");
	check_vtt(&out, "vtt");
	anno_list_release(&out);

	/* the same with CRLF line ends */
	char crlf[sizeof vtt_sample * 2];
	size_t n = 0;
	for (const char *p = vtt_sample; *p; p++) {
		if (*p == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *p;
	}
	CHECK_INT(anno_import_vtt(fx_len("crlf.vtt", crlf, n), &t, &out, &err), 0, "vtt crlf");
	check_vtt(&out, "vtt crlf");
	anno_list_release(&out);

	/* a cue right after the header line, no language */
	CHECK_INT(anno_import_vtt(fx("min.vtt", "WEBVTT\n00:00.000 --> 00:00.001\nx"), &t, &out,
				  &err),
		  0, "vtt minimal");
	CHECK_INT(out.count, 1, "vtt minimal count");
	if (out.count)
		CHECK(out.items[0].language == NULL && out.items[0].end == 0.001, "vtt minimal");
	anno_list_release(&out);
}

static const struct bad_case vtt_bad[] = {
	{"not UTF-8", "WEBVTT\n\n00:01.000 --> 00:02.000\nfine\ncaf\xe9 \xff\n", 5,
	 "not UTF-8 (byte 0xe9 at column 4)"},
	{"header", "WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", 1, "the first line is not 'WEBVTT'"},
	{"no header", "00:01.000 --> 00:02.000\nx\n", 1, "the first line is not 'WEBVTT'"},
	{"empty", "", 1, "the first line is not 'WEBVTT'"},
	{"short minutes", "WEBVTT\n\n00:01.000 --> 0:02.000\nx\n", 3,
	 "bad cue timing at '0:02.000'"},
	{"short millis", "WEBVTT\n\n1\n00:01.00 --> 00:02.000\nx\n", 4,
	 "bad cue timing at '00:01.00 -->"},
	{"seconds 60", "WEBVTT\n\n\n00:01.000 --> 00:60.000\nx\n", 4, "bad cue timing"},
	{"no arrow", "WEBVTT\n\nid\n00:01.000 - 00:02.000\nx\n", 4,
	 "a cue identifier must be followed by its timing line"},
	{"junk after time", "WEBVTT\n\n00:01.000 --> 00:02.000x\nx\n", 3, "bad cue timing"},
	{"end before start", "WEBVTT\n\n1\n00:05.000 --> 00:04.000\nx\n", 4,
	 "cue ends (4.000 s) before it starts (5.000 s)"},
	{"identifier only", "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\nabc\nhello\n", 7,
	 "a cue identifier must be followed by its timing line"},
	{"identifier at end", "WEBVTT\n\nabc", 3, "a cue identifier must be followed"},
};

static void test_vtt_errors(void)
{
	struct anno_target t = {"talk.mp4", 0, 0, 0};
	for (size_t i = 0; i < sizeof vtt_bad / sizeof vtt_bad[0]; i++) {
		const struct bad_case *c = &vtt_bad[i];
		struct anno_list out = {0};
		struct anno_import_error err;
		int rc = anno_import_vtt(fx("bad.vtt", c->text), &t, &out, &err);
		check_fails(rc, &out, 0, &err, c->line, c->msg, c->name);
		anno_list_release(&out);
	}
	/* a line over the 1 MiB limit */
	size_t n = (1 << 20) + 100;
	char *big = malloc(n);
	memcpy(big, "WEBVTT\n\n00:01.000 --> 00:02.000\n", 32);
	memset(big + 32, 'a', n - 32);
	struct anno_list out = {0};
	struct anno_import_error err;
	int rc = anno_import_vtt(fx_len("big.vtt", big, n), &t, &out, &err);
	check_fails(rc, &out, 0, &err, 4, "line longer than", "long line");
	free(big);
}

int main(void)
{
	if (!fixture_dir_make())
		return 1;
	UNIT_RUN(test_record);
	UNIT_RUN(test_alto_v4_mm10);
	UNIT_RUN(test_alto_versions);
	UNIT_RUN(test_alto_clamp);
	UNIT_RUN(test_alto_errors);
	UNIT_RUN(test_alto_hostile);
	UNIT_RUN(test_alto_speed);
	UNIT_RUN(test_hocr);
	UNIT_RUN(test_hocr_errors);
	UNIT_RUN(test_hocr_utf8_chunks);
	UNIT_RUN(test_hocr_hostile);
	UNIT_RUN(test_vtt);
	UNIT_RUN(test_vtt_errors);
	fixture_dir_remove();
	return unit_report("importers");
}
