/*
 * pdf.c: writes the smallest complete PDF that shows one JPEG: catalog, page tree, page, image
 * XObject and content stream, with a cross-reference table of exact byte offsets.
 */
#include "image/pdf.h"

#include <stdarg.h>
#include <stdio.h>

#define PDF_OBJECTS 5

static void pdf_printf(GByteArray *pdf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pdf_printf(GByteArray *pdf, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	g_byte_array_append(pdf, (const guint8 *)text, (guint)n);
}

static void pdf_write(GByteArray *pdf, const void *jpeg, size_t jpeg_len, int w, int h, int bands)
{
	size_t offsets[PDF_OBJECTS + 1];
	char content[128];
	int content_len = snprintf(content, sizeof content, "q %d 0 0 %d 0 0 cm /Im0 Do Q\n", w, h);

	pdf_printf(pdf, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	offsets[1] = pdf->len;
	pdf_printf(pdf, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	offsets[2] = pdf->len;
	pdf_printf(pdf, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
	offsets[3] = pdf->len;
	pdf_printf(pdf, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
			"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>\nendobj\n",
		   w, h);
	offsets[4] = pdf->len;
	pdf_printf(pdf, "4 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d "
			"/ColorSpace /%s /BitsPerComponent 8 /Filter /DCTDecode /Length %zu >>\n"
			"stream\n",
		   w, h, bands == 1 ? "DeviceGray" : "DeviceRGB", jpeg_len);
	g_byte_array_append(pdf, jpeg, (guint)jpeg_len);
	pdf_printf(pdf, "\nendstream\nendobj\n");
	offsets[5] = pdf->len;
	pdf_printf(pdf, "5 0 obj\n<< /Length %d >>\nstream\n%sendstream\nendobj\n", content_len,
		   content);
	size_t xref = pdf->len;
	pdf_printf(pdf, "xref\n0 %d\n0000000000 65535 f \n", PDF_OBJECTS + 1);
	for (int i = 1; i <= PDF_OBJECTS; i++)
		pdf_printf(pdf, "%010zu 00000 n \n", offsets[i]);
	pdf_printf(pdf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		   PDF_OBJECTS + 1, xref);
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
	pdf_write(pdf, jpeg, jpeg_len, in->Xsize, in->Ysize, in->Bands);
	g_free(jpeg);
	*len = pdf->len;
	*out = g_byte_array_free(pdf, FALSE);
	return 0;
}
