/*
 * fuzz_viewer.c: the /viewer/ page parameters (src/web/viewer.c): xywh, the own-Manifest URL check
 * and the page built from them, which must never let a parameter end its <script> element.
 * Input: up to four lines, manifest, canvas, xywh and q.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/viewer.h"

static int fuzz_count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *field[4] = { NULL, NULL, NULL, NULL }, *save = NULL;
	char *line = strtok_r(text, "\n", &save);
	for (int i = 0; i < 4 && line; i++, line = strtok_r(NULL, "\n", &save))
		field[i] = line;
	struct iiifd_error err = { 0 };
	struct web_viewer_params p = { .kind = (enum web_viewer_kind)(size % 3) };
	char manifest[4096], canvas[4096];
	if (!field[0] || web_viewer_own_url(field[0], "http://127.0.0.1:8182", manifest,
					    sizeof manifest, &err) < 0)
		goto out;
	p.manifest = manifest;
	if (field[1] && web_viewer_own_url(field[1], "http://127.0.0.1:8182", canvas, sizeof canvas,
					   &err) == 0)
		p.canvas = canvas;
	if (field[2] && web_viewer_parse_xywh(field[2], p.xywh, &err) == 0)
		p.has_xywh = 1;
	p.q = field[3];
	char *page = web_viewer_page(&p, "v", &err);
	/* the settings, content-state.js, the viewer and its boot script: four elements, nothing a
	 * parameter opened */
	if (page && (fuzz_count(page, "</script") != 4 || fuzz_count(page, "<script") != 4 ||
		     strstr(page, "<!--")))
		abort();
	free(page);
out:
	free(text);
	return 0;
}
