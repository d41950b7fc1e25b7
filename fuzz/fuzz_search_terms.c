/*
 * fuzz_search_terms.c: how a search query becomes index terms: form decoding of the q
 * parameter (src/core/strings.c) and case/accent folding and word splitting (src/db/fold.c).
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strings.h"
#include "db/backend.h"
#include "db/db.h"

/* Every term is a short, non-empty, valid UTF-8 string; so is a form, when there is one. */
static int check_term(const char *term, size_t len, const char *form, size_t form_len, void *ctx)
{
	if (len == 0 || len > DB_TERM_MAX || !g_utf8_validate(term, (gssize)len, NULL))
		abort();
	if (form && (form_len == 0 || !g_utf8_validate(form, (gssize)form_len, NULL)))
		abort();
	*(size_t *)ctx += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = malloc(size + 1), *decoded = malloc(size + 1);
	if (!raw || !decoded)
		goto out;
	memcpy(raw, data, size);
	raw[size] = '\0';
	const char *text = strings_form_decode(raw, decoded, size + 1) < 0 ? raw : decoded;
	char *folded = db_fold(text);
	free(folded);
	size_t total = 0;
	db_fold_terms(text, check_term, &total);
out:
	free(raw);
	free(decoded);
	return 0;
}
