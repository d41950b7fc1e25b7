/*
 * pdf.h: the Image API's "pdf" format: a one-page PDF 1.4 whose page is the image, embedded as a
 * JPEG stream (DCTDecode), one point per pixel.
 */
#ifndef IIIFD_IMAGE_PDF_H
#define IIIFD_IMAGE_PDF_H

#include <stddef.h>
#include <vips/vips.h>

/*
 * Encodes in (8-bit, 1 or 3 bands, no alpha) as JPEG at quality and wraps it in a PDF.
 * Returns 0 and *out (free with g_free) / *len, or -1 with the libvips error buffer set.
 */
int image_pdf_from_image(VipsImage *in, int quality, void **out, size_t *len);

#endif
