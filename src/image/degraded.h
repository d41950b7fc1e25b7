/*
 * degraded.h: the pixels of an access-controlled image's degraded tier (auth/, docs/access.md):
 * the whole image scaled down to fit max x max, made once into a file of its own. Serving the
 * tier from that file alone means no request for it, whatever its region, size or ^, can show
 * more detail than the small file holds.
 */
#ifndef IIIFD_IMAGE_DEGRADED_H
#define IIIFD_IMAGE_DEGRADED_H

#include "core/error.h"
#include "image/pipeline.h"
#include "image/source.h"

/*
 * The path (malloc'd, caller frees) of src scaled to fit max x max as JPEG, under dir (created if
 * needed), named after src's path, page, version and max; written atomically when missing. NULL
 * with err on failure.
 */
char *image_degraded_file(const struct image_source *src, int max, const char *dir,
			  const struct image_encode_options *enc, struct iiifd_error *err);

#endif
