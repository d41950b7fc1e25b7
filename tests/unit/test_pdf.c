/*
 * test_pdf.c: the PDF writer behind the Image API's pdf format and the Manifest PDF download.
 * Each PDF is parsed here: startxref points at the xref table, every xref entry at its
 * "N 0 obj", the page tree lists the pages, each image stream holds the JPEG bytes given, and
 * page sizes stay within the 3..14,400 units a PDF allows.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "image/pdf.h"
#include "web/pdf_download.h"
#include "unit.h"

#define MAX_OBJECTS 64

struct parsed {
	size_t count;                 /* objects in the xref table, 0 included */
	size_t offsets[MAX_OBJECTS];
	bool ok;
};

static const char *find(const GByteArray *pdf, const char *from, const char *what)
{
	const char *end = (const char *)pdf->data + pdf->len;
	return memmem(from, (size_t)(end - from), what, strlen(what));
}

/* Follows startxref to the table and checks each entry points at its object. */
static void parse(const GByteArray *pdf, struct parsed *p)
{
	const char *data = (const char *)pdf->data;
	memset(p, 0, sizeof *p);
	CHECK(pdf->len > 20 && memcmp(data, "%PDF-1.4\n", 9) == 0, "header");
	CHECK(memcmp(data + pdf->len - 6, "%%EOF\n", 6) == 0, "ends with %%%%EOF");
	const char *sx = NULL;
	for (const char *s = data; (s = find(pdf, s, "startxref\n")); s++)
		sx = s;
	CHECK(sx != NULL, "startxref");
	if (!sx)
		return;
	size_t xref = strtoul(sx + 10, NULL, 10);
	CHECK(xref < pdf->len && memcmp(data + xref, "xref\n0 ", 7) == 0,
	      "startxref %zu points at the xref table", xref);
	if (xref >= pdf->len)
		return;
	char *line;
	p->count = strtoul(data + xref + 7, &line, 10);
	CHECK(p->count > 1 && p->count <= MAX_OBJECTS, "object count %zu", p->count);
	if (p->count <= 1 || p->count > MAX_OBJECTS)
		return;
	const char *entry = line + 1;
	CHECK(memcmp(entry, "0000000000 65535 f \n", 20) == 0, "entry 0 is free");
	for (size_t i = 1; i < p->count; i++) {
		const char *e = entry + 20 * i;
		CHECK(memcmp(e + 10, " 00000 n \n", 10) == 0, "entry %zu is 20 bytes, in use", i);
		p->offsets[i] = strtoul(e, NULL, 10);
		char want[32];
		int n = snprintf(want, sizeof want, "%zu 0 obj\n", i);
		CHECK(p->offsets[i] < pdf->len && memcmp(data + p->offsets[i], want, (size_t)n) == 0,
		      "xref entry %zu (offset %zu) points at its object", i, p->offsets[i]);
	}
	char trailer[64];
	snprintf(trailer, sizeof trailer, "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n",
		 p->count);
	CHECK(find(pdf, entry + 20 * p->count, trailer) == entry + 20 * p->count,
	      "the trailer follows the table");
	p->ok = true;
}

/* The text of object obj up to "endobj" (or its stream), into buf. */
static void object_text(const GByteArray *pdf, const struct parsed *p, size_t obj, char *buf,
			size_t n)
{
	const char *start = (const char *)pdf->data + p->offsets[obj];
	const char *end = find(pdf, start, "endobj");
	size_t len = end ? (size_t)(end - start) : 0;
	snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), start);
}

/* The stream of object obj equals want (its /Length says how long it is). */
static void check_stream(const GByteArray *pdf, const struct parsed *p, size_t obj,
			 const void *want, size_t want_len)
{
	const char *start = (const char *)pdf->data + p->offsets[obj];
	const char *len = find(pdf, start, "/Length ");
	const char *stream = find(pdf, start, ">>\nstream\n");
	CHECK(len && stream, "object %zu has a stream", obj);
	if (!len || !stream)
		return;
	size_t n = strtoul(len + 8, NULL, 10);
	CHECK_INT(n, want_len, "stream /Length");
	CHECK(memcmp(stream + 10, want, want_len) == 0, "object %zu holds the bytes given", obj);
	CHECK(memcmp(stream + 10 + n, "\nendstream\nendobj\n", 18) == 0, "endstream after /Length");
}

static int sink(void *cls, const void *data, size_t len)
{
	g_byte_array_append(cls, data, (guint)len);
	return 0;
}

