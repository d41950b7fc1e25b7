/*
 * convert.c: the convert command: options, a temporary file beside OUT (removed on error or a
 * stop signal), image_pyramid_write(), and a rename into place.
 */
#include "tools/convert.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/config.h"
#include "core/error.h"
#include "core/path.h"
#include "image/pyramid.h"
#include "image/source.h"
#include "tools/cli.h"

struct convert_options {
	const char *in, *out;
	int tile, quality;
};

/* The temporary file being written, removed if a signal stops us (see convert_on_signal). */
static char convert_tmp_path[PATH_MAX];

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

static void convert_usage(FILE *out)
{
	int tile, quality;
	convert_defaults(&tile, &quality);
	fprintf(out,
		"usage: iiifd convert IN OUT.tif [--tile 256|512] [--quality Q]\n"
		"  Writes IN (any image iiifd can serve) as a pyramidal, tiled, JPEG-compressed TIFF\n"
		"  (BigTIFF when it could pass 4 GB), the format iiifd serves fastest.\n"
		"  --tile 256|512   tile edge in pixels (default %d)\n"
		"  --quality Q      JPEG quality 1-100 (default %d)\n",
		tile, quality);
}

static int convert_parse(int argc, char **argv, struct convert_options *o,
			 struct iiifd_error *err)
{
	const char *tile = NULL, *quality = NULL, *pos[2];
	const struct tools_cli_flag flags[] = { { "tile", &tile }, { "quality", &quality },
						{ NULL, NULL } };
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
	char ext[16];
	path_extension(o->out, ext, sizeof ext);
	if (strcmp(ext, "tif") != 0 && strcmp(ext, "tiff") != 0 && strcmp(ext, "ptif") != 0)
		return iiifd_error_set(err, 400, "%s: the output name must end in .tif, .tiff or .ptif",
				       o->out);
	return 0;
}

static void convert_on_signal(int sig)
{
	unlink(convert_tmp_path); /* async-signal-safe, as are signal() and raise() */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Creates the empty temporary file now, so an unwritable folder fails before any decoding. */
static int convert_tmp_create(const char *out, struct iiifd_error *err)
{
	int n = snprintf(convert_tmp_path, sizeof convert_tmp_path, "%s.tmp-%ld", out,
			 (long)getpid());
	if (n < 0 || (size_t)n >= sizeof convert_tmp_path)
		return iiifd_error_set(err, 400, "%s: name too long", out);
	FILE *f = fopen(convert_tmp_path, "wb");
	if (!f)
		return iiifd_error_set(err, 500, "%s: cannot create %s: %s", out, convert_tmp_path,
				       strerror(errno));
	fclose(f);
	signal(SIGINT, convert_on_signal);
	signal(SIGTERM, convert_on_signal);
	signal(SIGHUP, convert_on_signal);
	return 0;
}

static int convert_write(const struct convert_options *o, const struct image_source *src,
			 struct iiifd_error *err)
{
	if (image_pyramid_write(src, convert_tmp_path, o->tile, o->quality, err) < 0)
		return -1;
	if (rename(convert_tmp_path, o->out) < 0)
		return iiifd_error_set(err, 500, "%s: cannot rename %s to it: %s", o->out,
				       convert_tmp_path, strerror(errno));
	printf("iiifd convert: wrote %s (%lldx%lld, %dx%d JPEG tiles at quality %d)\n", o->out,
	       (long long)src->width, (long long)src->height, o->tile, o->tile, o->quality);
	return 0;
}

static int convert_run(const struct convert_options *o, struct iiifd_error *err)
{
	struct image_source src;
	if (tools_cli_open_source(o->in, &src, err) < 0)
		return -1;
	int rc = convert_tmp_create(o->out, err);
	if (rc == 0) {
		rc = convert_write(o, &src, err);
		if (rc < 0)
			unlink(convert_tmp_path);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	}
	image_source_release(&src);
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
	if (tools_cli_vips_start("convert") < 0)
		return 1;
	rc = convert_run(&o, &err);
	if (rc < 0)
		fprintf(stderr, "iiifd convert: %s\n", err.msg);
	tools_cli_vips_stop();
	return rc < 0 ? 1 : 0;
}
