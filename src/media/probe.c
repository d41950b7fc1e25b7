/*
 * probe.c: opening audio and video files with libavformat under fixed limits, and reading from
 * them what a Canvas needs (kind, duration, display size) and the MIME type to serve them with.
 */
#include "media/probe.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/display.h>

#include "core/log.h"
#include "media/probe_io.h"
#include "storage/root.h"

const char *const media_extensions[] = { "mp3", "m4a", "aac",  "ogg", "oga", "opus", "flac",
					 "wav", "mp4", "m4v", "webm", "mov", NULL };

struct probe_ext_mime {
	const char *ext;
	const char *mime;
};

static const struct probe_ext_mime probe_ext_mimes[] = {
	{ "mp3", "audio/mpeg" }, { "m4a", "audio/mp4" },   { "aac", "audio/aac" },
	{ "ogg", "audio/ogg" },	 { "oga", "audio/ogg" },   { "opus", "audio/ogg" },
	{ "flac", "audio/flac" }, { "wav", "audio/wav" },  { "mp4", "video/mp4" },
	{ "m4v", "video/mp4" },	 { "webm", "video/webm" }, { "mov", "video/quicktime" },
	{ "vtt", "text/vtt" },	 { NULL, NULL },
};

/* The demuxers iiifd opens files with (one name of each demuxer's comma-separated name list),
 * with the MIME type of their audio-only and video files. Anything else is refused: libavformat
 * has many more demuxers (playlists that open other files among them) that a served folder does
 * not need. */
struct probe_demuxer {
	const char *name;
	const char *audio_mime;
	const char *video_mime;
};

static const struct probe_demuxer probe_demuxers[] = {
	{ "mov", "audio/mp4", "video/mp4" },	   { "matroska", "audio/webm", "video/webm" },
	{ "ogg", "audio/ogg", "video/ogg" },	   { "mp3", "audio/mpeg", "audio/mpeg" },
	{ "flac", "audio/flac", "audio/flac" }, { "wav", "audio/wav", "audio/wav" },
	{ "aac", "audio/aac", "audio/aac" },
};

#define PROBE_FORMAT_WHITELIST "mov,matroska,ogg,mp3,flac,wav,aac"
#define PROBE_SIZE "5000000"	      /* bytes read to find streams */
#define PROBE_ANALYZE_DURATION "10000000" /* microseconds of media read to find stream info */
#define PROBE_MAX_STREAMS "64"
#define PROBE_MAX_SIDE 32768 /* a display size larger than this comes from a broken SAR */

/* The extension of path's last component, lower case, in ext; false if none fits. */
static bool probe_extension(const char *path, char ext[8])
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash + 1 : path, '.');
	if (!dot || !dot[1] || strlen(dot + 1) >= 8)
		return false;
	size_t i = 0;
	for (const char *p = dot + 1; *p; p++)
		ext[i++] = (char)av_tolower((unsigned char)*p);
	ext[i] = '\0';
	return true;
}

const char *media_mime_for_path(const char *path)
{
	char ext[8];
	if (!path || !probe_extension(path, ext))
		return NULL;
	for (const struct probe_ext_mime *m = probe_ext_mimes; m->ext; m++)
		if (strcmp(m->ext, ext) == 0)
			return m->mime;
	return NULL;
}

/* libav logs to stderr by default; its messages about hostile or odd files are only worth
 * seeing when debugging, so they go to iiifd's log at debug level. */
static void probe_log_callback(void *avcl, int level, const char *fmt, va_list vl)
{
	if (level > AV_LOG_WARNING)
		return;
	char line[512];
	int print_prefix = 1;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
	size_t len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len)
		log_debug("libav: %s", line);
}

static pthread_once_t probe_log_once = PTHREAD_ONCE_INIT;

static void probe_log_init(void)
{
	av_log_set_callback(probe_log_callback);
}

