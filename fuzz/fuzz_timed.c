/*
 * fuzz_timed.c: timed machine-learning output (src/annotation/timed.c) on a buffer: as segment
 * or Whisper JSON, and as segment CSV; every timed record must have start <= end.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_sink.h"

static const struct anno_target fuzz_target = {"talk.mp3", 0, 0, 0};

static int fuzz_put_timed(void *ctx, struct anno_list *batch, char *msg, size_t size)
{
	for (size_t i = 0; i < batch->count; i++)
		if (batch->items[i].has_time && !(batch->items[i].start <= batch->items[i].end))
			abort();
	return fuzz_put(ctx, batch, msg, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	struct anno_sink sink = {fuzz_put_timed, &count};
	struct anno_input in = {"fuzz.json", NULL, (const char *)data, size};
	struct anno_import_error err;
	anno_parse_timed_json(&in, &fuzz_target, &sink, &err);
	anno_is_timed_csv(&in);
	anno_parse_timed_csv(&in, &fuzz_target, &sink, &err);
	return 0;
}
