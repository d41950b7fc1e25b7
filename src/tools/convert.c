/*
 * convert.c: the convert command: options, a temporary file beside OUT (removed on error or a
 * stop signal), image_pyramid_write(), and a rename into place. A folder as IN is handed to
 * convert_batch.c, which calls tools_convert_file() from several threads.
 */
#include "tools/convert.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/config.h"
#include "core/error.h"
#include "core/path.h"
#include "image/htj2k_write.h"
#include "image/pyramid.h"
#include "image/source.h"
#include "tools/cli.h"
#include "tools/progress.h"

struct convert_options {
	const char *in, *out;
	int tile, quality;
	int jobs; /* 0 = one per core */
	bool quiet;
};

/*
 * The temporary files being written, one slot per worker, removed if a signal stops us (see
 * convert_on_signal). A slot's path is complete before its flag is raised.
 */
static char convert_tmp_path[TOOLS_CONVERT_MAX_JOBS][PATH_MAX];
static volatile sig_atomic_t convert_tmp_set[TOOLS_CONVERT_MAX_JOBS];

/*
 * Defaults are the server's tile-size and jpeg-quality, so stored tiles that the server passes
 * through unchanged look like the ones it renders (below quality 90 libjpeg also halves the
 * chroma, which roughly halves the file).
 */
static void convert_defaults(int *tile, int *quality)
{
	struct iiifd_config cfg;
	iiifd_config_init(&cfg);
	*tile = cfg.tile_size;
	*quality = cfg.jpeg_quality;
	iiifd_config_release(&cfg);
}

/* Whether out names an HTJ2K file (.jph) rather than a pyramid TIFF. */
static bool convert_to_htj2k(const char *out)
{
	char ext[16];
	path_extension(out, ext, sizeof ext);
	return strcmp(ext, "jph") == 0;
}

static void convert_usage(FILE *out)
{
	int tile, quality;
	convert_defaults(&tile, &quality);
	fprintf(out,
		"usage: iiifd convert IN OUT.tif|OUT.jph [--tile 256|512] [--quality Q] [--quiet]\n"
		"       iiifd convert DIR OUTDIR [--jobs N] [--tile 256|512] [--quality Q] [--quiet]\n"
		"  Writes IN (any image iiifd can serve) as a pyramidal, tiled, JPEG-compressed TIFF\n"
		"  (BigTIFF when it could pass 4 GB), the format iiifd serves fastest; OUT.jph: as\n"
		"  tiled HTJ2K (JPEG 2000 Part 15) with resolution levels down to one tile. With a folder,\n"
		"  every image below DIR becomes OUTDIR/same/path/name.tif; outputs newer than their\n"
		"  source are kept, so an interrupted run resumes where it stopped.\n"
		"  --tile 256|512   tile edge in pixels (default %d)\n"
		"  --quality Q      JPEG quality 1-100 (default %d)\n"
		"  --jobs N         files converted at once (default: one per core)\n"
		"  --quiet          no progress on standard error (errors are still shown)\n",
		tile, quality);
}

static int convert_parse(int argc, char **argv, struct convert_options *o,
			 struct iiifd_error *err)
{
	const char *tile = NULL, *quality = NULL, *jobs = NULL, *pos[2];
	const struct tools_cli_flag flags[] = { { "tile", &tile, NULL },     { "quality", &quality, NULL },
						{ "jobs", &jobs, NULL },     { "quiet", NULL, &o->quiet },
						{ NULL, NULL, NULL } };
	o->quiet = false;
	o->jobs = 0;
	int rc = tools_cli_parse(argc, argv, flags, pos, 2, err);
	if (rc != 0)
		return rc;
	o->in = pos[0];
	o->out = pos[1];
	convert_defaults(&o->tile, &o->quality);
	if (tile && (tools_cli_int("tile", tile, 0, INT_MAX, &o->tile, err) < 0 ||
		     (o->tile != 256 && o->tile != 512)))
		return iiifd_error_set(err, 400, "--tile: '%s' is not 256 or 512", tile);
	if (quality && tools_cli_int("quality", quality, 1, 100, &o->quality, err) < 0)
		return -1;
	if (jobs && tools_cli_int("jobs", jobs, 1, TOOLS_CONVERT_MAX_JOBS, &o->jobs, err) < 0)
		return -1;
	struct stat st;
	if (stat(o->in, &st) == 0 && S_ISDIR(st.st_mode))
		return 0; /* a batch: OUT is a folder */
	char ext[16];
	path_extension(o->out, ext, sizeof ext);
	if (strcmp(ext, "tif") != 0 && strcmp(ext, "tiff") != 0 && strcmp(ext, "ptif") != 0 &&
	    !convert_to_htj2k(o->out))
		return iiifd_error_set(err, 400,
				       "%s: the output name must end in .tif, .tiff, .ptif or .jph",
				       o->out);
	return 0;
}

