/*
 * pdf.c: writes the smallest complete PDF that shows one JPEG per page, streaming: catalog, then
 * per page its page object, image XObject and content stream, then the page tree (whose kids are
 * only known at the end), and a cross-reference table of exact byte offsets.
 *
 * Objects: 1 catalog, 2 page tree, page i (0-based) 3+3i page, 4+3i image, 5+3i content.
 */
#include "image/pdf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PDF_FIXED_OBJECTS 2
#define PDF_OBJECTS_PER_PAGE 3

struct image_pdf_writer {
	image_pdf_sink_fn sink;
	void *cls;
	size_t pos;      /* bytes written */
	size_t *offsets; /* offsets[n] = where object n starts; [0] unused */
	size_t nobjects; /* highest object number written */
	size_t cap;
	int pages;
	bool failed;
};

void image_pdf_page_size(int width, int height, double *page_w, double *page_h, double *scale)
{
	double w = width > 0 ? width : 1, h = height > 0 ? height : 1;
	double shorter = w < h ? w : h, longer = w < h ? h : w;
	double s = 1;
	if (shorter * s < IMAGE_PDF_MIN_UNITS)
		s = IMAGE_PDF_MIN_UNITS / shorter;
	if (longer * s > IMAGE_PDF_MAX_UNITS)
		s = IMAGE_PDF_MAX_UNITS / longer;
	*scale = s;
	*page_w = w * s < IMAGE_PDF_MIN_UNITS ? IMAGE_PDF_MIN_UNITS : w * s;
	*page_h = h * s < IMAGE_PDF_MIN_UNITS ? IMAGE_PDF_MIN_UNITS : h * s;
}

static void pdf_bytes(struct image_pdf_writer *w, const void *data, size_t len)
{
	if (w->failed)
		return;
	if (w->sink(w->cls, data, len) < 0) {
		w->failed = true;
		return;
	}
	w->pos += len;
}

static void pdf_printf(struct image_pdf_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pdf_printf(struct image_pdf_writer *w, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof text) {
		w->failed = true; /* every format here is short: this is a bug, not a big input */
		return;
	}
	pdf_bytes(w, text, (size_t)n);
}

