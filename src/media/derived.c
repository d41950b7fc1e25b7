/*
 * derived.c: poster frames (libavcodec + libswscale, JPEG by libvips) and waveforms (libavcodec +
 * libswresample, PNG by libvips) of media files, cached as files named by path and mtime.
 */
#include "media/derived.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <vips/vips.h>

#include "core/fileio.h"
#include "media/probe.h"
#include "storage/root.h"

#define DERIVED_POSTER_AT 0.10		 /* poster frame at this fraction of the duration */
#define DERIVED_POSTER_MAX_AT 10.0	 /* ... and at most this many seconds in */
#define DERIVED_POSTER_MAX_PACKETS 5000	 /* packets read looking for it, bounding hostile files */
#define DERIVED_POSTER_MAX_PIXELS (8192L * 8192L) /* 200 MB of RGB */
#define DERIVED_JPEG_Q 85

#define DERIVED_WAVE_W 1200
#define DERIVED_WAVE_H 300
#define DERIVED_WAVE_BLOCKS 16384 /* peak blocks kept while decoding, whatever the length */
#define DERIVED_WAVE_BG 0xf4	  /* light grey background */
#define DERIVED_WAVE_LINE 0xb0	  /* centre line */
#define DERIVED_WAVE_FG 0x30	  /* dark wave */

/* An encoded image in memory (g_free'd: libvips allocates it). */
struct derived_image {
	void *data;
	size_t len;
};

/* --- files ---------------------------------------------------------------------------------- */

static char *derived_path(const char *media_path, const struct storage_stat *st,
			  enum media_derived_kind kind, const char *dir)
{
	/* an object of a remote root: its ETag too (replaced within the second it was written) */
	char *named = *st->etag ? g_strconcat(media_path, "|", st->etag, NULL) : g_strdup(media_path);
	gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, named, -1);
	g_free(named);
	char *path = NULL;
	if (sum &&
	    asprintf(&path, "%s/%s-%lld.%s", dir, sum, (long long)st->mtime.tv_sec,
		     kind == MEDIA_DERIVED_POSTER ? "jpg" : "png") < 0)
		path = NULL;
	g_free(sum);
	return path;
}

static bool derived_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* Writes img to path whole (see fileio.h), so that readers and concurrent writers of the same
 * path only ever see a whole file. */
static int derived_write(const char *path, const struct derived_image *img,
			 struct iiifd_error *err)
{
	if (fileio_write_atomic(path, img->data, img->len, true) < 0)
		return iiifd_error_set(err, 500, "cannot store derived image: %s", strerror(errno));
	return 0;
}

/* --- decoding ------------------------------------------------------------------------------- */

static int derived_open_decoder(AVFormatContext *fmt, int index, AVCodecContext **dec,
				struct iiifd_error *err)
{
	const AVCodecParameters *par = fmt->streams[index]->codecpar;
	const AVCodec *codec = avcodec_find_decoder(par->codec_id);
	if (!codec)
		return iiifd_error_set(err, 415, "no decoder for the codec of this media file");
	*dec = avcodec_alloc_context3(codec);
	if (!*dec)
		return iiifd_error_set(err, 500, "out of memory");
	/* One frame or one pass: threads would only add latency and contend with requests. */
	(*dec)->thread_count = 1;
	if (avcodec_parameters_to_context(*dec, par) < 0 || avcodec_open2(*dec, codec, NULL) < 0) {
		avcodec_free_context(dec);
		return iiifd_error_set(err, 500, "cannot open the decoder of this media file");
	}
	return 0;
}

/* Called for each decoded frame; returns 1 to stop decoding, 0 to go on, -1 on error. */
typedef int (*derived_frame_fn)(AVFrame *frame, void *ctx);

/* Drains every frame dec has ready into fn. Returns 1 when fn asked to stop or the decoder is
 * at its end, 0 when it wants more input, -1 when fn failed. Frames the decoder cannot make
 * (damaged data) are skipped. */