static void convert_on_signal(int sig)
{
	/* async-signal-safe, as are signal() and raise() */
	for (int i = 0; i < TOOLS_CONVERT_MAX_JOBS; i++)
		if (convert_tmp_set[i])
			unlink(convert_tmp_path[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void tools_convert_signals(bool on)
{
	void (*handler)(int) = on ? convert_on_signal : SIG_DFL;
	signal(SIGINT, handler);
	signal(SIGTERM, handler);
	signal(SIGHUP, handler);
}

/* Creates the empty temporary file now, so an unwritable folder fails before any decoding. */
static int convert_tmp_create(const char *out, int slot, struct iiifd_error *err)
{
	char *tmp = convert_tmp_path[slot];
	int n = snprintf(tmp, PATH_MAX, "%s.tmp-%ld", out, (long)getpid());
	if (n < 0 || n >= PATH_MAX)
		return iiifd_error_set(err, 400, "%s: name too long", out);
	convert_tmp_set[slot] = 1;
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		convert_tmp_set[slot] = 0;
		return iiifd_error_set(err, 500, "%s: cannot create %s: %s", out, tmp,
				       strerror(errno));
	}
	fclose(f);
	return 0;
}

int tools_convert_file(const char *in, const char *out, int tile, int quality, int slot,
		       int64_t *width, int64_t *height, struct iiifd_error *err)
{
	struct image_source src;
	if (tools_cli_open_source(in, &src, err) < 0)
		return -1;
	int rc = convert_tmp_create(out, slot, err);
	if (rc == 0) {
		const char *tmp = convert_tmp_path[slot];
		rc = convert_to_htj2k(out) ? image_htj2k_write(&src, tmp, tile, quality, err)
					   : image_pyramid_write(&src, tmp, tile, quality, err);
		if (rc == 0 && rename(tmp, out) < 0)
			rc = iiifd_error_set(err, 500, "%s: cannot rename %s to it: %s", out, tmp,
					     strerror(errno));
		if (rc < 0)
			unlink(tmp);
		convert_tmp_set[slot] = 0;
	}
	*width = src.width;
	*height = src.height;
	image_source_release(&src);
	return rc;
}

static int convert_run(const struct convert_options *o, struct iiifd_error *err)
{
	struct tools_progress progress;
	struct stat st;
	int64_t w, h, size = stat(o->in, &st) == 0 ? (int64_t)st.st_size : 0;
	tools_progress_start(&progress, "convert", "files", 1, size, true, o->quiet);
	tools_convert_signals(true);
	int rc = tools_convert_file(o->in, o->out, o->tile, o->quality, 0, &w, &h, err);
	tools_convert_signals(false);
	tools_progress_add(&progress, 1, size, rc < 0);
	tools_progress_finish(&progress);
	if (rc == 0)
		printf("iiifd convert: wrote %s (%lldx%lld, %dx%d %s tiles at quality %d)\n",
		       o->out, (long long)w, (long long)h, o->tile, o->tile,
		       convert_to_htj2k(o->out) ? "HTJ2K" : "JPEG", o->quality);
	return rc;
}

int tools_convert_main(int argc, char **argv)
{
	struct convert_options o;
	struct iiifd_error err = { 0 };
	int rc = convert_parse(argc, argv, &o, &err);
	if (rc == 1) {
		convert_usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "iiifd convert: %s\n(see iiifd convert --help)\n", err.msg);
		return 2;
	}
	struct stat st;
	if (stat(o.in, &st) == 0 && S_ISDIR(st.st_mode))
		return tools_convert_batch(o.in, o.out, o.tile, o.quality, o.jobs, o.quiet);
	if (tools_cli_vips_start("convert") < 0)
		return 1;
	rc = convert_run(&o, &err);
	if (rc < 0)
		fprintf(stderr, "iiifd convert: %s\n", err.msg);
	tools_cli_vips_stop();
	return rc < 0 ? 1 : 0;
}
