/*
 * fuzz_content_state.c: the IIIF Content State reader (src/contentstate): the iiif-content GET
 * value (a URI, or content-state-encoded JSON) and the unencoded forms of a POST or a drop. Every
 * state read must name only URLs of this server, and what iiifd writes from it must read back.
 * Input: the first byte picks GET (even) or unencoded (odd); the rest is the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contentstate/content_state.h"

static const struct content_state_scope fuzz_scope = { .base = "http://127.0.0.1:8182/p" };

static void fuzz_check_view(const struct content_state_view *v)
{
	if (strncmp(v->manifest, "http://127.0.0.1:8182/p/", 24) != 0 ||
	    (v->canvas[0] && strncmp(v->canvas, "http://127.0.0.1:8182/p/", 24) != 0) ||
	    (v->has_xywh && (v->xywh[2] <= 0 || v->xywh[3] <= 0)))
		abort();
	json_t *t = content_state_target(v);
	char *enc = content_state_encode_json(t);
	struct content_state again;
	struct iiifd_error err = { 0 };
	if (!enc || content_state_read_param(enc, &fuzz_scope, &again, &err) < 0 || again.n != 1 ||
	    strcmp(again.views[0].manifest, v->manifest) != 0 ||
	    strcmp(again.views[0].canvas, v->canvas) != 0)
		abort();
	free(enc);
	json_decref(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	struct content_state *st = malloc(sizeof *st);
	struct iiifd_error err = { 0 };
	int rc = data[0] & 1 ? content_state_parse(text, size - 1, &fuzz_scope, st, &err)
			     : content_state_read_param(text, &fuzz_scope, st, &err);
	if (rc == 0)
		for (size_t i = 0; i < st->n; i++)
			fuzz_check_view(&st->views[i]);
	else if (err.http_status != 400)
		abort();
	/* the encoder and decoder agree on any UTF-8 */
	char *enc = content_state_encode(text, strlen(text));
	if (enc) {
		char *dec = content_state_decode(enc, strlen(enc), &err);
		if (strlen(text) && strlen(text) <= CONTENT_STATE_MAX && (!dec || strcmp(dec, text)))
			abort();
		free(dec);
	}
	free(enc);
	free(st);
	free(text);
	return 0;
}
