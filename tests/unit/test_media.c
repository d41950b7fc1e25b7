/*
 * test_media.c: media probing and derived images (poster frames, waveforms) against audio and
 * video files made at test time with the ffmpeg command line in a temporary folder.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <dirent.h>
#include <vips/vips.h>

#include "media/derived.h"
#include "media/probe.h"
#include "unit.h"

static char test_dir[] = "/tmp/iiifd-test-media-XXXXXX";
static const char *test_vcodec = "mpeg4"; /* libx264 when this ffmpeg has it */

/* Path of fixture name in test_dir (a static buffer per call slot, enough for one statement). */
static const char *fx(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", test_dir, name);
	return b;
}

/* Runs a shell command built printf-style; true when it exits 0. */
__attribute__((format(printf, 1, 2))) static bool sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc == 0;
}

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y "
#define TONE "-f lavfi -i sine=frequency=440:duration=3 "
/* 320x240, left half red, right half blue: shows which way a frame was turned */
#define SPLIT                                                                      \
	"-f lavfi -i color=c=red:size=320x240:duration=2 -f lavfi -i "              \
	"color=c=blue:size=160x240:duration=2 -filter_complex [0][1]overlay=x=160 "

static void test_fixtures(void)
{
	CHECK(mkdtemp(test_dir) != NULL, "mkdtemp");
	if (sh("ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' libx264 '"))
		test_vcodec = "libx264";
	CHECK(sh(FF TONE "-c:a libmp3lame %s", fx("tone.mp3")), "mp3");
	CHECK(sh(FF TONE "-c:a aac %s", fx("tone.m4a")), "m4a");
	CHECK(sh(FF TONE "-c:a libvorbis %s", fx("tone.ogg")), "ogg");
	CHECK(sh(FF TONE "-c:a libopus %s", fx("tone.opus")), "opus");
	CHECK(sh(FF TONE "-c:a flac %s", fx("tone.flac")), "flac");
	CHECK(sh(FF TONE "%s", fx("tone.wav")), "wav");
	CHECK(sh(FF "-f lavfi -i color=c=red:size=320x240:duration=4 -c:v %s -pix_fmt yuv420p %s",
		 test_vcodec, fx("red.mp4")),
	      "mp4");
	CHECK(sh(FF "-f lavfi -i color=c=red:size=320x240:duration=3 -c:v libvpx -b:v 200k %s",
		 fx("red.webm")),
	      "webm");
	CHECK(sh(FF SPLIT "-c:v %s -pix_fmt yuv420p %s", test_vcodec, fx("split.mp4")), "split");
	/* ffmpeg 5 writes a display matrix for the rotate tag only when copying streams */
	CHECK(sh(FF "-i %s -c copy -metadata:s:v:0 rotate=90 %s", fx("split.mp4"),
		 fx("rot90.mp4")),
	      "rotated mp4");
	CHECK(sh(FF "-i %s -frames:v 1 %s", fx("rot90.mp4"), fx("rot90-ref.png")), "reference");
	CHECK(sh(FF "-f lavfi -i color=c=red:size=320x240:duration=2 -vf setsar=2 -c:v %s "
		    "-pix_fmt yuv420p %s",
		 test_vcodec, fx("sar.mp4")),
	      "sar mp4");
	CHECK(sh(FF "-f lavfi -i color=c=blue:size=64x64 -frames:v 1 %s", fx("cover.png")), "png");
	CHECK(sh(FF "-i %s -i %s -map 0 -map 1 -c copy -id3v2_version 3 -disposition:v "
		    "attached_pic %s",
		 fx("tone.mp3"), fx("cover.png"), fx("cover.mp3")),
	      "mp3 with cover");
	/* the first half: ffmpeg writes the index (moov) at the end, so that is lost */
	CHECK(sh("head -c $(($(stat -c %%s %s) / 2)) %s > %s", fx("red.mp4"), fx("red.mp4"),
		 fx("truncated.mp4")),
	      "truncated");
	CHECK(sh("echo 'just some text, not a video' > %s", fx("text.mp4")), "text");
	CHECK(sh(": > %s", fx("empty.mp4")), "empty");
	CHECK(sh(FF "-f lavfi -i 'aevalsrc=0.2*sin(2*PI*440*t)|0.2*sin(2*PI*440*t):s=44100:d=3' "
		    "%s",
		 fx("quiet.wav")),
	      "quiet stereo wav");
	CHECK(sh(FF "-f lavfi -i anullsrc=r=44100:cl=mono -t 3 %s", fx("silence.wav")), "silence");
}

