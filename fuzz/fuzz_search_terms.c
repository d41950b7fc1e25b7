/*
 * fuzz_search_terms.c: how a search query becomes index terms: form decoding of the q
 * parameter (src/core/strings.c) and case/accent folding and word splitting (src/db/fold.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strings.h"
#include "db/backend.h"
#include "db/db.h"

static int count_term(const char *term, size_t len, void *ctx)
{
	(void)term;
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
	db_fold_terms(text, count_term, &total);
out:
	free(raw);
	free(decoded);
	return 0;
}
