/*
 * probe.h: what an audio or video file is, read with libavformat: kind, duration, display size,
 * MIME type. Used for A/V Canvases and for serving media files with the right Content-Type.
 */
#ifndef IIIFD_MEDIA_PROBE_H
#define IIIFD_MEDIA_PROBE_H

#include <stdbool.h>

#include "core/error.h"

enum media_kind { MEDIA_AUDIO, MEDIA_VIDEO };

struct media_info {
	enum media_kind kind;   /* VIDEO when there is a video stream that is not a cover picture */
	double duration;        /* seconds, > 0 */
	int width, height;      /* video: display size (sample aspect ratio and rotation applied) */
	char mime[48];          /* e.g. "video/mp4", "audio/mpeg", "audio/ogg", "video/webm" */
};

/* File extensions of media iiifd serves (lower case, NULL-terminated). */
extern const char *const media_extensions[];

/* MIME type for serving path by its extension (media and "vtt"), or NULL if not media. */
const char *media_mime_for_path(const char *path);

/*
 * Probes path. Errors: 404 when path does not exist, 415 when it is not audio or video
 * libavformat can read, 500 when the file is damaged (no duration). Never crashes on hostile input.
 */
int media_probe(const char *path, struct media_info *out, struct iiifd_error *err);

/*
 * For code that decodes media (derived.c), so every opening of outside files goes through the
 * same limits: only local files or objects of a remote root, only the demuxers of
 * media_extensions, bounded probing.
 * struct AVFormatContext is libavformat's; declared here so this header does not pull libav in.
 */
struct AVFormatContext;

/* Opens path (a local file, or a location below a remote root, storage/root.h, read by range)
 * and reads its stream info into *fmt; the caller frees it with media_probe_close(). Errors as
 * media_probe. */
int media_probe_open(const char *path, struct AVFormatContext **fmt, struct iiifd_error *err);
/* Closes what media_probe_open() opened (its I/O too); NULL is fine. */
void media_probe_close(struct AVFormatContext **fmt);

/* Index of the first video stream of fmt that is not a cover picture, or -1. */
int media_probe_video_stream(const struct AVFormatContext *fmt);

/* Clockwise rotation that displaying stream index of fmt needs: 0, 90, 180 or 270 degrees. */
int media_probe_rotation(const struct AVFormatContext *fmt, int index);

#endif
