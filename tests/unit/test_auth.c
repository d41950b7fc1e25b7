/*
 * test_auth.c: the pure parts of access control: signed tokens (round trip, every way of being
 * refused, two secrets, kinds), the policy decision table (each policy, roles, grants, addresses,
 * headers, embargo, degraded tier, broken files), access.yml problems by line, the access-file
 * setting's file (root and folders:), role matching, form fields, and the users file (yescrypt
 * hashes, add/passwd/remove), and the policy of a file asked for with and without knowing that
 * it is a file (auth_policy_for_file, the Image API's way: no stat).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/access_file.h"
#include "auth/pages.h"
#include "auth/state.h"
#include "auth/policy.h"
#include "auth/token.h"
#include "auth/users.h"
#include "core/config.h"
#include "unit.h"

static struct auth_keys keys_of(const char *list)
{
	struct auth_keys k;
	char msg[128];
	CHECK(auth_keys_parse(list, &k, msg, sizeof msg) == 0, "keys %s: %s", list, msg);
	return k;
}

static void test_tokens(void)
{
	struct auth_keys now = keys_of("new-secret-0123456789, old-secret-0123456789");
	struct auth_keys old = keys_of("old-secret-0123456789");
	struct auth_keys other = keys_of("other-secret-0123456789");
	struct auth_claims c = { .kind = 'c', .user = "alice", .roles = "reader", .expires = 2000 };
	strcpy(c.sid, "00ff");
	auth_claims_add_grant(&c, "photos");
	char tok[AUTH_TOKEN_MAX], old_tok[AUTH_TOKEN_MAX];
	CHECK(auth_token_sign(&now, &c, tok, sizeof tok) == 0, "sign");
	CHECK(auth_token_sign(&old, &c, old_tok, sizeof old_tok) == 0, "sign with the old key");
	struct auth_claims got;
	CHECK_INT(auth_token_verify(&now, tok, 'c', 1000, &got), AUTH_TOKEN_OK, "round trip");
	CHECK(strcmp(got.user, "alice") == 0 && strcmp(got.roles, "reader") == 0 &&
		      got.expires == 2000 && auth_claims_has_grant(&got, "photos") &&
		      !auth_claims_has_grant(&got, "books"),
	      "claims survive");
	CHECK_INT(auth_token_verify(&now, old_tok, 'c', 1000, &got), AUTH_TOKEN_OK,
		  "the previous secret still verifies");
	CHECK_INT(auth_token_verify(&other, tok, 'c', 1000, &got), AUTH_TOKEN_BAD_SIGNATURE,
		  "another secret");
	CHECK(got.user[0] == '\0', "claims cleared on refusal");
	CHECK_INT(auth_token_verify(&now, tok, 'c', 2000, &got), AUTH_TOKEN_EXPIRED, "expired");
	CHECK_INT(auth_token_verify(&now, tok, 't', 1000, &got), AUTH_TOKEN_WRONG_KIND,
		  "a cookie is no token");
	static const char *const bad[] = { "", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", NULL };
	for (int i = 0; bad[i]; i++)
		CHECK_INT(auth_token_verify(&now, bad[i], 'c', 1000, &got), AUTH_TOKEN_MALFORMED,
			  bad[i]);
	/* one changed character anywhere breaks the signature */
	for (size_t i = 0; i < strlen(tok); i += 7) {
		char t[AUTH_TOKEN_MAX];
		strcpy(t, tok);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		CHECK(auth_token_verify(&now, t, 'c', 1000, &got) != AUTH_TOKEN_OK, "flip at %zu", i);
	}
	char msg[128];
	struct auth_keys k;
	CHECK(auth_keys_parse("short", &k, msg, sizeof msg) < 0, "a short secret is refused");
	CHECK(auth_keys_parse("a123456789abcdefgh, b123456789abcdefgh, c123456789abcdefgh", &k,
			      msg, sizeof msg) < 0, "three secrets are refused");
	CHECK(auth_keys_parse("", &k, msg, sizeof msg) == 0 && strlen(k.secret[0]) == 64,
	      "no secret: a random one");
	CHECK(auth_equal("abc", "abc") && !auth_equal("abc", "abd") && !auth_equal("abc", "ab"),
	      "auth_equal");
}