/* A PDF real: fixed notation (PDF has no exponents), trailing zeros dropped. */
static const char *pdf_real(double v, char *buf, size_t n)
{
	snprintf(buf, n, "%.4f", v);
	char *end = buf + strlen(buf) - 1;
	while (end > buf && *end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
	return buf;
}

/* Records that object number obj starts here. */
static void pdf_object(struct image_pdf_writer *w, size_t obj)
{
	if (obj >= w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		while (cap <= obj)
			cap *= 2;
		size_t *grown = realloc(w->offsets, cap * sizeof *grown);
		if (!grown) {
			w->failed = true;
			return;
		}
		w->offsets = grown;
		w->cap = cap;
	}
	w->offsets[obj] = w->pos;
	if (obj > w->nobjects)
		w->nobjects = obj;
}

static int pdf_sink_array(void *cls, const void *data, size_t len)
{
	g_byte_array_append(cls, data, (guint)len);
	return 0;
}

struct image_pdf_writer *image_pdf_writer_new(image_pdf_sink_fn sink, void *cls)
{
	struct image_pdf_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->sink = sink;
	w->cls = cls;
	/* the second line's bytes above 127 tell transfer tools the file is binary */
	pdf_printf(w, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	pdf_object(w, 1);
	pdf_printf(w, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	return w;
}

int image_pdf_writer_page(struct image_pdf_writer *w, const void *jpeg, size_t len, int width,
			  int height, int bands)
{
	if (width < 1 || height < 1 || (bands != 1 && bands != 3))
		return -1;
	size_t page = PDF_FIXED_OBJECTS + 1 + (size_t)w->pages * PDF_OBJECTS_PER_PAGE;
	double pw, ph, s;
	char a[32], b[32], c[32], d[32], content[160];
	image_pdf_page_size(width, height, &pw, &ph, &s);
	int content_len = snprintf(content, sizeof content, "q %s 0 0 %s 0 0 cm /Im0 Do Q",
				   pdf_real(width * s, a, sizeof a), pdf_real(height * s, b, sizeof b));
	pdf_object(w, page);
	pdf_printf(w, "%zu 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "
		      "/Resources << /XObject << /Im0 %zu 0 R >> >> /Contents %zu 0 R >>\nendobj\n",
		   page, pdf_real(pw, c, sizeof c), pdf_real(ph, d, sizeof d), page + 1, page + 2);
	pdf_object(w, page + 1);
	pdf_printf(w, "%zu 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d "
		      "/ColorSpace /%s /BitsPerComponent 8 /Filter /DCTDecode /Length %zu >>\n"
		      "stream\n",
		   page + 1, width, height, bands == 1 ? "DeviceGray" : "DeviceRGB", len);
	pdf_bytes(w, jpeg, len);
	pdf_printf(w, "\nendstream\nendobj\n");
	pdf_object(w, page + 2);
	pdf_printf(w, "%zu 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", page + 2,
		   content_len, content);
	w->pages++;
	return w->failed ? -1 : 0;
}

/* The page tree: its /Kids list, written a few references at a time. */
static void pdf_page_tree(struct image_pdf_writer *w)
{
	pdf_object(w, 2);
	pdf_printf(w, "2 0 obj\n<< /Type /Pages /Count %d /Kids [", w->pages);
	for (int i = 0; i < w->pages; i++)
		pdf_printf(w, "%s%zu 0 R", i == 0 ? "" : i % 16 ? " " : "\n",
			   PDF_FIXED_OBJECTS + 1 + (size_t)i * PDF_OBJECTS_PER_PAGE);
	pdf_printf(w, "] >>\nendobj\n");
}

int image_pdf_writer_finish(struct image_pdf_writer *w)
{
	if (w->pages == 0)
		return -1;
	pdf_page_tree(w);
	size_t xref = w->pos;
	pdf_printf(w, "xref\n0 %zu\n0000000000 65535 f \n", w->nobjects + 1);
	for (size_t i = 1; i <= w->nobjects && !w->failed; i++)
		pdf_printf(w, "%010zu 00000 n \n", w->offsets[i]);
	pdf_printf(w, "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		   w->nobjects + 1, xref);
	return w->failed ? -1 : 0;
}

size_t image_pdf_writer_size(const struct image_pdf_writer *w)
{
	return w->pos;
}

void image_pdf_writer_free(struct image_pdf_writer *w)
{
	if (!w)
		return;
	free(w->offsets);
	free(w);
}

int image_pdf_from_image(VipsImage *in, int quality, void **out, size_t *len)
{
	void *jpeg;
	size_t jpeg_len;
	if (in->Bands != 1 && in->Bands != 3) {
		vips_error("pdf", "expected 1 or 3 bands, got %d", in->Bands);
		return -1;
	}
	if (vips_jpegsave_buffer(in, &jpeg, &jpeg_len, "Q", quality, "strip", TRUE, NULL))
		return -1;
	GByteArray *pdf = g_byte_array_sized_new((guint)jpeg_len + 1024);
	struct image_pdf_writer *w = image_pdf_writer_new(pdf_sink_array, pdf);
	int rc = w && image_pdf_writer_page(w, jpeg, jpeg_len, in->Xsize, in->Ysize, in->Bands) == 0 &&
			 image_pdf_writer_finish(w) == 0
		 ? 0
		 : -1;
	image_pdf_writer_free(w);
	g_free(jpeg);
	if (rc < 0) {
		g_byte_array_free(pdf, TRUE);
		vips_error("pdf", "out of memory");
		return -1;
	}
	*len = pdf->len;
	*out = g_byte_array_free(pdf, FALSE);
	return 0;
}
