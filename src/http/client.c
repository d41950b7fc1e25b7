/*
 * client.c: trusted proxy networks and the client address behind them (Forwarded, RFC 7239, and
 * X-Forwarded-For). Addresses are compared as 16 bytes, IPv4 as IPv4-mapped IPv6.
 */
#include "http/client.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CLIENT_LIST_SEPARATORS ", \t"
#define CLIENT_MAX_HOPS 32 /* forwarding chains longer than this are cut (oldest hops dropped) */

struct client_net {
	uint8_t addr[16];
	int bits; /* prefix length over the 16 bytes */
};

struct http_proxies {
	size_t count;
	struct client_net nets[];
};

/* Parses a numeric IPv4 or IPv6 address into 16 bytes; returns 128 or 32 (its width), or -1. */
static int client_parse_addr(const char *s, uint8_t out[16])
{
	struct in_addr v4;
	if (inet_pton(AF_INET, s, &v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
		return 32;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 128 : -1;
}

static int client_parse_net(const char *entry, struct client_net *net)
{
	char buf[HTTP_CLIENT_ADDR_MAX];
	const char *slash = strchr(entry, '/');
	size_t len = slash ? (size_t)(slash - entry) : strlen(entry);
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	int width = client_parse_addr(buf, net->addr);
	if (width < 0)
		return -1;
	net->bits = 128;
	if (slash) {
		char *end;
		long bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits < 0 || bits > width)
			return -1;
		net->bits = (int)bits + (128 - width);
	}
	return 0;
}

struct http_proxies *http_proxies_parse(const char *list, struct iiifd_error *err)
{
	char *copy = strdup(list ? list : "");
	size_t cap = 1;
	for (const char *c = copy ? copy : ""; *c; c++)
		cap += strchr(CLIENT_LIST_SEPARATORS, *c) != NULL; /* tokens <= separators + 1 */
	struct http_proxies *p = calloc(1, sizeof *p + cap * sizeof p->nets[0]);
	if (!copy || !p) {
		free(copy);
		free(p);
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	char *save = NULL;
	for (char *tok = strtok_r(copy, CLIENT_LIST_SEPARATORS, &save); tok;
	     tok = strtok_r(NULL, CLIENT_LIST_SEPARATORS, &save)) {
		if (client_parse_net(tok, &p->nets[p->count]) < 0) {
			iiifd_error_set(err, 400,
					"trusted-proxies: '%s' is not an IP address or CIDR range", tok);
			free(copy);
			free(p);
			return NULL;
		}
		p->count++;
	}
	free(copy);
	return p;
}

void http_proxies_free(struct http_proxies *p)
{
	free(p);
}

static bool client_net_contains(const struct client_net *net, const uint8_t addr[16])
{
	int full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->addr, addr, (size_t)full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr[full] & mask);
}

static bool client_trusted(const struct http_proxies *p, const uint8_t addr[16])
{
	for (size_t i = 0; p && i < p->count; i++)
		if (client_net_contains(&p->nets[i], addr))
			return true;
	return false;
}

bool http_proxies_contains(const struct http_proxies *p, const char *addr)
{
	uint8_t a[16];
	return addr && client_parse_addr(addr, a) > 0 && client_trusted(p, a);
}

/*
 * Reduces one hop as written in a header ("1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1",
 * "\"[::1]:80\"") to its bare numeric address in out; -1 when it is not an address ("unknown",
 * an obfuscated "_name", garbage).
 */
static int client_hop_address(const char *hop, size_t len, char *out, size_t n)
{
	while (len && (*hop == ' ' || *hop == '\t'))
		hop++, len--;
	while (len && (hop[len - 1] == ' ' || hop[len - 1] == '\t'))
		len--;
	if (len >= 2 && hop[0] == '"' && hop[len - 1] == '"')
		hop++, len -= 2;
	if (len && hop[0] == '[') {
		const char *close = memchr(hop, ']', len);
		if (!close)
			return -1;
		hop++;
		len = (size_t)(close - hop);
	} else {
		const char *colon = memchr(hop, ':', len);
		if (colon && !memchr(colon + 1, ':', len - (size_t)(colon + 1 - hop)))
			len = (size_t)(colon - hop); /* one colon: IPv4 with a port */
	}
	if (len == 0 || len >= n)
		return -1;
	memcpy(out, hop, len);
	out[len] = '\0';
	uint8_t a[16];
	return client_parse_addr(out, a) > 0 ? 0 : -1;
}

/* The for= value of one Forwarded element ("for=1.2.3.4;proto=https"), or NULL. */
static const char *client_forwarded_for(const char *elem, size_t len, size_t *out_len)
{
	const char *end = elem + len;
	for (const char *p = elem; p < end;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *pair_end = semi ? semi : end;
		while (p < pair_end && (*p == ' ' || *p == '\t'))
			p++;
		if (pair_end - p > 4 && strncasecmp(p, "for=", 4) == 0) {
			*out_len = (size_t)(pair_end - p - 4);
			return p + 4;
		}
		p = semi ? semi + 1 : end;
	}
	return NULL;
}

/*
 * Splits a header into hops at commas (quoted commas do not occur in addresses, so a comma inside
 * quotes makes that hop malformed, which is safe). Stores up to CLIENT_MAX_HOPS of the newest
 * hops, as start/length pairs, oldest first; returns their number.
 */
static size_t client_split_hops(const char *h, const char **starts, size_t *lens)
{
	size_t count = 0;
	for (const char *p = h;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (count == CLIENT_MAX_HOPS) {
			memmove(starts, starts + 1, (CLIENT_MAX_HOPS - 1) * sizeof *starts);
			memmove(lens, lens + 1, (CLIENT_MAX_HOPS - 1) * sizeof *lens);
			count--;
		}
		starts[count] = p;
		lens[count++] = len;
		if (!comma)
			return count;
		p = comma + 1;
	}
}

void http_client_address(const struct http_proxies *p, const char *peer, const char *forwarded,
			 const char *x_forwarded_for, char *out, size_t n)
{
	snprintf(out, n, "%s", peer ? peer : "-");
	if (!peer || !http_proxies_contains(p, peer))
		return;
	const char *header = forwarded ? forwarded : x_forwarded_for;
	if (!header)
		return;
	const char *starts[CLIENT_MAX_HOPS];
	size_t lens[CLIENT_MAX_HOPS];
	size_t count = client_split_hops(header, starts, lens);
	/* right to left: the nearest hop that is not one of our proxies is the client */
	for (size_t i = count; i-- > 0;) {
		const char *hop = starts[i];
		size_t len = lens[i];
		if (forwarded && !(hop = client_forwarded_for(starts[i], lens[i], &len)))
			return;
		char addr[HTTP_CLIENT_ADDR_MAX];
		if (client_hop_address(hop, len, addr, sizeof addr) < 0)
			return; /* unknown beyond here: the nearest proxy is all we know */
		snprintf(out, n, "%s", addr);
		if (!http_proxies_contains(p, addr))
			return;
	}
}
