/*
 * fuzz_pdf_filename.c: the download name made from a Manifest path taken from the URL
 * (src/web/pdf_download.c): whatever the path, the name must be short, end in ".pdf" and hold
 * only characters that are safe inside a quoted Content-Disposition.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/pdf_download.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *rel = malloc(size + 1), name[128];
	if (!rel)
		return 0;
	memcpy(rel, data, size);
	rel[size] = '\0';
	pdf_download_filename(rel, name, sizeof name);
	size_t len = strlen(name);
	if (len < 5 || len > 104 || strcmp(name + len - 4, ".pdf") != 0 || name[0] == '.')
		abort();
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", name[i]))
			abort();
	free(rel);
	return 0;
}