static void test_one_page(void)
{
	GByteArray *pdf = g_byte_array_new();
	struct image_pdf_writer *w = image_pdf_writer_new(sink, pdf);
	static const char jpeg[] = "\xff\xd8 not really a JPEG \xff\xd9";
	CHECK_INT(image_pdf_writer_page(w, jpeg, sizeof jpeg - 1, 640, 480, 3), 0, "page");
	CHECK_INT(image_pdf_writer_finish(w), 0, "finish");
	CHECK_INT(image_pdf_writer_size(w), pdf->len, "size counts every byte");
	image_pdf_writer_free(w);
	struct parsed p;
	parse(pdf, &p);
	CHECK_INT(p.count, 6, "catalog, page tree, page, image, content + entry 0");
	char text[512];
	if (p.ok) {
		object_text(pdf, &p, 1, text, sizeof text);
		CHECK_STR(text, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\n", "catalog");
		object_text(pdf, &p, 2, text, sizeof text);
		CHECK_STR(text, "2 0 obj\n<< /Type /Pages /Count 1 /Kids [3 0 R] >>\n", "page tree");
		object_text(pdf, &p, 3, text, sizeof text);
		CHECK(strstr(text, "/MediaBox [0 0 640 480]") && strstr(text, "/Contents 5 0 R") &&
			      strstr(text, "/Im0 4 0 R"),
		      "page: %s", text);
		object_text(pdf, &p, 4, text, sizeof text);
		CHECK(strstr(text, "/Width 640 /Height 480 /ColorSpace /DeviceRGB") != NULL,
		      "image: %s", text);
		check_stream(pdf, &p, 4, jpeg, sizeof jpeg - 1);
		const char *content = "q 640 0 0 480 0 0 cm /Im0 Do Q";
		check_stream(pdf, &p, 5, content, strlen(content));
	}
	g_byte_array_free(pdf, TRUE);
}

static void test_three_pages(void)
{
	GByteArray *pdf = g_byte_array_new();
	struct image_pdf_writer *w = image_pdf_writer_new(sink, pdf);
	const char *jpegs[] = { "first", "second page bytes", "3" };
	const int sizes[3][3] = { { 1000, 1500, 3 }, { 800, 600, 1 }, { 1000, 1414, 3 } };
	for (int i = 0; i < 3; i++)
		CHECK_INT(image_pdf_writer_page(w, jpegs[i], strlen(jpegs[i]), sizes[i][0],
						sizes[i][1], sizes[i][2]),
			  0, "page");
	CHECK_INT(image_pdf_writer_finish(w), 0, "finish");
	image_pdf_writer_free(w);
	struct parsed p;
	parse(pdf, &p);
	CHECK_INT(p.count, 12, "2 + 3 per page + entry 0");
	char text[512], want[64];
	if (p.ok) {
		object_text(pdf, &p, 2, text, sizeof text);
		CHECK_STR(text, "2 0 obj\n<< /Type /Pages /Count 3 /Kids [3 0 R 6 0 R 9 0 R] >>\n",
			  "page tree, written after the pages");
		CHECK(p.offsets[2] > p.offsets[11], "the page tree comes last");
		for (int i = 0; i < 3; i++) {
			object_text(pdf, &p, 3 + 3 * (size_t)i, text, sizeof text);
			snprintf(want, sizeof want, "/MediaBox [0 0 %d %d]", sizes[i][0],
				 sizes[i][1]);
			CHECK(strstr(text, want) != NULL, "page %d: %s", i, text);
			object_text(pdf, &p, 4 + 3 * (size_t)i, text, sizeof text);
			CHECK(strstr(text, sizes[i][2] == 1 ? "/DeviceGray" : "/DeviceRGB") != NULL,
			      "colour space of page %d", i);
			check_stream(pdf, &p, 4 + 3 * (size_t)i, jpegs[i], strlen(jpegs[i]));
		}
	}
	g_byte_array_free(pdf, TRUE);
}

static void test_page_sizes(void)
{
	static const struct {
		int w, h;
		double pw, ph, scale;
	} cases[] = {
		{ 1000, 1500, 1000, 1500, 1 },  /* one unit per pixel */
		{ 1, 1, 3, 3, 3 },              /* below the minimum: scaled up */
		{ 2, 10, 3, 15, 1.5 },          /* the shorter side reaches 3 */
		{ 30000, 100, 14400, 48, 0.48 }, /* above the maximum: scaled down */
		{ 1, 20000, 3, 14400, 0.72 },   /* both cannot hold: the longer wins, padded to 3 */
		{ 14400, 3, 14400, 3, 1 },      /* exactly the limits */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double pw, ph, s;
		image_pdf_page_size(cases[i].w, cases[i].h, &pw, &ph, &s);
		CHECK(fabs(pw - cases[i].pw) < 1e-9 && fabs(ph - cases[i].ph) < 1e-9 &&
			      fabs(s - cases[i].scale) < 1e-9,
		      "%dx%d: got %g x %g at %g", cases[i].w, cases[i].h, pw, ph, s);
	}
}

/* The lead's case: /full/1,/0/default.pdf once made a 1x1 MediaBox. */
static void test_tiny_image_page(void)
{
	VipsImage *one;
	void *out;
	size_t len;
	CHECK(vips_black(&one, 1, 1, "bands", 3, NULL) == 0, "1x1 image");
	VipsImage *u8;
	CHECK(vips_cast_uchar(one, &u8, NULL) == 0, "cast");
	CHECK_INT(image_pdf_from_image(u8, 85, &out, &len), 0, "pdf of 1x1");
	g_object_unref(u8);
	g_object_unref(one);
	GByteArray pdf = { out, (guint)len };
	struct parsed p;
	parse(&pdf, &p);
	char text[512];
	if (p.ok) {
		object_text(&pdf, &p, 3, text, sizeof text);
		CHECK(strstr(text, "/MediaBox [0 0 3 3]") != NULL, "3x3 units: %s", text);
		object_text(&pdf, &p, 4, text, sizeof text);
		CHECK(strstr(text, "/Width 1 /Height 1 ") != NULL, "the pixels stay 1x1: %s", text);
		const char *content = "q 3 0 0 3 0 0 cm /Im0 Do Q";
		check_stream(&pdf, &p, 5, content, strlen(content));
	}
	g_free(out);

	GByteArray *thin = g_byte_array_new();
	struct image_pdf_writer *w = image_pdf_writer_new(sink, thin);
	CHECK_INT(image_pdf_writer_page(w, "x", 1, 20000, 2, 1), 0, "a 20000x2 strip");
	CHECK_INT(image_pdf_writer_finish(w), 0, "finish");
	image_pdf_writer_free(w);
	parse(thin, &p);
	if (p.ok) {
		object_text(thin, &p, 3, text, sizeof text);
		CHECK(strstr(text, "/MediaBox [0 0 14400 3]") != NULL, "clamped: %s", text);
		const char *content = "q 14400 0 0 1.44 0 0 cm /Im0 Do Q";
		check_stream(thin, &p, 5, content, strlen(content));
	}
	g_byte_array_free(thin, TRUE);
}

static int failing_sink(void *cls, const void *data, size_t len)
{
	size_t *budget = cls;
	if (len > *budget)
		return -1;
	*budget -= len;
	return 0;
}

static void test_errors(void)
{
	size_t budget = 1 << 20;
	struct image_pdf_writer *w = image_pdf_writer_new(failing_sink, &budget);
	CHECK_INT(image_pdf_writer_finish(w), -1, "no page: no PDF");
	CHECK_INT(image_pdf_writer_page(w, "x", 1, 0, 10, 3), -1, "zero width");
	CHECK_INT(image_pdf_writer_page(w, "x", 1, 10, 10, 4), -1, "4 bands");
	image_pdf_writer_free(w);
	budget = 200; /* the disk fills up inside the JPEG */
	w = image_pdf_writer_new(failing_sink, &budget);
	char big[1000] = { 0 };
	CHECK_INT(image_pdf_writer_page(w, big, sizeof big, 10, 10, 3), -1, "sink failed");
	CHECK_INT(image_pdf_writer_finish(w), -1, "and stays failed");
	image_pdf_writer_free(w);
}

static void test_download_filename(void)
{
	static const struct {
		const char *rel, *want;
	} cases[] = {
		{ "books/b1", "books-b1.pdf" },
		{ "", "manifest.pdf" },
		{ "grid.png", "grid.png.pdf" },
		{ ".hidden", "_hidden.pdf" },
		{ "../\xc3\xa9t\xc3\xa9 \"q\";\r\nx.png", "_.-_t_q_x.png.pdf" },
		{ "a b\tc", "a_b_c.pdf" },
	};
	char out[128];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pdf_download_filename(cases[i].rel, out, sizeof out);
		CHECK_STR(out, cases[i].want, "file name");
	}
	char longer[400];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	pdf_download_filename(longer, out, sizeof out);
	CHECK_INT(strlen(out), 104, "100 characters and .pdf at most");
	char small[8];
	pdf_download_filename("abcdefghij", small, sizeof small);
	CHECK_STR(small, "abc.pdf", "cut to the buffer, still .pdf");
}

int main(void)
{
	if (VIPS_INIT("test_pdf"))
		return 1;
	UNIT_RUN(test_one_page);
	UNIT_RUN(test_three_pages);
	UNIT_RUN(test_page_sizes);
	UNIT_RUN(test_tiny_image_page);
	UNIT_RUN(test_errors);
	UNIT_RUN(test_download_filename);
	return unit_report("pdf");
}
