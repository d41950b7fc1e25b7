/*
 * token.h: signed credentials (the access cookie and the short-lived access token): an identity
 * (user, roles, accepted realms, expiry, session id) as compact JSON, base64url, then a dot and
 * the base64url HMAC-SHA256 of that text. Any node holding one of the configured secrets accepts
 * them; the first secret signs, every secret verifies (key rotation). Pure apart from the clock.
 */
#ifndef IIIFD_AUTH_TOKEN_H
#define IIIFD_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define AUTH_TOKEN_MAX 2048   /* longest token accepted or made */
#define AUTH_SECRETS_MAX 2    /* secrets in force at once: the current one and the previous */
#define AUTH_GRANTS_MAX 16    /* realms a cookie remembers (terms accepted, kiosk visits) */
#define AUTH_ORIGINS_MAX 4    /* client origins a cookie remembers (access service visits) */
#define AUTH_ORIGIN_MAX 128   /* longest origin remembered, with its NUL */

/* What a cookie or token says. Fixed-size, caller-owned; strings always NUL-terminated. */
struct auth_claims {
	char kind;              /* 'c' the access cookie, 't' an access token */
	char user[64];          /* "" when nobody logged in (only terms accepted) */
	char roles[256];        /* comma-separated roles of user */
	char grants[AUTH_GRANTS_MAX][96]; /* realms whose terms were accepted or kiosk was visited */
	int ngrants;
	char origins[AUTH_ORIGINS_MAX][AUTH_ORIGIN_MAX]; /* the `origin`s the access service was
							   given: the token service serves these */
	int norigins;
	char sid[33];           /* session id (hex): logout revokes it on every node */
	time_t expires;         /* seconds since the epoch */
};

/* The signing keys; caller-owned. A secret of "" is unused. */
struct auth_keys {
	char secret[AUTH_SECRETS_MAX][256];
	int count;
};

/*
 * Parses "new, old" (comma-separated, at most AUTH_SECRETS_MAX, each at least 16 bytes) into
 * keys. An empty list gives one random secret (tokens then die with the process). -1 with msg
 * (n bytes) on a bad list.
 */
int auth_keys_parse(const char *list, struct auth_keys *keys, char *msg, size_t n);

/* Writes the signed form of c into out (n bytes, AUTH_TOKEN_MAX is enough); -1 when too long. */
int auth_token_sign(const struct auth_keys *keys, const struct auth_claims *c, char *out,
		    size_t n);

/* Verification results: a token is used only when AUTH_TOKEN_OK. */
enum auth_token_check {
	AUTH_TOKEN_OK,
	AUTH_TOKEN_MALFORMED,
	AUTH_TOKEN_BAD_SIGNATURE,
	AUTH_TOKEN_EXPIRED,
	AUTH_TOKEN_WRONG_KIND,
};

/*
 * Checks token's signature against every key (in constant time per key), its kind and its expiry
 * at now, and fills c. c is zeroed unless the result is AUTH_TOKEN_OK.
 */
enum auth_token_check auth_token_verify(const struct auth_keys *keys, const char *token,
					char kind, time_t now, struct auth_claims *c);

/* Whether c lists realm among its grants. */
bool auth_claims_has_grant(const struct auth_claims *c, const char *realm);
/* Adds realm (no-op when present; the oldest grant is dropped when full). */
void auth_claims_add_grant(struct auth_claims *c, const char *realm);

/* Whether c lists origin; adding one works like adding a grant (too long: not added). */
bool auth_claims_has_origin(const struct auth_claims *c, const char *origin);
void auth_claims_add_origin(struct auth_claims *c, const char *origin);

/* Fills out (n >= 2*bytes+1) with random hex; -1 when the system has no randomness. */
int auth_random_hex(char *out, size_t bytes);

/* Compares two strings in time that depends on their lengths only. */
bool auth_equal(const char *a, const char *b);

#endif
