/*
 * strings.c: percent-encoding. Decoding is strict because identifiers decide which file is opened.
 */
#include "core/strings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int strings_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void strings_number(double v, char *out, size_t n)
{
	snprintf(out, n, "%.3f", v);
	char *end = out + strlen(out) - 1;
	while (end > out && *end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
}

uint64_t strings_hash(uint64_t h, const char *s)
{
	do
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	while (*s++);
	return h;
}

void strings_etag(const char *text, char *out, size_t n)
{
	snprintf(out, n, "\"%016llx\"", (unsigned long long)strings_hash(STRINGS_HASH_SEED, text));
}

int strings_url_decode(const char *in, size_t len, char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (o + 1 >= n)
			return -1;
		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		if (i + 2 >= len)
			return -1; /* "%" or "%X" at the end */
		int hi = strings_hex(in[i + 1]);
		int lo = strings_hex(in[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	return (int)o;
}

int strings_form_decode(const char *in, char *out, size_t n)
{
	size_t len = strlen(in);
	char *plus = malloc(len + 1);
	if (!plus)
		return -1;
	for (size_t i = 0; i <= len; i++)
		plus[i] = in[i] == '+' ? ' ' : in[i];
	int rc = strings_url_decode(plus, len, out, n);
	free(plus);
	return rc;
}

int strings_url_encode(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		/* RFC 3986 pchar: unreserved, sub-delims, ':' and '@' may stand as they are */
		int plain = isalnum(*p) || strchr("-._~!$&'()*+,;=:@", *p);
		size_t need = plain ? 1 : 3;
		if (o + need >= n)
			return -1;
		if (plain)
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X", *p);
	}
	out[o] = '\0';
	return (int)o;
}