static int derived_drain(AVCodecContext *dec, AVFrame *frame, derived_frame_fn fn, void *ctx)
{
	for (;;) {
		int rc = avcodec_receive_frame(dec, frame);
		if (rc == AVERROR(EAGAIN))
			return 0;
		if (rc == AVERROR_EOF)
			return 1;
		if (rc < 0)
			return 0;
		rc = fn(frame, ctx);
		av_frame_unref(frame);
		if (rc)
			return rc;
	}
}

/* Feeds stream index of fmt through dec into fn until fn stops, the file ends or max_packets
 * packets (of any stream; 0 for no limit) were read. */
static int derived_decode(AVFormatContext *fmt, int index, AVCodecContext *dec, long max_packets,
			  derived_frame_fn fn, void *ctx)
{
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	int rc = -1;
	if (!pkt || !frame)
		goto out;
	for (long n = 0; !max_packets || n < max_packets; n++) {
		if (av_read_frame(fmt, pkt) < 0)
			break;
		if (pkt->stream_index == index)
			avcodec_send_packet(dec, pkt); /* a damaged packet is skipped */
		av_packet_unref(pkt);
		if ((rc = derived_drain(dec, frame, fn, ctx)) != 0)
			goto out;
	}
	avcodec_send_packet(dec, NULL);
	rc = derived_drain(dec, frame, fn, ctx);
out:
	av_frame_free(&frame);
	av_packet_free(&pkt);
	return rc < 0 ? -1 : 0;
}

/* --- poster --------------------------------------------------------------------------------- */

struct derived_poster {
	int64_t at;   /* wanted timestamp, in the stream's time base */
	AVFrame *got; /* the latest frame decoded, the wanted one once decoding stops */
	bool any;
};

static int derived_poster_frame(AVFrame *frame, void *ctx)
{
	struct derived_poster *p = ctx;
	av_frame_unref(p->got);
	av_frame_move_ref(p->got, frame);
	p->any = true;
	int64_t ts = p->got->best_effort_timestamp;
	return ts == AV_NOPTS_VALUE || ts >= p->at ? 1 : 0;
}

/* Decodes into p->got the first frame at or after `seconds` (or the last one before the end). */
static int derived_poster_decode(AVFormatContext *fmt, int index, double seconds,
				 struct derived_poster *p, struct iiifd_error *err)
{
	AVStream *st = fmt->streams[index];
	AVCodecContext *dec = NULL;
	if (derived_open_decoder(fmt, index, &dec, err))
		return -1;
	p->at = av_rescale_q((int64_t)(seconds * AV_TIME_BASE), AV_TIME_BASE_Q, st->time_base);
	if (st->start_time != AV_NOPTS_VALUE)
		p->at += st->start_time;
	/* When seeking fails decoding starts at the beginning, which only takes longer. */
	av_seek_frame(fmt, index, p->at, AVSEEK_FLAG_BACKWARD);
	int rc = derived_decode(fmt, index, dec, DERIVED_POSTER_MAX_PACKETS, derived_poster_frame,
				p);
	avcodec_free_context(&dec);
	if (rc)
		return iiifd_error_set(err, 500, "out of memory decoding video");
	if (!p->any)
		return iiifd_error_set(err, 500, "damaged media file: no video frame could be decoded");
	return 0;
}

/* frame as packed RGB24 at w x h (av_free), converted from its own colour space and range. */
static uint8_t *derived_poster_rgb(const AVFrame *frame, int w, int h, struct iiifd_error *err)
{
	struct SwsContext *sws = sws_getContext(frame->width, frame->height, frame->format, w, h,
						AV_PIX_FMT_RGB24, SWS_BICUBIC, NULL, NULL, NULL);
	if (!sws) {
		iiifd_error_set(err, 500, "cannot convert this video's frames to RGB");
		return NULL;
	}
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
	int *inv, src_range, *fwd, dst_range, brightness, contrast, saturation;
	if (desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3 &&
	    sws_getColorspaceDetails(sws, &inv, &src_range, &fwd, &dst_range, &brightness,
				     &contrast, &saturation) >= 0) {
		/* The frame's own matrix and range; swscale assumes BT.601 limited range unless
		 * the pixel format says full range (yuvj). */
		src_range = src_range || frame->color_range == AVCOL_RANGE_JPEG;
		sws_setColorspaceDetails(sws, sws_getCoefficients(frame->colorspace), src_range,
					 fwd, 1, brightness, contrast, saturation);
	}
	int stride = w * 3;
	/* Padding: swscale's SIMD paths may write a little past the last pixel. */
	uint8_t *rgb = av_malloc((size_t)stride * h + 64);
	if (rgb) {
		uint8_t *dst[4] = { rgb, NULL, NULL, NULL };
		int dst_stride[4] = { stride, 0, 0, 0 };
		sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0,
			  frame->height, dst, dst_stride);
	} else {
		iiifd_error_set(err, 500, "out of memory");
	}
	sws_freeContext(sws);
	return rgb;
}

