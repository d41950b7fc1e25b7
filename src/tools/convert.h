/*
 * convert.h: `iiifd convert IN OUT.tif`, any readable image to the pyramidal, tiled, JPEG-compressed
 * TIFF that iiifd serves fastest (each tile request reads one stored tile of the nearest level).
 */
#ifndef IIIFD_TOOLS_CONVERT_H
#define IIIFD_TOOLS_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/* Most files a batch converts at once (one temporary-file slot each). */
#define TOOLS_CONVERT_MAX_JOBS 64

/*
 * Runs the command on the arguments after "convert". Prints errors naming the file to stderr.
 * Returns the exit status: 0 done, 1 the conversion failed (no OUT is left behind), 2 usage.
 */
int tools_convert_main(int argc, char **argv);

/*
 * Converts in to out through "out.tmp-PID" and a rename, so out is either absent, as it was, or
 * complete. slot (0..TOOLS_CONVERT_MAX_JOBS-1, one per thread) names the temporary file that a
 * stop signal removes while tools_convert_signals(true) is in force. Sets the image's size.
 * Returns 0, or -1 with err naming the file. Needs libvips started.
 */
int tools_convert_file(const char *in, const char *out, int tile, int quality, int slot,
		       int64_t *width, int64_t *height, struct iiifd_error *err);

/* Installs (on) or removes the handlers that delete temporary files on SIGINT/SIGTERM/SIGHUP. */
void tools_convert_signals(bool on);

/*
 * `iiifd convert DIR OUTDIR` (convert_batch.c): every image below dir, jobs at a time (0 = one
 * per core). Returns the exit status: 0 all done, 1 when any file failed (each listed at the
 * end) or the folders cannot be used.
 */
int tools_convert_batch(const char *dir, const char *outdir, int tile, int quality, int jobs,
			bool quiet);

#endif