static void test_grants_are_bounded(void)
{
	struct auth_claims c = { 0 };
	char name[16];
	for (int i = 0; i < AUTH_GRANTS_MAX + 5; i++) {
		snprintf(name, sizeof name, "r%d", i);
		auth_claims_add_grant(&c, name);
		auth_claims_add_grant(&c, name); /* twice: once */
	}
	CHECK_INT(c.ngrants, AUTH_GRANTS_MAX, "grants kept");
	CHECK(!auth_claims_has_grant(&c, "r0") && auth_claims_has_grant(&c, "r20"),
	      "the oldest dropped");
}

/* Origins the access service was opened for: signed with the cookie, bounded like grants. */
static void test_origins_survive_and_are_bounded(void)
{
	struct auth_keys k = keys_of("new-secret-0123456789");
	struct auth_claims c = { .kind = 'c', .expires = 2000 }, got;
	char tok[AUTH_TOKEN_MAX], name[AUTH_ORIGIN_MAX + 8];
	CHECK(auth_token_sign(&k, &c, tok, sizeof tok) == 0, "sign without origins");
	CHECK_INT(auth_token_verify(&k, tok, 'c', 1000, &got), AUTH_TOKEN_OK, "no origins");
	CHECK_INT(got.norigins, 0, "none read");
	for (int i = 0; i < AUTH_ORIGINS_MAX + 2; i++) {
		snprintf(name, sizeof name, "https://site%d.example", i);
		auth_claims_add_origin(&c, name);
		auth_claims_add_origin(&c, name); /* twice: once */
	}
	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	auth_claims_add_origin(&c, name); /* too long: not kept */
	CHECK_INT(c.norigins, AUTH_ORIGINS_MAX, "origins kept");
	CHECK(auth_token_sign(&k, &c, tok, sizeof tok) == 0, "sign with origins");
	CHECK_INT(auth_token_verify(&k, tok, 'c', 1000, &got), AUTH_TOKEN_OK, "round trip");
	CHECK(got.norigins == AUTH_ORIGINS_MAX &&
		      !auth_claims_has_origin(&got, "https://site0.example") &&
		      auth_claims_has_origin(&got, "https://site5.example") &&
		      !auth_claims_has_origin(&got, "https://site5.example/x"),
	      "the newest origins survive signing");
}

