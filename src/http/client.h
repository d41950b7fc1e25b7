/*
 * client.h: who the client is. Direct peers are themselves; a configured trusted proxy (the TLS
 * front, a load balancer) names the client it forwards for in Forwarded or X-Forwarded-For,
 * which is believed from such proxies only. Pure functions: no sockets, no globals.
 */
#ifndef IIIFD_HTTP_CLIENT_H
#define IIIFD_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define HTTP_CLIENT_ADDR_MAX 64 /* fits any numeric IPv6 address with a zone */

/* A list of trusted proxy networks; owned by the caller, freed with http_proxies_free(). */
struct http_proxies;

/*
 * Parses "addr, addr/bits, ..." (IPv4 or IPv6, commas or spaces between). An empty or NULL list
 * gives an empty set. Returns NULL with err (400, naming the bad entry) on a malformed entry.
 */
struct http_proxies *http_proxies_parse(const char *list, struct iiifd_error *err);
void http_proxies_free(struct http_proxies *p);

/* Whether the numeric address addr ("127.0.0.1", "::1") lies in one of the trusted networks. */
bool http_proxies_contains(const struct http_proxies *p, const char *addr);

/*
 * Writes the client's address to out (n bytes, HTTP_CLIENT_ADDR_MAX is enough): peer itself
 * unless peer is trusted; then the nearest untrusted hop of Forwarded (for=) or, when that
 * header is absent, X-Forwarded-For, read right to left. A malformed header is ignored (the
 * peer stands). Either header may be NULL.
 */
void http_client_address(const struct http_proxies *p, const char *peer, const char *forwarded,
			 const char *x_forwarded_for, char *out, size_t n);

#endif
