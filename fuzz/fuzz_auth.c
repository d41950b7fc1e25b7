/*
 * fuzz_auth.c: what access control reads from outside (src/auth/): the access cookie or token a
 * client sends (base64url JSON, HMAC-checked), the login form body, access.yml and the
 * access-file setting's file with its folders: (through a memfd, so the real reader runs). The
 * first byte picks the parser; the rest is its input.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "auth/access_file.h"
#include "auth/pages.h"
#include "auth/policy.h"
#include "auth/token.h"

static void fuzz_token(const char *text)
{
	struct auth_keys keys;
	char msg[128];
	auth_keys_parse("fuzzing-secret-0123456789, previous-secret-0123456789", &keys, msg,
			sizeof msg);
	struct auth_claims c;
	for (char kind = 'c'; kind <= 't'; kind += 't' - 'c')
		if (auth_token_verify(&keys, text, kind, 1000, &c) == AUTH_TOKEN_OK) {
			char again[AUTH_TOKEN_MAX];
			auth_token_sign(&keys, &c, again, sizeof again);
		}
}

static void fuzz_form(const char *body, size_t len)
{
	char out[512];
	static const char *const names[] = { "user", "password", "csrf", "" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		auth_form_field(body, len, names[i], out, sizeof out);
}

static void fuzz_decide(const struct auth_policy *p)
{
	struct auth_claims c = { .kind = 'c', .user = "u", .roles = "a,b" };
	struct auth_presented who = { .claims = &c, .address = "127.0.0.1" };
	auth_policy_decide(p, &who, 0);
}

/* access.yml (as_file false) or an access-file, read from a memfd holding data. */
static void fuzz_policy(const uint8_t *data, size_t size, bool as_file)
{
	int fd = memfd_create("access", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		struct sidecar_problems problems = { 0 };
		if (as_file) {
			struct auth_access_file *f = auth_access_file_load(path, &problems);
			for (size_t i = 0; i < auth_access_file_count(f); i++)
				fuzz_decide(auth_access_file_policy(f, auth_access_file_folder(f, i)));
			auth_access_file_free(f);
		} else {
			struct auth_policy *p = auth_policy_load(path, "books", &problems);
			if (p)
				fuzz_decide(p);
			auth_policy_free(p);
		}
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	char text[65536];
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		fuzz_token(text);
		break;
	case 1:
		fuzz_form(text, size - 1);
		break;
	case 2:
		fuzz_policy(data + 1, size - 1, false);
		break;
	default:
		fuzz_policy(data + 1, size - 1, true);
	}
	return 0;
}
