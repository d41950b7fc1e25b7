/*
 * pdf.h: PDF 1.4 documents whose pages are JPEG images (DCTDecode), written front to back into
 * any sink: the Image API's one-page "pdf" format, and the N-page PDF of a Manifest
 * (web/pdf_download.c). One page writer serves both.
 */
#ifndef IIIFD_IMAGE_PDF_H
#define IIIFD_IMAGE_PDF_H

#include <stddef.h>
#include <vips/vips.h>

/* PDF page sides must be 3 to 14,400 units (ISO 32000-1, annex C). */
#define IMAGE_PDF_MIN_UNITS 3.0
#define IMAGE_PDF_MAX_UNITS 14400.0

/*
 * The page of a width x height pixel image: one unit per pixel, scaled up so the shorter side is
 * at least 3 units, or down so the longer is at most 14,400 (that wins for an image more than
 * 4,800 times longer than wide, whose page is then padded to 3 units). *scale is units per pixel.
 */
void image_pdf_page_size(int width, int height, double *page_w, double *page_h, double *scale);

/* Receives the PDF's bytes in order; returns 0, or -1 to stop the writer (a full disk). */
typedef int (*image_pdf_sink_fn)(void *cls, const void *data, size_t len);

struct image_pdf_writer;

/* Starts a PDF (writes its header into sink). NULL when out of memory. */
struct image_pdf_writer *image_pdf_writer_new(image_pdf_sink_fn sink, void *cls);

/*
 * Adds a page showing jpeg (width x height pixels, 1 band = grey, 3 = RGB), which is copied to
 * the sink at once: the writer keeps only the byte offsets of its objects. 0, or -1 when the
 * sink failed or the arguments are wrong.
 */
int image_pdf_writer_page(struct image_pdf_writer *w, const void *jpeg, size_t len, int width,
			  int height, int bands);

/* Writes the page tree, cross-reference table and trailer. 0, or -1 (no page, sink failed). */
int image_pdf_writer_finish(struct image_pdf_writer *w);

/* Bytes written so far. */
size_t image_pdf_writer_size(const struct image_pdf_writer *w);

void image_pdf_writer_free(struct image_pdf_writer *w);

/*
 * Encodes in (8-bit, 1 or 3 bands, no alpha) as JPEG at quality and wraps it in a one-page PDF.
 * Returns 0 and *out (free with g_free) / *len, or -1 with the libvips error buffer set.
 */
int image_pdf_from_image(VipsImage *in, int quality, void **out, size_t *len);

#endif
