/*
 * remote_file.h: one object of a remote_store read like a file, for the decoders that read
 * through callbacks: libtiff (TIFFClientOpen) and libvips (a VipsSource). Every read goes
 * through the store's block cache (remote.h), so opening a pyramidal TIFF reads its directories
 * once and a tile costs the ranged GETs of its own bytes.
 *
 * A remote_file is used by one thread at a time (it has a position), like a FILE.
 */
#ifndef IIIFD_STORAGE_REMOTE_FILE_H
#define IIIFD_STORAGE_REMOTE_FILE_H

#include <tiffio.h>
#include <vips/vips.h>

#include "storage/remote.h"

struct remote_file;

/* HEADs key and opens it for reading (404 when it does not exist). */
int remote_file_open(struct remote_store *s, const char *key, struct remote_file **out,
		     struct iiifd_error *err);
/* Opens key at a version known already (st): no request; reads fail with 409 if it changed. */
int remote_file_open_at(struct remote_store *s, const char *key, const struct remote_stat *st,
			struct remote_file **out, struct iiifd_error *err);
void remote_file_close(struct remote_file *f);
const struct remote_stat *remote_file_stat(const struct remote_file *f);

/*
 * A libtiff handle reading f; closing it (TIFFClose) closes f too. NULL when libtiff cannot read
 * the object (err says why).
 */
TIFF *remote_file_tiff(struct remote_file *f, struct iiifd_error *err);

/*
 * A libvips source reading f (a new reference; f is closed when the source is finalized).
 * Load from it with vips_image_new_from_source().
 */
VipsSource *remote_file_vips_source(struct remote_file *f);

#endif