/* A temporary file holding yaml (unlink it); its path in path (at least 40 bytes). */
static void yaml_file(const char *yaml, char *path)
{
	strcpy(path, "/tmp/iiifd-test-access-XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml), "temp file");
	close(fd);
}

static struct auth_policy *policy_from(const char *yaml, struct sidecar_problems *pr)
{
	char path[40];
	yaml_file(yaml, path);
	memset(pr, 0, sizeof *pr);
	struct auth_policy *p = auth_policy_load(path, "books", pr);
	unlink(path);
	return p;
}

static struct auth_access_file *access_file_from(const char *yaml, struct sidecar_problems *pr)
{
	char path[40];
	yaml_file(yaml, path);
	memset(pr, 0, sizeof *pr);
	struct auth_access_file *f = auth_access_file_load(path, pr);
	unlink(path);
	return f;
}

static void test_access_file(void)
{
	struct sidecar_problems pr;
	struct auth_access_file *f = access_file_from(
		"policy: login\nroles: reader\nfolders:\n  books/rare:\n    policy: login\n"
		"    roles: staff\n  photos:\n    policy: clickthrough\n", &pr);
	CHECK(f && pr.count == 0, "root and folders read: %s", pr.count ? pr.items[0].msg : "");
	CHECK_INT(auth_access_file_count(f), 3, "the root and two folders");
	CHECK_STR(auth_access_file_folder(f, 0), "", "the root first");
	struct auth_policy *rare = auth_access_file_policy(f, "books/rare");
	CHECK(rare && rare->kind == AUTH_LOGIN && strcmp(rare->roles, "staff") == 0 &&
		      strcmp(rare->realm, "books/rare") == 0, "a folder's policy, its realm");
	CHECK(auth_access_file_policy(f, "photos")->kind == AUTH_CLICKTHROUGH, "clickthrough");
	CHECK(!auth_access_file_policy(f, "books"), "a folder not listed has none of its own");
	CHECK_STR(auth_access_file_policy(f, "")->roles, "reader", "the root's");
	auth_access_file_free(f);
	f = access_file_from("folders:\n  a:\n    policy: public\n", &pr);
	CHECK(f && auth_access_file_count(f) == 1 && !auth_access_file_policy(f, ""),
	      "folders only: no policy for the root");
	auth_access_file_free(f);
	static const struct { const char *yaml; int line; } bad[] = {
		{ "folders:\n  /abs:\n    policy: public\n", 2 },
		{ "folders:\n  a//b:\n    policy: public\n", 2 },
		{ "folders:\n  a/./b:\n    policy: public\n", 2 },
		{ "folders:\n  a:\n    policy: public\n  a:\n    policy: login\n", 4 },
		{ "folders:\n  a:\n    policy: public\n    folders: {}\n", 4 },
		{ "folders: [a, b]\n", 1 },
		{ "policy: login\nfolders:\n  a:\n    degraded: 5\n", 4 },
		{ "- a list\n", 0 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f = access_file_from(bad[i].yaml, &pr);
		CHECK(!f && pr.count >= 1, "refused: %s", bad[i].yaml);
		CHECK_INT(pr.count ? pr.items[0].line : -1, bad[i].line, bad[i].yaml);
		auth_access_file_free(f);
	}
}

static void test_decisions(void)
{
	struct sidecar_problems pr;
	struct auth_claims reader = { .kind = 'c', .user = "alice", .roles = "reader" };
	struct auth_claims guest = { .kind = 'c', .user = "bob", .roles = "guest" };
	struct auth_claims nobody = { .kind = 'c' };
	auth_claims_add_grant(&nobody, "books");
	struct auth_presented anon = { .address = "198.51.100.1" };
	struct auth_presented as_reader = { .claims = &reader, .address = "198.51.100.1" };
	struct auth_presented as_guest = { .claims = &guest, .address = "198.51.100.1" };
	struct auth_presented accepted = { .claims = &nobody, .address = "198.51.100.1" };
	struct auth_presented on_site = { .address = "192.0.2.7" };
	struct auth_presented sso = { .address = "198.51.100.1", .header_user = "carol",
				      .header_roles = "staff" };
	struct {
		const char *yaml;
		const struct auth_presented *who;
		time_t now;
		enum auth_access want;
	} cases[] = {
		{ "policy: public\n", &anon, 0, AUTH_FULL },
		{ "policy: login\n", &anon, 0, AUTH_DENIED },
		{ "policy: login\n", &as_guest, 0, AUTH_FULL },
		{ "policy: login\nroles: [reader, staff]\n", &as_guest, 0, AUTH_DENIED },
		{ "policy: login\nroles: reader, staff\n", &as_reader, 0, AUTH_FULL },
		{ "policy: login\nroles: staff\n", &sso, 0, AUTH_FULL },
		{ "policy: login\nroles: staff\ndegraded: 500\n", &as_reader, 0, AUTH_DEGRADED },
		{ "policy: clickthrough\nterms: x\n", &anon, 0, AUTH_DENIED },
		{ "policy: clickthrough\nterms: x\n", &accepted, 0, AUTH_FULL },
		{ "policy: clickthrough\nterms: x\n", &as_reader, 0, AUTH_DENIED },
		{ "policy: kiosk\naddresses: [192.0.2.0/24]\n", &on_site, 0, AUTH_FULL },
		{ "policy: kiosk\naddresses: [192.0.2.0/24]\n", &anon, 0, AUTH_DENIED },
		{ "policy: external\naddresses: 192.0.2.0/24\n", &on_site, 0, AUTH_FULL },
		{ "policy: external\ntrusted-header: true\nroles: staff\n", &sso, 0, AUTH_FULL },
		{ "policy: external\ntrusted-header: true\nroles: staff\n", &as_reader, 0, AUTH_DENIED },
		{ "policy: public\nembargo-until: 2030-01-01\n", &anon, 1800000000, AUTH_DENIED },
		{ "policy: public\nembargo-until: 2030-01-01\n", &anon, 1900000000, AUTH_FULL },
		{ "policy: login\nembargo-until: 2030-01-01\ndegraded: 300\n", &as_reader, 1800000000,
		  AUTH_DEGRADED },
		{ "policy: login\nembargo-until: 2030-01-01T12:00:00Z\n", &as_reader, 1900000000,
		  AUTH_FULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct auth_policy *p = policy_from(cases[i].yaml, &pr);
		CHECK(p != NULL, "case %zu loads (%s)", i, pr.count ? pr.items[0].msg : "");
		if (p)
			CHECK_INT(auth_policy_decide(p, cases[i].who, cases[i].now), cases[i].want,
				  cases[i].yaml);
		auth_policy_free(p);
	}
	CHECK_INT(auth_policy_decide(NULL, &anon, 0), AUTH_FULL, "no policy: public");
}

static void test_policy_problems(void)
{
	struct sidecar_problems pr;
	struct {
		const char *yaml;
		int line;
		const char *says;
	} cases[] = {
		{ "policy: sometimes\n", 1, "policy" },
		{ "roles: [a]\n", 0, "policy" },
		{ "policy: login\ndegraded: 5\n", 2, "degraded" },
		{ "policy: login\nembargo-until: soon\n", 2, "embargo-until" },
		{ "policy: kiosk\n", 0, "addresses" },
		{ "policy: kiosk\naddresses: [not-an-address]\n", 2, "addresses" },
		{ "policy: external\n", 0, "external" },
		{ "policy: login\ncolour: red\n", 2, "colour" },
		{ "- a list\n", 0, "mapping" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct auth_policy *p = policy_from(cases[i].yaml, &pr);
		CHECK(p == NULL, "case %zu is refused", i);
		CHECK(pr.count > 0 && strstr(pr.items[0].msg, cases[i].says), "case %zu: '%s'", i,
		      pr.count ? pr.items[0].msg : "(no problem)");
		if (cases[i].line && pr.count)
			CHECK_INT(pr.items[0].line, cases[i].line, cases[i].yaml);
		auth_policy_free(p);
	}
}

static void test_roles_and_forms(void)
{
	CHECK(auth_roles_match("", NULL) && auth_roles_match("a, b", "x,b") &&
		      !auth_roles_match("a", "ab") && !auth_roles_match("ab", "a") &&
		      !auth_roles_match("a", ""),
	      "roles");
	const char *body = "csrf=x.y&user=alice+smith&password=p%40ss%2B1&empty=";
	char out[64];
	CHECK(auth_form_field(body, strlen(body), "user", out, sizeof out) &&
		      strcmp(out, "alice smith") == 0, "user: %s", out);
	CHECK(auth_form_field(body, strlen(body), "password", out, sizeof out) &&
		      strcmp(out, "p@ss+1") == 0, "password: %s", out);
	CHECK(!auth_form_field(body, strlen(body), "pass", out, sizeof out), "no prefix match");
	CHECK(!auth_form_field(body, 10, "user", out, sizeof out), "len bounds the body");
	CHECK(!auth_form_field("user=%zz", 8, "user", out, sizeof out), "bad escape");
}

static void test_users_file(void)
{
	char path[] = "/tmp/iiifd-test-users-XXXXXX";
	close(mkstemp(path));
	unlink(path);
	struct iiifd_error err = { 0 };
	char roles[64];
	CHECK(auth_users_set(path, "alice", "pw one", "reader,staff", false, &err) == 0, "%s",
	      err.msg);
	CHECK(auth_users_set(path, "alice", "x", NULL, false, &err) < 0 && err.http_status == 409,
	      "add twice");
	CHECK(auth_users_check(path, "alice", "pw one", roles, sizeof roles) &&
		      strcmp(roles, "reader,staff") == 0, "check");
	CHECK(!auth_users_check(path, "alice", "pw two", roles, sizeof roles), "wrong password");
	CHECK(!auth_users_check(path, "nobody", "pw one", roles, sizeof roles), "unknown user");
	CHECK(auth_users_set(path, "alice", "pw two", NULL, true, &err) == 0, "passwd");
	CHECK(auth_users_check(path, "alice", "pw two", roles, sizeof roles) &&
		      strcmp(roles, "reader,staff") == 0, "new password, roles kept");
	CHECK(auth_users_set(path, "bad:name", "x", NULL, false, &err) < 0, "name with ':'");
	CHECK(auth_users_set(path, "bob", "x", "a:b", false, &err) < 0, "roles with ':'");
	CHECK(auth_users_remove(path, "alice", &err) == 0, "remove");
	CHECK(auth_users_remove(path, "alice", &err) < 0 && err.http_status == 404, "remove twice");
	CHECK(!auth_users_check(path, "alice", "pw two", roles, sizeof roles), "gone");
	unlink(path);
}

/* A file or folder at root/rel: a file with text when text is not NULL. */
static void tree_put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	if (!text) {
		CHECK(mkdir(path, 0755) == 0, "mkdir %s", path);
		return;
	}
	FILE *f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
}

static void tree_remove(const char *root, const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	CHECK(remove(path) == 0, "remove %s", path);
}

/* auth_policy_for_file gives what auth_policy_for gives for a file, below and outside the root. */
static void test_policy_for_file(void)
{
	char root[] = "/tmp/iiifd-test-tree-XXXXXX", path[PATH_MAX];
	CHECK(mkdtemp(root) != NULL, "temp folder");
	tree_put(root, "books", NULL);
	tree_put(root, "books/access.yml", "policy: login\n");
	tree_put(root, "books/a.jp2", "x");
	tree_put(root, "books/sub", NULL);
	tree_put(root, "books/sub/b.jp2", "x");
	tree_put(root, "open.jp2", "x");
	struct iiifd_config cfg;
	iiifd_config_init(&cfg);
	free(cfg.data_dir);
	cfg.data_dir = strdup(root); /* its users file is not read here */
	struct iiifd_error err = { 0 };
	struct auth_state *a = auth_state_new(&cfg, root, &err);
	iiifd_config_release(&cfg);
	CHECK(a != NULL, "auth state: %s", err.msg);
	static const char *const files[] = { "books/a.jp2", "books/sub/b.jp2", "open.jp2" };
	static const bool protected[] = { true, true, false };
	for (size_t i = 0; a && i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", root, files[i]);
		struct auth_policy *by_stat = auth_policy_for(a, path);
		struct auth_policy *by_file = auth_policy_for_file(a, path);
		CHECK(by_stat == by_file, "%s: the same policy either way", files[i]);
		CHECK(protected[i] ? by_file && by_file->kind == AUTH_LOGIN : !by_file,
		      "%s: %s", files[i], protected[i] ? "the folder's login" : "public");
		auth_policy_put(by_stat);
		auth_policy_put(by_file);
	}
	struct auth_policy *outside = a ? auth_policy_for_file(a, "/elsewhere/c.jp2") : NULL;
	CHECK(!outside, "outside the root: the configured policy (none here)");
	auth_state_free(a);
	static const char *const made[] = { "open.jp2", "books/sub/b.jp2", "books/sub",
					    "books/a.jp2", "books/access.yml", "books", "" };
	for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
		tree_remove(root, made[i]);
}

int main(void)
{
	UNIT_RUN(test_tokens);
	UNIT_RUN(test_grants_are_bounded);
	UNIT_RUN(test_origins_survive_and_are_bounded);
	UNIT_RUN(test_decisions);
	UNIT_RUN(test_policy_problems);
	UNIT_RUN(test_access_file);
	UNIT_RUN(test_roles_and_forms);
	UNIT_RUN(test_users_file);
	UNIT_RUN(test_policy_for_file);
	return unit_report("auth");
}
