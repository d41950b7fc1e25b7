/*
 * fuzz_webanno.c: validation of annotations sent to the write API (src/annotation/webanno.c):
 * the body as JSON, against a Manifest of three Canvases (two images, one recording).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "annotation/record.h"
#include "annotation/webanno.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pres_canvas_ref refs[] = {
		{ "book/p1.jpg", 0, 1000, 800, 0 },
		{ "book/p2.tif", 1, 500, 700, 0 },
		{ "talk.mp3", 0, 0, 0, 61.5 },
	};
	static struct pres_canvas_index idx = { "http://h/iiif/presentation/book/manifest", refs, 3 };
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, size, 0, &jerr);
	if (!doc)
		return 0;
	struct anno_record rec;
	struct iiifd_error err = { 0 };
	webanno_from_json(doc, &idx, &rec, &err);
	anno_record_release(&rec);
	json_decref(doc);
	return 0;
}
