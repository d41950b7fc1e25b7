/*
 * fuzz_vtt.c: the WebVTT importer (src/annotation/vtt.c) on a buffer, records counted
 * and checked by a sink (no database). Every record must name a file and a motivation, and its
 * text must be UTF-8: bad input is refused, never stored.
 */
#include <stdint.h>

#include "fuzz_sink.h"

static const struct anno_target fuzz_target = {"talk.mp3", 0, 0, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	struct anno_sink sink = {fuzz_put, &count};
	struct anno_input in = {"fuzz.vtt", NULL, (const char *)data, size};
	struct anno_import_error err;
	anno_parse_vtt(&in, &fuzz_target, &sink, &err);
	return 0;
}
