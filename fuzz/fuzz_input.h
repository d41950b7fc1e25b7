/*
 * fuzz_input.h: helpers shared by the fuzz targets whose parser reads a file by path (the
 * importers, sidecars, the JPEG 2000 index): the input goes to one temporary file per process,
 * rewritten each run.
 * Header-only so that every fuzz_NAME.c stays one target (the Makefile builds fuzz/fuzz_*.c).
 */
#ifndef IIIFD_FUZZ_INPUT_H
#define IIIFD_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Writes data to /tmp/iiifd-fuzz-PID-NAME (NAME carries the extension the parser expects) and
 * returns that path (static storage), or NULL when it cannot be written. The file is removed
 * when the process exits.
 */
static const char *fuzz_input_file(const char *name, const uint8_t *data, size_t size);

static char fuzz_input_path[128];

static void fuzz_input_remove(void)
{
	unlink(fuzz_input_path);
}

static const char *fuzz_input_file(const char *name, const uint8_t *data, size_t size)
{
	if (!fuzz_input_path[0]) {
		snprintf(fuzz_input_path, sizeof fuzz_input_path, "/tmp/iiifd-fuzz-%d-%s",
			 (int)getpid(), name);
		atexit(fuzz_input_remove);
	}
	FILE *f = fopen(fuzz_input_path, "wb");
	if (!f)
		return NULL;
	size_t wrote = size ? fwrite(data, 1, size, f) : 0;
	if (fclose(f) != 0 || wrote != size)
		return NULL;
	return fuzz_input_path;
}

#endif