static int derived_encode(const uint8_t *rgb, int w, int h, int rotation, bool jpeg,
			  struct derived_image *out, struct iiifd_error *err)
{
	VipsImage *img = vips_image_new_from_memory(rgb, (size_t)w * h * 3, w, h, 3,
						    VIPS_FORMAT_UCHAR);
	VipsImage *turned = NULL;
	int rc = -1;
	if (!img)
		goto out;
	static const VipsAngle angles[] = { VIPS_ANGLE_D0, VIPS_ANGLE_D90, VIPS_ANGLE_D180,
					     VIPS_ANGLE_D270 };
	if (rotation && vips_rot(img, &turned, angles[(rotation / 90) % 4], NULL))
		goto out;
	VipsImage *final = turned ? turned : img;
	rc = jpeg ? vips_jpegsave_buffer(final, &out->data, &out->len, "Q", DERIVED_JPEG_Q, NULL)
		  : vips_pngsave_buffer(final, &out->data, &out->len, NULL);
out:
	/* Not libvips' error buffer: it is shared by all threads. */
	if (rc)
		iiifd_error_set(err, 500, "cannot encode the derived image");
	if (turned)
		g_object_unref(turned);
	if (img)
		g_object_unref(img);
	return rc ? -1 : 0;
}

static int derived_poster(const char *path, struct derived_image *out, struct iiifd_error *err)
{
	struct media_info info;
	if (media_probe(path, &info, err))
		return -1;
	if (info.kind != MEDIA_VIDEO)
		return iiifd_error_set(err, 415, "not a video: no poster frame");
	if ((long)info.width * info.height > DERIVED_POSTER_MAX_PIXELS)
		return iiifd_error_set(err, 500, "video frame too large for a poster");
	AVFormatContext *fmt = NULL;
	if (media_probe_open(path, &fmt, err))
		return -1;
	int index = media_probe_video_stream(fmt);
	if (index < 0) { /* replaced since it was probed */
		media_probe_close(&fmt);
		return iiifd_error_set(err, 415, "not a video: no poster frame");
	}
	int rotation = media_probe_rotation(fmt, index);
	/* Scaled to the display size before turning, so w/h are the unrotated display size. */
	int w = rotation % 180 ? info.height : info.width;
	int h = rotation % 180 ? info.width : info.height;
	struct derived_poster p = { .got = av_frame_alloc() };
	uint8_t *rgb = NULL;
	int rc = -1;
	if (!p.got) {
		iiifd_error_set(err, 500, "out of memory");
		goto out;
	}
	double at = fmin(info.duration * DERIVED_POSTER_AT, DERIVED_POSTER_MAX_AT);
	if (derived_poster_decode(fmt, index, at, &p, err))
		goto out;
	if (!(rgb = derived_poster_rgb(p.got, w, h, err)))
		goto out;
	rc = derived_encode(rgb, w, h, rotation, true, out, err);
out:
	av_free(rgb);
	av_frame_free(&p.got);
	media_probe_close(&fmt);
	return rc;
}

/* --- waveform ------------------------------------------------------------------------------- */

/* Min/max of consecutive blocks of samples. The block size doubles (merging neighbours) when
 * the table fills, so memory stays fixed for any length and no duration needs to be known. */