static int probe_av_error(struct iiifd_error *err, int status, const char *what, int averr)
{
	char reason[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(averr, reason, sizeof reason);
	if (averr == AVERROR(ENOMEM))
		status = 500;
	return iiifd_error_set(err, status, "%s (%s)", what, reason);
}

/* 404/415 for paths that cannot be media files at all, before libav sees them. */
static int probe_check_file(const char *path, struct iiifd_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		int status = errno == ENOENT || errno == ENOTDIR ? 404 : 500;
		return iiifd_error_set(err, status, "cannot read media file: %s", strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return iiifd_error_set(err, 415, "not a media file: not a regular file");
	if (st.st_size == 0)
		return iiifd_error_set(err, 415, "not a media file: empty");
	return 0;
}

/* The format context for path: a local file by name, a remote object through ranged reads. */
static int probe_context(const char *path, AVFormatContext **fmt, char **url,
			 struct iiifd_error *err)
{
	*url = NULL;
	if (!storage_spec_is_remote(path)) {
		/* "file:" keeps a name like "a:b.mp4" from being taken for a protocol. */
		if (!(*url = av_asprintf("file:%s", path)))
			return iiifd_error_set(err, 500, "out of memory");
		return 0;
	}
	AVIOContext *pb = media_probe_io_open(path, err);
	if (!pb)
		return -1;
	if (!(*fmt = avformat_alloc_context())) {
		media_probe_io_close(&pb);
		return iiifd_error_set(err, 500, "out of memory");
	}
	(*fmt)->pb = pb;
	(*fmt)->flags |= AVFMT_FLAG_CUSTOM_IO;
	/* the name only guides probing by extension: nothing is opened by it */
	if (!(*url = av_strdup(path))) {
		media_probe_close(fmt);
		return iiifd_error_set(err, 500, "out of memory");
	}
	return 0;
}

int media_probe_open(const char *path, struct AVFormatContext **fmt, struct iiifd_error *err)
{
	pthread_once(&probe_log_once, probe_log_init);
	*fmt = NULL;
	char *url;
	bool local = !storage_spec_is_remote(path);
	if ((local && probe_check_file(path, err)) || probe_context(path, fmt, &url, err))
		return -1;
	AVIOContext *custom = *fmt ? (*fmt)->pb : NULL; /* libavformat never frees it */
	AVDictionary *opts = NULL;
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	av_dict_set(&opts, "format_whitelist", PROBE_FORMAT_WHITELIST, 0);
	av_dict_set(&opts, "probesize", PROBE_SIZE, 0);
	av_dict_set(&opts, "analyzeduration", PROBE_ANALYZE_DURATION, 0);
	av_dict_set(&opts, "max_streams", PROBE_MAX_STREAMS, 0);
	int rc = avformat_open_input(fmt, url, NULL, &opts);
	av_dict_free(&opts);
	av_free(url);
	if (rc < 0) {
		media_probe_io_close(&custom); /* *fmt is freed and NULL */
		return probe_av_error(err, 415, "not an audio or video file iiifd can read", rc);
	}
	rc = avformat_find_stream_info(*fmt, NULL);
	if (rc < 0) {
		media_probe_close(fmt);
		return probe_av_error(err, 500, "damaged media file", rc);
	}
	return 0;
}

void media_probe_close(struct AVFormatContext **fmt)
{
	if (!*fmt)
		return;
	AVIOContext *custom = ((*fmt)->flags & AVFMT_FLAG_CUSTOM_IO) ? (*fmt)->pb : NULL;
	avformat_close_input(fmt);
	media_probe_io_close(&custom);
}

int media_probe_video_stream(const struct AVFormatContext *fmt)
{
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *st = fmt->streams[i];
		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			return (int)i;
	}
	return -1;
}

static bool probe_has_audio(const AVFormatContext *fmt)
{
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
			return true;
	return false;
}

/* The stream's display matrix (9 int32), or NULL. Its home moved in FFmpeg 6.1. */
static const int32_t *probe_display_matrix(const AVStream *st)
{
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 31, 102)
	const AVPacketSideData *sd =
		av_packet_side_data_get(st->codecpar->coded_side_data,
					st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
	return sd && sd->size >= 9 * sizeof(int32_t) ? (const int32_t *)sd->data : NULL;
#else
	size_t size = 0;
	const uint8_t *data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	return data && size >= 9 * sizeof(int32_t) ? (const int32_t *)data : NULL;
#endif
}

int media_probe_rotation(const struct AVFormatContext *fmt, int index)
{
	if (index < 0 || (unsigned)index >= fmt->nb_streams)
		return 0;
	const int32_t *matrix = probe_display_matrix(fmt->streams[index]);
	if (!matrix)
		return 0;
	/* av_display_rotation_get() gives the counter-clockwise angle the matrix applies. */
	double ccw = av_display_rotation_get(matrix);
	if (!isfinite(ccw))
		return 0;
	long quarter = lrint(-ccw / 90.0) % 4;
	return (int)((quarter + 4) % 4) * 90;
}

/* Seconds: the container's duration, else the longest stream's; 0 when unknown. */
static double probe_duration(const AVFormatContext *fmt)
{
	if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
		return (double)fmt->duration / AV_TIME_BASE;
	double longest = 0;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *st = fmt->streams[i];
		if (st->duration == AV_NOPTS_VALUE || st->duration <= 0 || st->time_base.num <= 0 ||
		    st->time_base.den <= 0)
			continue;
		double d = (double)st->duration * av_q2d(st->time_base);
		if (isfinite(d) && d > longest)
			longest = d;
	}
	return longest;
}

