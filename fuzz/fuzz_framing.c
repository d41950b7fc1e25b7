/*
 * fuzz_framing.c: the request framing rules (src/http/framing.c). Input: header lines
 * "Name: value\n"; the first byte chooses HTTP/1.1 (odd) or 1.0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	struct http_framing f = { 0 };
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *value = colon + 1;
		while (*value == ' ')
			value++;
		http_framing_add(&f, line, value);
	}
	struct iiifd_error err = { 0 };
	if (http_framing_check(&f, data[0] & 1, &err) == 0)
		(void)http_framing_has_body(&f);
	free(buf);
	return 0;
}
