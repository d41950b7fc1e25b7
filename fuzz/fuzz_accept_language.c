/*
 * fuzz_accept_language.c: Accept-Language values (src/web/lang.c) and the language map choice
 * made with them. The parsed list must hold at most LANG_MAX valid lower-case ranges, and the
 * chosen key must be one the map has.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = malloc(size + 1);
	if (!header)
		return 0;
	memcpy(header, data, size);
	header[size] = '\0';
	struct lang_list l;
	lang_list_parse(header, &l);
	if (l.count < 0 || l.count > LANG_MAX)
		abort();
	for (int i = 0; i < l.count; i++) {
		size_t n = strnlen(l.tags[i], LANG_TAG_MAX);
		if (n == 0 || n >= LANG_TAG_MAX)
			abort();
		for (size_t k = 0; k < n; k++)
			if (!(g_ascii_islower(l.tags[i][k]) || g_ascii_isdigit(l.tags[i][k]) ||
			      l.tags[i][k] == '-' || l.tags[i][k] == '*'))
				abort();
	}
	json_t *map = json_pack("{s:[s], s:[s], s:[s]}", "fr", "a", "en-GB", "b", "de", "c");
	const char *key = lang_pick(map, &l);
	if (!key || !json_object_get(map, key))
		abort();
	json_decref(map);
	free(header);
	return 0;
}
