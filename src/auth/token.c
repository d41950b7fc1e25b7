/*
 * token.c: HMAC-SHA256 signed claims (OpenSSL libcrypto), base64url encoded, JSON inside
 * (jansson). See token.h for the format.
 */
#include "auth/token.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define AUTH_SECRET_MIN 16

int auth_random_hex(char *out, size_t bytes)
{
	unsigned char raw[64];
	if (bytes > sizeof raw || RAND_bytes(raw, (int)bytes) != 1)
		return -1;
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
	return 0;
}

bool auth_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}

int auth_keys_parse(const char *list, struct auth_keys *keys, char *msg, size_t n)
{
	memset(keys, 0, sizeof *keys);
	const char *p = list ? list : "";
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (!len)
			break;
		if (keys->count == AUTH_SECRETS_MAX)
			return snprintf(msg, n, "auth-secrets: at most %d secrets", AUTH_SECRETS_MAX), -1;
		if (len < AUTH_SECRET_MIN || len >= sizeof keys->secret[0])
			return snprintf(msg, n, "auth-secrets: each secret must have %d to %zu characters",
					AUTH_SECRET_MIN, sizeof keys->secret[0] - 1), -1;
		memcpy(keys->secret[keys->count++], p, len);
		p += len;
	}
	if (keys->count == 0) {
		if (auth_random_hex(keys->secret[0], 32) < 0)
			return snprintf(msg, n, "auth-secrets: no randomness for a secret"), -1;
		keys->count = 1;
	}
	return 0;
}

/* base64url without padding; returns the length written, -1 when out is too small. */
static int auth_b64_encode(const unsigned char *in, size_t len, char *out, size_t n)
{
	if (4 * ((len + 2) / 3) + 1 > n)
		return -1;
	int w = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (w > 0 && out[w - 1] == '=')
		w--;
	out[w] = '\0';
	for (int i = 0; i < w; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return w;
}

/* The inverse; returns the bytes decoded, -1 on bad input or a too small out. */
static int auth_b64_decode(const char *in, size_t len, unsigned char *out, size_t n)
{
	char buf[AUTH_TOKEN_MAX + 4];
	if (len % 4 == 1 || len + 4 > sizeof buf || 3 * (len / 4 + 1) > n)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (ch == '+' || ch == '/' || ch == '=')
			return -1;
		buf[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
	}
	size_t padded = len;
	while (padded % 4)
		buf[padded++] = '=';
	int got = EVP_DecodeBlock(out, (unsigned char *)buf, (int)padded);
	if (got < 0)
		return -1;
	return got - (int)(padded - len); /* EVP_DecodeBlock counts the padding as zero bytes */
}

static void auth_mac(const char *secret, const char *text, size_t len, unsigned char mac[32])
{
	unsigned int maclen = 32;
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)text, len, mac,
	     &maclen);
}

static json_t *auth_strings_json(const char *items, size_t width, int n)
{
	json_t *list = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(list, json_string(items + (size_t)i * width));
	return list;
}

static json_t *auth_claims_json(const struct auth_claims *c)
{
	char kind[2] = { c->kind, '\0' };
	json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:s, s:I}", "k", kind, "u", c->user, "r",
				c->roles, "g",
				auth_strings_json(c->grants[0], sizeof c->grants[0], c->ngrants),
				"s", c->sid, "e", (json_int_t)c->expires);
	if (doc && c->norigins) /* absent when none: cookies made before origins were kept */
		json_object_set_new(doc, "o", auth_strings_json(c->origins[0], sizeof c->origins[0],
								c->norigins));
	return doc;
}

int auth_token_sign(const struct auth_keys *keys, const struct auth_claims *c, char *out,
		    size_t n)
{
	json_t *doc = auth_claims_json(c);
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text)
		return -1;
	int w = auth_b64_encode((unsigned char *)text, strlen(text), out, n);
	free(text);
	unsigned char mac[32];
	if (w < 0 || (size_t)w + 1 + 44 > n)
		return -1;
	auth_mac(keys->secret[0], out, (size_t)w, mac);
	out[w] = '.';
	return auth_b64_encode(mac, sizeof mac, out + w + 1, n - (size_t)w - 1) < 0 ? -1 : 0;
}

static bool auth_copy(const char *src, char *dst, size_t n)
{
	if (!src || strlen(src) >= n)
		return false;
	strcpy(dst, src);
	return true;
}

