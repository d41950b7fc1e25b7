/*
 * fuzz_accept_encoding.c: the Accept-Encoding parser that decides on gzip (src/http/outgoing.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/outgoing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = malloc(size + 1);
	if (!header)
		return 0;
	memcpy(header, data, size);
	header[size] = '\0';
	(void)http_outgoing_accepts_gzip(header);
	free(header);
	return 0;
}