static int probe_display_size(AVFormatContext *fmt, int index, struct media_info *out,
			      struct iiifd_error *err)
{
	AVStream *st = fmt->streams[index];
	int w = st->codecpar->width, h = st->codecpar->height;
	if (w <= 0 || h <= 0)
		return iiifd_error_set(err, 500, "damaged media file: video has no frame size");
	AVRational sar = av_guess_sample_aspect_ratio(fmt, st, NULL);
	if (sar.num > 0 && sar.den > 0) {
		double dw = w * av_q2d(sar);
		if (dw >= 1 && dw <= PROBE_MAX_SIDE)
			w = (int)lrint(dw);
	}
	if (media_probe_rotation(fmt, index) % 180 == 90) {
		int t = w;
		w = h;
		h = t;
	}
	out->width = w;
	out->height = h;
	return 0;
}

/* The container decides the family; the extension picks among the family's types. */
static const char *probe_mime(const AVFormatContext *fmt, const char *path, bool video)
{
	const struct probe_demuxer *dm = &probe_demuxers[0];
	for (size_t i = 0; i < sizeof probe_demuxers / sizeof probe_demuxers[0]; i++)
		if (av_match_list(fmt->iformat->name, probe_demuxers[i].name, ',') > 0)
			dm = &probe_demuxers[i];
	char ext[8];
	if (strcmp(dm->name, "mov") == 0 && probe_extension(path, ext)) {
		if (strcmp(ext, "mov") == 0)
			return "video/quicktime";
		if (strcmp(ext, "m4a") == 0 || strcmp(ext, "aac") == 0)
			return "audio/mp4";
		if (strcmp(ext, "mp4") == 0 || strcmp(ext, "m4v") == 0)
			return "video/mp4";
	}
	return video ? dm->video_mime : dm->audio_mime;
}

static int probe_fill(AVFormatContext *fmt, const char *path, struct media_info *out,
		      struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	int video = media_probe_video_stream(fmt);
	if (video < 0 && !probe_has_audio(fmt))
		return iiifd_error_set(err, 415, "not a media file: no audio or video stream");
	out->duration = probe_duration(fmt);
	if (!(out->duration > 0))
		return iiifd_error_set(err, 500, "damaged media file: no duration");
	out->kind = video >= 0 ? MEDIA_VIDEO : MEDIA_AUDIO;
	if (video >= 0 && probe_display_size(fmt, video, out, err))
		return -1;
	snprintf(out->mime, sizeof out->mime, "%s", probe_mime(fmt, path, video >= 0));
	return 0;
}

int media_probe(const char *path, struct media_info *out, struct iiifd_error *err)
{
	AVFormatContext *fmt = NULL;
	if (media_probe_open(path, &fmt, err))
		return -1;
	int rc = probe_fill(fmt, path, out, err);
	media_probe_close(&fmt);
	return rc;
}
