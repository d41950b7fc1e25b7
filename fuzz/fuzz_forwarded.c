/*
 * fuzz_forwarded.c: the trusted-proxy list and the client address behind Forwarded /
 * X-Forwarded-For (src/http/client.c). Input: three NUL-separated strings: the proxy list, a
 * Forwarded value, an X-Forwarded-For value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 3);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = buf[size + 2] = '\0';
	const char *list = buf;
	const char *forwarded = list + strlen(list) + 1;
	if (forwarded > buf + size)
		forwarded = buf + size + 1;
	const char *xff = forwarded + strlen(forwarded) + 1;
	if (xff > buf + size + 1)
		xff = buf + size + 2;
	struct iiifd_error err = { 0 };
	struct http_proxies *p = http_proxies_parse(list, &err);
	if (!p)
		p = http_proxies_parse("127.0.0.1, ::1, 10.0.0.0/8", &err);
	char out[HTTP_CLIENT_ADDR_MAX];
	http_client_address(p, "127.0.0.1", *forwarded ? forwarded : NULL, xff, out, sizeof out);
	http_client_address(p, "10.1.2.3", NULL, xff, out, sizeof out);
	http_proxies_contains(p, forwarded);
	http_proxies_free(p);
	free(buf);
	return 0;
}
