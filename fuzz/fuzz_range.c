/*
 * fuzz_range.c: the HTTP Range header parser (src/http/files.c). Input: the header value; the
 * file size comes from the first 8 bytes when there are that many.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t file_size = 1000;
	if (size >= 8) {
		memcpy(&file_size, data, 8);
		data += 8;
		size -= 8;
	}
	char *header = malloc(size + 1);
	if (!header)
		return 0;
	memcpy(header, data, size);
	header[size] = '\0';
	uint64_t start = 0, len = 0;
	int rc = http_range_parse(header, file_size, &start, &len);
	if (rc == 1 && (start >= file_size || len == 0 || len > file_size - start))
		abort(); /* a satisfiable range must lie inside the file */
	free(header);
	return 0;
}
