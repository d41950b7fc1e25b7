/*
 * pdf_download.h: GET /pdf/{path}/manifest?width=N, a PDF with one page per image Canvas of the
 * Manifest at /iiif/presentation/{path}/manifest, each page rendered by the Image API pipeline.
 */
#ifndef IIIFD_WEB_PDF_DOWNLOAD_H
#define IIIFD_WEB_PDF_DOWNLOAD_H

#include <stddef.h>

#include "http/message.h"
#include "image/service.h"
#include "presentation/service.h"

/* Page image width when the request gives none (capped by pdf-max-width). */
#define PDF_DOWNLOAD_DEFAULT_WIDTH 1000

/*
 * Answers the raw path below /pdf/ ("books/b1/manifest"). 404 when no Manifest with images is
 * there, 400 for a width or page count over the settings' caps, 503 when no render slot frees
 * up in time. The whole PDF is rendered under one large admission slot, page after page, into
 * an unlinked temporary file (memory holds one page at a time), then sent from that file.
 */
void pdf_download_handle(const struct image_service *image, const struct pres_service *pres,
			 const char *path, const struct http_request *req,
			 struct http_response *resp);

/*
 * The download's file name for a Manifest path: "books/b1" -> "books-b1.pdf", "" ->
 * "manifest.pdf"; only letters, digits, '.', '-' and '_' are kept (others become '_', runs of
 * them one), so the name is safe in a quoted Content-Disposition and on any file system.
 */
void pdf_download_filename(const char *rel, char *out, size_t n);

#endif