struct derived_wave {
	SwrContext *swr;
	AVFrame *mono;
	float min[DERIVED_WAVE_BLOCKS], max[DERIVED_WAVE_BLOCKS];
	size_t n, block, fill;
	float cur_min, cur_max;
	uint64_t samples;
};

static void derived_wave_push(struct derived_wave *w)
{
	if (w->n == DERIVED_WAVE_BLOCKS) {
		for (size_t i = 0; i < DERIVED_WAVE_BLOCKS / 2; i++) {
			w->min[i] = fminf(w->min[2 * i], w->min[2 * i + 1]);
			w->max[i] = fmaxf(w->max[2 * i], w->max[2 * i + 1]);
		}
		w->n = DERIVED_WAVE_BLOCKS / 2;
		w->block *= 2;
	}
	w->min[w->n] = w->cur_min;
	w->max[w->n] = w->cur_max;
	w->n++;
	w->fill = 0;
	w->cur_min = INFINITY;
	w->cur_max = -INFINITY;
}

static void derived_wave_add(struct derived_wave *w, const float *s, int count)
{
	for (int i = 0; i < count; i++) {
		float v = isfinite(s[i]) ? s[i] : 0.0f;
		w->cur_min = fminf(w->cur_min, v);
		w->cur_max = fmaxf(w->cur_max, v);
		if (++w->fill >= w->block)
			derived_wave_push(w);
	}
	w->samples += (uint64_t)count;
}

/* Mixes a decoded frame down to mono float and adds it; frames it cannot convert are skipped. */
static int derived_wave_frame(AVFrame *frame, void *ctx)
{
	struct derived_wave *w = ctx;
	if (frame->sample_rate <= 0 || frame->ch_layout.nb_channels <= 0)
		return 0;
	if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		int n = frame->ch_layout.nb_channels;
		av_channel_layout_uninit(&frame->ch_layout);
		av_channel_layout_default(&frame->ch_layout, n);
	}
	AVFrame *out = w->mono;
	av_frame_unref(out);
	out->format = AV_SAMPLE_FMT_FLT;
	out->sample_rate = frame->sample_rate;
	av_channel_layout_default(&out->ch_layout, 1);
	int rc = swr_convert_frame(w->swr, out, frame);
	if (rc == AVERROR_INPUT_CHANGED || rc == AVERROR_OUTPUT_CHANGED) {
		/* Layout or rate changed mid-stream: set up again for the new one. */
		swr_close(w->swr);
		av_frame_unref(out);
		out->format = AV_SAMPLE_FMT_FLT;
		out->sample_rate = frame->sample_rate;
		av_channel_layout_default(&out->ch_layout, 1);
		rc = swr_convert_frame(w->swr, out, frame);
	}
	if (rc >= 0 && out->nb_samples > 0)
		derived_wave_add(w, (const float *)out->data[0], out->nb_samples);
	return 0;
}

/* Peak range of column c of width columns, from the blocks. */
static void derived_wave_column(const struct derived_wave *w, int c, int width, float *lo,
				float *hi)
{
	size_t b0 = (size_t)c * w->n / (size_t)width;
	size_t b1 = (size_t)(c + 1) * w->n / (size_t)width;
	if (b1 <= b0)
		b1 = b0 + 1;
	*lo = 0;
	*hi = 0;
	for (size_t b = b0; b < b1 && b < w->n; b++) {
		*lo = fminf(*lo, w->min[b]);
		*hi = fmaxf(*hi, w->max[b]);
	}
	*lo = fmaxf(*lo, -1.0f);
	*hi = fminf(*hi, 1.0f);
}

/* Draws the waveform into an RGB24 buffer (av_free): background, centre line, one vertical
 * stroke per column from its minimum to its maximum. Silent columns leave the line alone. */
