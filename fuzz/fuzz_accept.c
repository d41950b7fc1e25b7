/*
 * fuzz_accept.c: the preference-list parser (src/http/accept.c) behind Accept, Accept-Encoding
 * and Accept-Language, and the gzip decision built on it (src/http/outgoing.c).
 * Invariants: every entry is non-empty, fits its buffer and has 0 <= q <= 1; the tokenizer
 * always moves forward; a media quality is -1 or within 0..1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/accept.h"
#include "http/outgoing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = malloc(size + 1);
	if (!header)
		return 0;
	memcpy(header, data, size);
	header[size] = '\0';
	(void)http_outgoing_accepts_gzip(header);
	struct http_accept_entry e;
	const char *pos = header, *before = pos;
	while (http_accept_next(&pos, &e)) {
		size_t n = strlen(e.value);
		if (n == 0 || n >= sizeof e.value || !(e.q >= 0 && e.q <= 1) || pos <= before)
			abort();
		before = pos;
	}
	static const char *const types[] = { "application/ld+json", "application/json",
					     "text/html", "image/jpeg" };
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		double q = http_accept_media_quality(header, types[i]);
		if (!(q == -1 || (q >= 0 && q <= 1)))
			abort();
	}
	free(header);
	return 0;
}