/* Reads a JSON array of at most max strings, each shorter than width, into items; false if not. */
static bool auth_strings_read(json_t *list, char *items, size_t width, int max, int *n)
{
	if (!json_is_array(list) || json_array_size(list) > (size_t)max)
		return false;
	for (size_t i = 0; i < json_array_size(list); i++)
		if (!auth_copy(json_string_value(json_array_get(list, i)), items + i * width, width))
			return false;
	*n = (int)json_array_size(list);
	return true;
}

/* Fills c from the decoded JSON text; false when a field is missing or too long. */
static bool auth_claims_read(const char *text, size_t len, struct auth_claims *c)
{
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	const char *k = json_string_value(json_object_get(doc, "k"));
	json_t *e = json_object_get(doc, "e"), *o = json_object_get(doc, "o");
	bool ok = k && strlen(k) == 1 && json_is_integer(e) &&
		  auth_strings_read(json_object_get(doc, "g"), c->grants[0], sizeof c->grants[0],
				    AUTH_GRANTS_MAX, &c->ngrants) &&
		  (!o || auth_strings_read(o, c->origins[0], sizeof c->origins[0],
					   AUTH_ORIGINS_MAX, &c->norigins)) &&
		  auth_copy(json_string_value(json_object_get(doc, "u")), c->user, sizeof c->user) &&
		  auth_copy(json_string_value(json_object_get(doc, "r")), c->roles, sizeof c->roles) &&
		  auth_copy(json_string_value(json_object_get(doc, "s")), c->sid, sizeof c->sid);
	if (ok) {
		c->kind = k[0];
		c->expires = (time_t)json_integer_value(e);
	}
	json_decref(doc);
	return ok;
}

enum auth_token_check auth_token_verify(const struct auth_keys *keys, const char *token,
					char kind, time_t now, struct auth_claims *c)
{
	memset(c, 0, sizeof *c);
	const char *dot = token ? strchr(token, '.') : NULL;
	if (!dot || strlen(token) >= AUTH_TOKEN_MAX)
		return AUTH_TOKEN_MALFORMED;
	unsigned char given[40], mac[32], text[AUTH_TOKEN_MAX];
	if (auth_b64_decode(dot + 1, strlen(dot + 1), given, sizeof given) != 32)
		return AUTH_TOKEN_MALFORMED;
	bool signed_ok = false;
	for (int i = 0; i < keys->count; i++) {
		auth_mac(keys->secret[i], token, (size_t)(dot - token), mac);
		signed_ok |= CRYPTO_memcmp(mac, given, sizeof mac) == 0;
	}
	if (!signed_ok)
		return AUTH_TOKEN_BAD_SIGNATURE;
	int len = auth_b64_decode(token, (size_t)(dot - token), text, sizeof text);
	struct auth_claims got = { 0 };
	if (len <= 0 || !auth_claims_read((const char *)text, (size_t)len, &got))
		return AUTH_TOKEN_MALFORMED;
	if (got.kind != kind)
		return AUTH_TOKEN_WRONG_KIND;
	if (got.expires <= now)
		return AUTH_TOKEN_EXPIRED;
	*c = got;
	return AUTH_TOKEN_OK;
}

static bool auth_list_has(const char *items, size_t width, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(items + (size_t)i * width, s) == 0)
			return true;
	return false;
}

/* Appends s to a list of at most max entries of width bytes; the oldest goes when it is full. */
static void auth_list_add(char *items, size_t width, int max, int *n, const char *s)
{
	if (auth_list_has(items, width, *n, s) || strlen(s) >= width)
		return;
	if (*n == max) {
		memmove(items, items + width, width * (size_t)(max - 1));
		(*n)--;
	}
	strcpy(items + (size_t)(*n)++ * width, s);
}

bool auth_claims_has_grant(const struct auth_claims *c, const char *realm)
{
	return auth_list_has(c->grants[0], sizeof c->grants[0], c->ngrants, realm);
}

void auth_claims_add_grant(struct auth_claims *c, const char *realm)
{
	auth_list_add(c->grants[0], sizeof c->grants[0], AUTH_GRANTS_MAX, &c->ngrants, realm);
}

bool auth_claims_has_origin(const struct auth_claims *c, const char *origin)
{
	return auth_list_has(c->origins[0], sizeof c->origins[0], c->norigins, origin);
}

void auth_claims_add_origin(struct auth_claims *c, const char *origin)
{
	auth_list_add(c->origins[0], sizeof c->origins[0], AUTH_ORIGINS_MAX, &c->norigins, origin);
}