static uint8_t *derived_wave_draw(const struct derived_wave *w)
{
	const int W = DERIVED_WAVE_W, H = DERIVED_WAVE_H, mid = H / 2;
	uint8_t *rgb = av_malloc((size_t)W * H * 3);
	if (!rgb)
		return NULL;
	memset(rgb, DERIVED_WAVE_BG, (size_t)W * H * 3);
	memset(rgb + (size_t)mid * W * 3, DERIVED_WAVE_LINE, (size_t)W * 3);
	const float half = (float)(H / 2 - 1), silent = 1.0f / H;
	for (int c = 0; c < W; c++) {
		float lo, hi;
		derived_wave_column(w, c, W, &lo, &hi);
		if (hi < silent && lo > -silent)
			continue;
		int y0 = mid - (int)lrintf(hi * half), y1 = mid - (int)lrintf(lo * half);
		for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < H; y++)
			memset(rgb + ((size_t)y * W + c) * 3, DERIVED_WAVE_FG, 3);
	}
	return rgb;
}

static int derived_wave_decode(AVFormatContext *fmt, int index, struct derived_wave *w,
			       struct iiifd_error *err)
{
	AVCodecContext *dec = NULL;
	if (derived_open_decoder(fmt, index, &dec, err))
		return -1;
	w->swr = swr_alloc();
	w->mono = av_frame_alloc();
	int rc = -1;
	if (!w->swr || !w->mono) {
		iiifd_error_set(err, 500, "out of memory");
		goto out;
	}
	/* Stereo to mono as the mean of the channels rather than their sum, which could clip. */
	av_opt_set_double(w->swr, "rematrix_maxval", 1.0, 0);
	if (derived_decode(fmt, index, dec, 0, derived_wave_frame, w)) {
		iiifd_error_set(err, 500, "out of memory decoding audio");
		goto out;
	}
	if (w->fill)
		derived_wave_push(w);
	rc = w->samples ? 0 : iiifd_error_set(err, 500, "damaged media file: no audio decoded");
out:
	swr_free(&w->swr);
	av_frame_free(&w->mono);
	avcodec_free_context(&dec);
	return rc;
}

static int derived_waveform(const char *path, struct derived_image *out, struct iiifd_error *err)
{
	AVFormatContext *fmt = NULL;
	if (media_probe_open(path, &fmt, err))
		return -1;
	struct derived_wave *w = NULL;
	uint8_t *rgb = NULL;
	int rc = -1;
	int index = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (index < 0) {
		iiifd_error_set(err, 415, "no audio stream: no waveform");
		goto out;
	}
	if (!(w = calloc(1, sizeof *w))) {
		iiifd_error_set(err, 500, "out of memory");
		goto out;
	}
	w->block = 16;
	w->cur_min = INFINITY;
	w->cur_max = -INFINITY;
	if (derived_wave_decode(fmt, index, w, err))
		goto out;
	if (!(rgb = derived_wave_draw(w))) {
		iiifd_error_set(err, 500, "out of memory");
		goto out;
	}
	rc = derived_encode(rgb, DERIVED_WAVE_W, DERIVED_WAVE_H, 0, false, out, err);
out:
	av_free(rgb);
	free(w);
	media_probe_close(&fmt);
	return rc;
}

/* --- entry point ---------------------------------------------------------------------------- */

/* libvips must be initialised (vips_init) by the program before this is called. */
char *media_derived_image(const char *media_path, enum media_derived_kind kind, const char *dir,
			  struct iiifd_error *err)
{
	struct storage_stat st;
	struct iiifd_error why = { 0 };
	if (storage_stat(media_path, &st, &why) != 0 || st.is_dir) {
		iiifd_error_set(err, why.http_status && why.http_status != 404 ? why.http_status : 404,
				"cannot read media file: %s", why.http_status ? why.msg : "a folder");
		return NULL;
	}
	char *path = derived_path(media_path, &st, kind, dir);
	if (!path) {
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	if (derived_exists(path))
		return path;
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		iiifd_error_set(err, 500, "cannot create %s: %s", dir, strerror(errno));
		free(path);
		return NULL;
	}
	struct derived_image img = { 0 };
	int rc = kind == MEDIA_DERIVED_POSTER ? derived_poster(media_path, &img, err)
					      : derived_waveform(media_path, &img, err);
	if (rc == 0)
		rc = derived_write(path, &img, err);
	g_free(img.data);
	if (rc) {
		free(path);
		return NULL;
	}
	return path;
}
