/*
 * fuzz_coco.c: the COCO importer (src/annotation/coco.c, anno_import_coco()), on a file from outside.
 * The input is the whole file; image names resolve to Canvases of a few sizes, except names
 * starting with "x", which are unknown (an error the importer must report), and names starting
 * with "z", whose Canvas has no size.
 */
#include <stdint.h>
#include <string.h>

#include "annotation/importers.h"
#include "fuzz_input.h"

static int resolve(void *ctx, const char *name, struct anno_target *target)
{
	(void)ctx;
	if (!name || name[0] == 'x')
		return -1;
	static const int64_t sizes[][2] = { { 1000, 800 }, { 1, 1 }, { 65535, 3 }, { 0, 0 } };
	const int64_t *s = sizes[name[0] == 'z' ? 3 : strlen(name) % 3];
	*target = (struct anno_target){ name, (int)(strlen(name) % 3), s[0], s[1] };
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file("tags.json", data, size);
	if (!path)
		return 0;
	struct anno_list out = { 0 };
	struct anno_import_error err = { 0 };
	if (anno_import_coco(path, resolve, NULL, &out, &err) < 0 && out.count != 0)
		abort(); /* all or nothing: a failed import leaves nothing behind */
	anno_list_release(&out);
	return 0;
}