static void test_mime_for_path(void)
{
	static const struct {
		const char *path, *mime;
	} cases[] = {
		{ "a/b/song.mp3", "audio/mpeg" },  { "SONG.MP3", "audio/mpeg" },
		{ "x.m4a", "audio/mp4" },	   { "x.aac", "audio/aac" },
		{ "x.ogg", "audio/ogg" },	   { "x.oga", "audio/ogg" },
		{ "x.opus", "audio/ogg" },	   { "x.flac", "audio/flac" },
		{ "x.wav", "audio/wav" },	   { "x.mp4", "video/mp4" },
		{ "x.m4v", "video/mp4" },	   { "x.webm", "video/webm" },
		{ "x.MOV", "video/quicktime" },   { "talk.en.vtt", "text/vtt" },
		{ "x.jpg", NULL },		   { "mp3", NULL },
		{ "dir.mp4/file", NULL },	   { "x.", NULL },
		{ "x.verylongextension", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = media_mime_for_path(cases[i].path);
		if (!cases[i].mime)
			CHECK(got == NULL, "%s: got %s, want NULL", cases[i].path, got);
		else
			CHECK(got && strcmp(got, cases[i].mime) == 0, "%s: got %s, want %s",
			      cases[i].path, got ? got : "NULL", cases[i].mime);
	}
	int n = 0;
	for (const char *const *e = media_extensions; *e; e++, n++) {
		char name[32];
		snprintf(name, sizeof name, "f.%s", *e);
		const char *m = media_mime_for_path(name);
		CHECK(m && (strncmp(m, "audio/", 6) == 0 || strncmp(m, "video/", 6) == 0),
		      "%s has a media type", *e);
	}
	CHECK_INT(n, 12, "media extensions");
}

struct probe_case {
	const char *file;
	enum media_kind kind;
	double duration;
	int width, height;
	const char *mime;
};

static void check_probe(const struct probe_case *c)
{
	struct media_info info;
	struct iiifd_error err = { 0 };
	int rc = media_probe(fx(c->file), &info, &err);
	CHECK(rc == 0, "%s: probe failed: %d %s", c->file, err.http_status, err.msg);
	if (rc)
		return;
	CHECK_INT(info.kind, c->kind, c->file);
	CHECK(fabs(info.duration - c->duration) < 0.1, "%s: duration %f, want %f", c->file,
	      info.duration, c->duration);
	CHECK_STR(info.mime, c->mime, c->file);
	if (c->kind == MEDIA_VIDEO) {
		CHECK_INT(info.width, c->width, c->file);
		CHECK_INT(info.height, c->height, c->file);
	}
}

static void test_probe_audio(void)
{
	static const struct probe_case cases[] = {
		{ "tone.mp3", MEDIA_AUDIO, 3, 0, 0, "audio/mpeg" },
		{ "tone.m4a", MEDIA_AUDIO, 3, 0, 0, "audio/mp4" },
		{ "tone.ogg", MEDIA_AUDIO, 3, 0, 0, "audio/ogg" },
		{ "tone.opus", MEDIA_AUDIO, 3, 0, 0, "audio/ogg" },
		{ "tone.flac", MEDIA_AUDIO, 3, 0, 0, "audio/flac" },
		{ "tone.wav", MEDIA_AUDIO, 3, 0, 0, "audio/wav" },
		/* the cover picture is a video stream, but not a video */
		{ "cover.mp3", MEDIA_AUDIO, 3, 0, 0, "audio/mpeg" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_probe(&cases[i]);
}

static void test_probe_video(void)
{
	static const struct probe_case cases[] = {
		{ "red.mp4", MEDIA_VIDEO, 4, 320, 240, "video/mp4" },
		{ "red.webm", MEDIA_VIDEO, 3, 320, 240, "video/webm" },
		{ "rot90.mp4", MEDIA_VIDEO, 2, 240, 320, "video/mp4" },
		{ "sar.mp4", MEDIA_VIDEO, 2, 640, 240, "video/mp4" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_probe(&cases[i]);
}

static void test_probe_errors(void)
{
	static const struct {
		const char *file;
		int status; /* 0: 415 or 500 */
	} cases[] = {
		{ "truncated.mp4", 0 }, { "text.mp4", 415 },	{ "empty.mp4", 415 },
		{ "missing.mp4", 404 }, { "cover.png", 415 }, { "", 415 }, /* the folder */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct media_info info;
		struct iiifd_error err = { 0 };
		int rc = media_probe(fx(cases[i].file), &info, &err);
		CHECK(rc == -1, "%s: probe should fail", cases[i].file);
		if (cases[i].status)
			CHECK_INT(err.http_status, cases[i].status, cases[i].file);
		else
			CHECK(err.http_status == 415 || err.http_status == 500, "%s: status %d",
			      cases[i].file, err.http_status);
		CHECK(err.msg[0] != '\0', "%s: has a message", cases[i].file);
	}
}

/* Pixel (x, y) of the image file at path into px[3]; false if it cannot be read. */
static bool pixel(const char *path, int x, int y, double px[3])
{
	VipsImage *img = vips_image_new_from_file(path, NULL);
	if (!img)
		return false;
	double *v = NULL;
	int n = 0;
	bool ok = vips_getpoint(img, &v, &n, x, y, NULL) == 0 && n >= 3;
	for (int i = 0; ok && i < 3; i++)
		px[i] = v[i];
	g_free(v);
	g_object_unref(img);
	return ok;
}

static bool image_size(const char *path, int *w, int *h)
{
	VipsImage *img = vips_image_new_from_file(path, NULL);
	if (!img)
		return false;
	*w = vips_image_get_width(img);
	*h = vips_image_get_height(img);
	g_object_unref(img);
	return true;
}

static bool near(const double px[3], int r, int g, int b, int tol)
{
	return fabs(px[0] - r) <= tol && fabs(px[1] - g) <= tol && fabs(px[2] - b) <= tol;
}

static char *derive(const char *file, enum media_derived_kind kind, const char *dir)
{
	struct iiifd_error err = { 0 };
	char *path = media_derived_image(fx(file), kind, dir, &err);
	CHECK(path != NULL, "%s: %d %s", file, err.http_status, err.msg);
	return path;
}

static void test_poster(void)
{
	const char *dir = fx("derived/posters");
	char *p = derive("red.mp4", MEDIA_DERIVED_POSTER, dir);
	int w = 0, h = 0;
	double px[3];
	if (p) {
		CHECK(strncmp(p, dir, strlen(dir)) == 0 && strstr(p, ".jpg"), "poster path %s", p);
		CHECK(image_size(p, &w, &h) && w == 320 && h == 240, "red poster %dx%d", w, h);
		CHECK(pixel(p, 160, 120, px) && near(px, 255, 0, 0, 40), "red centre %g %g %g",
		      px[0], px[1], px[2]);
	}
	free(p);
	p = derive("sar.mp4", MEDIA_DERIVED_POSTER, dir);
	CHECK(p && image_size(p, &w, &h) && w == 640 && h == 240, "sar poster %dx%d", w, h);
	free(p);
	p = derive("rot90.mp4", MEDIA_DERIVED_POSTER, dir);
	CHECK(p && image_size(p, &w, &h) && w == 240 && h == 320, "rotated poster %dx%d", w, h);
	/* turned the same way as ffmpeg's own (autorotated) decoding of the file */
	double ref[3];
	for (int y = 40; p && y < 320; y += 240) {
		CHECK(pixel(p, 120, y, px) && pixel(fx("rot90-ref.png"), 120, y, ref) &&
			      near(px, (int)ref[0], (int)ref[1], (int)ref[2], 40),
		      "rotated poster at y=%d: %g %g %g, ffmpeg %g %g %g", y, px[0], px[1], px[2],
		      ref[0], ref[1], ref[2]);
	}
	free(p);
	p = derive("red.webm", MEDIA_DERIVED_POSTER, dir);
	CHECK(p && pixel(p, 160, 120, px) && near(px, 255, 0, 0, 40), "webm poster");
	free(p);
}

/* Rows [y0, y1) of column x are all of colour (v, v, v) within tol. */
static bool column_is(const char *path, int x, int y0, int y1, int v, int tol)
{
	double px[3];
	for (int y = y0; y < y1; y++)
		if (!pixel(path, x, y, px) || !near(px, v, v, v, tol))
			return false;
	return true;
}

static void test_waveform(void)
{
	const char *dir = fx("derived/waves");
	char *p = derive("quiet.wav", MEDIA_DERIVED_WAVEFORM, dir);
	int w = 0, h = 0;
	double px[3];
	if (p) {
		CHECK(strstr(p, ".png") != NULL, "waveform path %s", p);
		CHECK(image_size(p, &w, &h) && w == 1200 && h == 300, "waveform %dx%d", w, h);
		for (int x = 10; x < 1200; x += 397) {
			/* amplitude 0.2 of the half height (150): dark from ~120 to ~180 */
			CHECK(pixel(p, x, 150, px) && px[0] < 100, "dark centre at x=%d", x);
			CHECK(pixel(p, x, 125, px) && px[0] < 100, "dark at 125, x=%d", x);
			CHECK(pixel(p, x, 175, px) && px[0] < 100, "dark at 175, x=%d", x);
			/* stereo is mixed to the mean, not the sum (which would reach ~108) */
			CHECK(column_is(p, x, 0, 112, 0xf4, 8), "light above, x=%d", x);
			CHECK(column_is(p, x, 189, 300, 0xf4, 8), "light below, x=%d", x);
		}
	}
	free(p);
	p = derive("silence.wav", MEDIA_DERIVED_WAVEFORM, dir);
	for (int x = 0; p && x < 1200; x += 199) {
		CHECK(column_is(p, x, 0, 150, 0xf4, 8), "silence: light above x=%d", x);
		CHECK(column_is(p, x, 151, 300, 0xf4, 8), "silence: light below x=%d", x);
		CHECK(pixel(p, x, 150, px) && px[0] < 0xe0 && px[0] > 100, "centre line x=%d: %g",
		      x, px[0]);
	}
	free(p);
	/* a compressed, mono, full-scale (1/8) tone */
	p = derive("tone.mp3", MEDIA_DERIVED_WAVEFORM, dir);
	CHECK(p && pixel(p, 600, 150, px) && px[0] < 100, "mp3 waveform");
	free(p);
}

static void test_derived_errors(void)
{
	static const struct {
		const char *file;
		enum media_derived_kind kind;
		int status; /* 0: 415 or 500 */
	} cases[] = {
		{ "tone.mp3", MEDIA_DERIVED_POSTER, 415 },   { "cover.mp3", MEDIA_DERIVED_POSTER, 415 },
		{ "red.mp4", MEDIA_DERIVED_WAVEFORM, 415 },  { "text.mp4", MEDIA_DERIVED_POSTER, 415 },
		{ "empty.mp4", MEDIA_DERIVED_WAVEFORM, 415 }, { "missing.mp4", MEDIA_DERIVED_POSTER, 404 },
		{ "truncated.mp4", MEDIA_DERIVED_POSTER, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct iiifd_error err = { 0 };
		char *p = media_derived_image(fx(cases[i].file), cases[i].kind,
					      fx("derived/errors"), &err);
		CHECK(p == NULL, "%s: should fail, got %s", cases[i].file, p);
		free(p);
		if (cases[i].status)
			CHECK_INT(err.http_status, cases[i].status, cases[i].file);
		else
			CHECK(err.http_status == 415 || err.http_status == 500, "%s: status %d",
			      cases[i].file, err.http_status);
	}
}

static void test_cache(void)
{
	const char *dir = fx("derived/cache");
	CHECK(sh("cp %s %s", fx("red.mp4"), fx("cached.mp4")), "copy");
	char *a = derive("cached.mp4", MEDIA_DERIVED_POSTER, dir);
	struct stat sa, sb;
	CHECK(a && stat(a, &sa) == 0, "first poster exists");
	char *b = derive("cached.mp4", MEDIA_DERIVED_POSTER, dir);
	CHECK(a && b && strcmp(a, b) == 0, "same path twice: %s %s", a, b);
	CHECK(b && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
		      sa.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
		      sa.st_mtim.tv_nsec == sb.st_mtim.tv_nsec,
	      "not rewritten");
	/* the media file changes: a newer mtime gives a new derived file */
	struct stat sm;
	CHECK(stat(fx("cached.mp4"), &sm) == 0, "stat media");
	struct timeval tv[2] = { { sm.st_mtime + 10, 0 }, { sm.st_mtime + 10, 0 } };
	CHECK(utimes(fx("cached.mp4"), tv) == 0, "touch");
	char *c = derive("cached.mp4", MEDIA_DERIVED_POSTER, dir);
	CHECK(a && c && strcmp(a, c) != 0, "new path after touch: %s", c);
	struct stat sc;
	CHECK(c && stat(c, &sc) == 0 && sc.st_size > 0, "new poster exists");
	free(a);
	free(b);
	free(c);
}

/* Copy of fixture src as dst with every 97th byte from offset `from` flipped. */
static bool corrupt(const char *src, const char *dst, long from)
{
	FILE *in = fopen(fx(src), "rb"), *out = fopen(fx(dst), "wb");
	bool ok = in && out;
	for (long i = 0, c; ok && (c = getc(in)) != EOF; i++)
		ok = putc(i >= from && i % 97 == 0 ? c ^ 0x5a : c, out) != EOF;
	if (in)
		fclose(in);
	if (out && fclose(out))
		ok = false;
	return ok;
}

/* Damaged files: every call either works or fails with 415/500, and nothing crashes (the
 * sanitizers watch the decoding). */
static void test_damaged(void)
{
	static const char *const files[] = { "red.mp4", "red.webm", "tone.mp3", "tone.m4a",
					      "tone.opus", "tone.flac", "split.mp4" };
	static const long offsets[] = { 0, 64, 1000 };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		for (size_t j = 0; j < sizeof offsets / sizeof offsets[0]; j++) {
			char name[64];
			snprintf(name, sizeof name, "bad%zu-%s", j, files[i]);
			CHECK(corrupt(files[i], name, offsets[j]), "corrupt %s", name);
			struct media_info info;
			struct iiifd_error err = { 0 };
			if (media_probe(fx(name), &info, &err) < 0)
				CHECK(err.http_status == 415 || err.http_status == 500,
				      "%s: probe status %d", name, err.http_status);
			else
				CHECK(info.duration > 0, "%s: duration %f", name, info.duration);
			for (int k = 0; k < 2; k++) {
				memset(&err, 0, sizeof err);
				char *p = media_derived_image(fx(name), k, fx("derived/bad"), &err);
				CHECK(p || err.http_status == 415 || err.http_status == 500,
				      "%s: derived %d status %d", name, k, err.http_status);
				free(p);
			}
		}
	}
}

struct test_thread {
	pthread_t id;
	char *path;
	struct iiifd_error err;
};

static void *test_thread_main(void *arg)
{
	struct test_thread *t = arg;
	t->path = media_derived_image(fx("split.mp4"), MEDIA_DERIVED_POSTER, fx("derived/threads"),
				      &t->err);
	return NULL;
}

static bool dir_has_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	bool found = false;
	for (struct dirent *e; d && (e = readdir(d));)
		found |= strstr(e->d_name, ".tmp") != NULL;
	if (d)
		closedir(d);
	return found;
}

static void test_concurrent(void)
{
	struct test_thread t[4];
	memset(t, 0, sizeof t);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i].id, NULL, test_thread_main, &t[i]) == 0, "thread %d", i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i].id, NULL);
	for (int i = 0; i < 4; i++) {
		CHECK(t[i].path != NULL, "thread %d: %d %s", i, t[i].err.http_status, t[i].err.msg);
		CHECK(t[i].path && t[0].path && strcmp(t[i].path, t[0].path) == 0, "same path");
	}
	int w = 0, h = 0;
	CHECK(t[0].path && image_size(t[0].path, &w, &h) && w == 320 && h == 240, "poster %dx%d",
	      w, h);
	CHECK(!dir_has_temporaries(fx("derived/threads")), "no temporary files left");
	for (int i = 0; i < 4; i++)
		free(t[i].path);
}

int main(void)
{
	if (VIPS_INIT("test_media"))
		return 1;
	vips_cache_set_max(0);
	UNIT_RUN(test_fixtures);
	UNIT_RUN(test_mime_for_path);
	UNIT_RUN(test_probe_audio);
	UNIT_RUN(test_probe_video);
	UNIT_RUN(test_probe_errors);
	UNIT_RUN(test_poster);
	UNIT_RUN(test_waveform);
	UNIT_RUN(test_derived_errors);
	UNIT_RUN(test_cache);
	UNIT_RUN(test_damaged);
	UNIT_RUN(test_concurrent);
	sh("rm -rf %s", test_dir);
	vips_shutdown();
	return unit_report("media");
}
