/*
 * fuzz_hocr.c: the hOCR importer (src/annotation/hocr.c, anno_import_hocr()), on a file from outside
 * (an import reads files users drop next to their images). The input is the whole file.
 */
#include <stdint.h>

#include "annotation/importers.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file("page.html", data, size);
	if (!path)
		return 0;
	static const struct anno_target target = { "book/p1.jpg", 0, 1000, 1400 };
	struct anno_list out = { 0 };
	struct anno_import_error err = { 0 };
	if (anno_import_hocr(path, &target, &out, &err) < 0 && out.count != 0)
		abort(); /* all or nothing: a failed import leaves nothing behind */
	anno_list_release(&out);
	return 0;
}
