/*
 * fuzz_yolo.c: YOLO labels (src/annotation/yolo.c) on a buffer: the same bytes as a class list
 * and, against a three-class list, as the labels of a 1000 x 800 image.
 */
#include <stdint.h>

#include "annotation/polygon.h"
#include "fuzz_sink.h"

static const struct anno_target fuzz_target = {"page.jpg", 0, 1000, 800};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0, n = 0;
	char **names = NULL;
	char *fixed[] = {"cat", "dog", "heron"};
	struct anno_sink sink = {fuzz_put_outlined, &count};
	struct anno_input in = {"fuzz.txt", NULL, (const char *)data, size};
	struct anno_import_error err;
	if (anno_yolo_classes(&in, &names, &n, &err) == 0)
		anno_yolo_classes_free(names, n);
	anno_parse_yolo(&in, &fuzz_target, fixed, 3, &sink, &err);
	return 0;
}
