/*
 * fuzz_discovery_page.c: the activity stream's URL grammar (src/discovery/stream.c), the only
 * part of Change Discovery that reads outside input: the path below /iiif/discovery/activity/.
 * Invariants: an accepted path names the collection or a page in 0..10^15-1, and the URL built
 * back for it ends with exactly that path (one spelling per page: no aliases that would defeat
 * caches); a refused path is a 404 with a reason.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	struct discovery_target t;
	struct iiifd_error err = { 0 };
	if (discovery_stream_parse(path, &t, &err) == 0) {
		if (!t.collection && (t.page < 0 || t.page >= INT64_C(1000000000000000)))
			abort();
		char *url = discovery_stream_url("https://h", t.collection ? -1 : t.page);
		size_t n = strlen(url), m = strlen(path);
		if (m > n || strcmp(url + n - m, path) != 0)
			abort();
		if (strncmp(url, "https://h" DISCOVERY_PREFIX, strlen("https://h" DISCOVERY_PREFIX)) ||
		    strlen("https://h" DISCOVERY_PREFIX) + m != n)
			abort();
		g_free(url);
	} else if (err.http_status != 404 || !err.msg[0]) {
		abort();
	}
	free(path);
	return 0;
}
