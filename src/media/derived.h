/*
 * derived.h: still images made from media files for placeholder Canvases: a poster frame of a
 * video, and a rendered waveform of an audio file. Both are written once into a folder and then
 * served through the Image API like any other image.
 */
#ifndef IIIFD_MEDIA_DERIVED_H
#define IIIFD_MEDIA_DERIVED_H

#include "core/error.h"

enum media_derived_kind { MEDIA_DERIVED_POSTER, MEDIA_DERIVED_WAVEFORM };

/*
 * Returns (malloc'd, caller frees) the path of the derived image for media_path, making it if
 * missing or older than the media file: a JPEG of the video frame at 10% of the duration (at most
 * 10 s in), at the video's display size; or a 1200x300 PNG waveform (peaks per column, light
 * background, dark wave). Files are written under dir (created if needed) with names derived
 * from media_path and its mtime, atomically (temporary name + rename), so concurrent callers are
 * safe. Returns NULL with err set (415 not a media file of that kind, 500 decode failure).
 */
char *media_derived_image(const char *media_path, enum media_derived_kind kind, const char *dir,
			  struct iiifd_error *err);

#endif
