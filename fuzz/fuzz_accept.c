/*
 * fuzz_accept.c: the Accept header that decides between a page and the JSON
 * (src/web/negotiate.c). The answer must not depend on what follows a NUL-free header, and
 * adding "application/json" in front must always win the JSON back (IIIF clients are never
 * given a page when they name JSON first with the top q).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = malloc(size + 1), *json_first = malloc(size + 32);
	if (!header || !json_first)
		goto out;
	memcpy(header, data, size);
	header[size] = '\0';
	(void)negotiate_prefers_html(header);
	strcpy(json_first, "application/json;q=1,");
	strcat(json_first, header);
	if (negotiate_prefers_html(json_first))
		abort();
out:
	free(header);
	free(json_first);
	return 0;
}
