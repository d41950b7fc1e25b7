/*
 * test_core.c: percent-encoding, identifier resolution under a root (on a real temporary tree),
 * and configuration from flags and INI files.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/path.h"
#include "core/rights.h"
#include "core/strings.h"
#include "unit.h"

static void test_url_decode(void)
{
	static const struct {
		const char *in, *want; /* want NULL = must fail */
	} cases[] = {
		{ "a%2Fb.jpg", "a/b.jpg" }, { "a%2fb", "a/b" },     { "plain", "plain" },
		{ "sp%20ace", "sp ace" },   { "plus+", "plus+" },   { "%", NULL },
		{ "%2", NULL },             { "%zz", NULL },        { "a%00b", NULL },
		{ "%e2%82%ac", "\xe2\x82\xac" }, { "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		int n = strings_url_decode(cases[i].in, strlen(cases[i].in), out, sizeof out);
		if (!cases[i].want)
			CHECK(n < 0, "decode '%s' should fail, got %d", cases[i].in, n);
		else if (n >= 0)
			CHECK_STR(out, cases[i].want, cases[i].in);
		else
			CHECK(0, "decode '%s' failed", cases[i].in);
	}
	char small[4];
	CHECK(strings_url_decode("abcdef", 6, small, sizeof small) < 0, "overflow must fail");
}

static void test_url_encode(void)
{
	char out[64];
	CHECK_INT(strings_url_encode("a/b c.jpg", out, sizeof out), 13, "encode length");
	CHECK_STR(out, "a%2Fb%20c.jpg", "encode");
	CHECK(strings_url_encode("abc", out, 3) < 0, "too small must fail");
	char round[64];
	strings_url_encode("x;1/é", out, sizeof out);
	strings_url_decode(out, strlen(out), round, sizeof round);
	CHECK_STR(round, "x;1/é", "round trip");
}

/* Builds root/{sub/a.jpg, sub/b.png, sub/b.tif, c.jpg, .hidden.jpg, out -> ../outside.jpg}. */
static void make_tree(const char *base, char *root, char *outside)
{
	char p[PATH_MAX + 64];
	snprintf(root, PATH_MAX, "%s/root", base);
	snprintf(outside, PATH_MAX, "%s/outside.jpg", base);
	mkdir(root, 0755);
	snprintf(p, sizeof p, "%s/sub", root);
	mkdir(p, 0755);
	const char *files[] = { "sub/a.jpg", "sub/b.png", "sub/b.tif", "c.jpg", ".hidden.jpg" };
	for (size_t i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", root, files[i]);
		fclose(fopen(p, "w"));
	}
	fclose(fopen(outside, "w"));
	snprintf(p, sizeof p, "%s/out.jpg", root);
	if (symlink(outside, p) != 0)
		perror("symlink");
	snprintf(p, sizeof p, "%s/updir", root);
	if (symlink(base, p) != 0)
		perror("symlink");
}

static void test_path_resolve(void)
{
	static const char *const exts[] = { "jpg", "png", "tif", NULL };
	char tmpl[] = "/tmp/iiifd-test-XXXXXX", root[PATH_MAX], outside[PATH_MAX], real[PATH_MAX];
	CHECK(mkdtemp(tmpl) != NULL, "mkdtemp");
	make_tree(tmpl, root, outside);
	CHECK(realpath(root, real) != NULL, "realpath root");
	static const struct {
		const char *id, *want_suffix; /* NULL = 404 */
	} cases[] = {
		{ "c.jpg", "/root/c.jpg" }, { "sub/a.jpg", "/root/sub/a.jpg" },
		{ "sub/a", "/root/sub/a.jpg" }, /* single match: extension inferred */
		{ "sub/b", NULL },              /* two matches: ambiguous */
		{ "c", "/root/c.jpg" },       { "../outside.jpg", NULL },
		{ "sub/../c.jpg", NULL },     { "/etc/passwd", NULL },
		{ "out.jpg", NULL },          /* symlink leaving root */
		{ "updir/outside.jpg", NULL }, { ".hidden.jpg", NULL },
		{ "sub", NULL },              /* a directory */
		{ "", NULL },                 { "sub//a.jpg", NULL },
		{ "./c.jpg", NULL },          { "missing.jpg", NULL },
		{ "c.jpg\x01", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = NULL;
		struct iiifd_error err = { 0 };
		int rc = path_resolve(real, cases[i].id, exts, &out, &err);
		if (!cases[i].want_suffix) {
			CHECK(rc < 0 && err.http_status == 404, "'%s' must be 404, got %d (%s)",
			      cases[i].id, rc, out ? out : "");
		} else {
			size_t n = out ? strlen(out) : 0, m = strlen(cases[i].want_suffix);
			CHECK(rc == 0 && n >= m && strcmp(out + n - m, cases[i].want_suffix) == 0,
			      "'%s' resolved to '%s'", cases[i].id, out ? out : "(error)");
		}
		free(out);
	}
	char longid[PATH_IDENTIFIER_MAX + 10];
	memset(longid, 'a', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	char *out = NULL;
	CHECK(path_resolve(real, longid, exts, &out, NULL) < 0, "overlong identifier");
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
	CHECK(system(cmd) == 0, "cleanup");
}

static void test_config_args(void)
{
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	iiifd_config_init(&cfg);
	CHECK_INT(cfg.port, 8182, "default port");
	CHECK_INT(cfg.max_area, 100000000, "default max-area");
	char *argv[] = { "--port", "9000", "--public-url=https://x.org/", "--trust_forwarded",
			 "yes", "/srv" };
	CHECK(iiifd_config_parse_args(&cfg, 6, argv, &err) == 0, "parse: %s", err.msg);
	CHECK_INT(cfg.port, 9000, "port flag");
	CHECK_STR(cfg.public_url, "https://x.org/", "public-url");
	CHECK(cfg.trust_forwarded, "trust-forwarded");
	CHECK_STR(cfg.root, "/srv", "positional root");
	char *bad[][2] = { { "--port", "0" }, { "--port", "abc" }, { "--nope", "1" },
			   { "--access-log", "maybe" }, { "--max-area", "-5" } };
	for (size_t i = 0; i < 5; i++)
		CHECK(iiifd_config_parse_args(&cfg, 2, bad[i], &err) < 0 && err.msg[0],
		      "%s %s must fail", bad[i][0], bad[i][1]);
	char *dangling[] = { "--port" };
	CHECK(iiifd_config_parse_args(&cfg, 1, dangling, &err) < 0, "flag without value");
	iiifd_config_release(&cfg);
}

static void test_config_file(void)
{
	char path[] = "/tmp/iiifd-conf-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "# comment\n[server]\nport = 7000\nhost=0.0.0.0\n[image]\nmax_width = 2000\n");
	fclose(f);
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	iiifd_config_init(&cfg);
	char *argv[] = { "--config", path, "--host", "127.0.0.2" };
	CHECK(iiifd_config_parse_args(&cfg, 4, argv, &err) == 0, "config file: %s", err.msg);
	CHECK_INT(cfg.port, 7000, "port from file");
	CHECK_INT(cfg.max_width, 2000, "max_width from file");
	CHECK_STR(cfg.host, "127.0.0.2", "flag overrides file");
	f = fopen(path, "w");
	fprintf(f, "port = 7000\n\nmystery = 1\n");
	fclose(f);
	CHECK(iiifd_config_load_file(&cfg, path, &err) < 0 && strstr(err.msg, ":3:") &&
		      strstr(err.msg, "mystery"),
	      "error names file and line: '%s'", err.msg);
	unlink(path);
	CHECK(iiifd_config_load_file(&cfg, "/nonexistent/iiifd.conf", &err) < 0 &&
		      strstr(err.msg, "/nonexistent/iiifd.conf"),
	      "missing file named: '%s'", err.msg);
	iiifd_config_release(&cfg);
}

/* Entries of dir other than . and .., e.g. temporary files left behind. */
static int dir_entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static void test_write_atomic(void)
{
	char dir[] = "/tmp/iiifd-test-fileio-XXXXXX", path[600], missing[700];
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/out.bin", dir);
	static const char first[] = "first version", second[] = "2";
	for (int durable = 0; durable < 2; durable++) {
		CHECK_INT(fileio_write_atomic(path, first, sizeof first, durable), 0, "write");
		CHECK_INT(fileio_write_atomic(path, second, sizeof second, durable), 0, "replace");
		char got[64] = { 0 };
		FILE *f = fopen(path, "rb");
		size_t n = f ? fread(got, 1, sizeof got, f) : 0;
		if (f)
			fclose(f);
		CHECK(n == sizeof second && memcmp(got, second, n) == 0, "replaced whole: %zu bytes", n);
		struct stat st;
		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode %o", st.st_mode & 0777);
		CHECK_INT(dir_entries(dir), 1, "no temporary file left");
	}
	snprintf(missing, sizeof missing, "%s/no/such/dir/out.bin", dir);
	errno = 0;
	CHECK_INT(fileio_write_atomic(missing, first, sizeof first, false), -1, "missing folder");
	CHECK_INT(errno, ENOENT, "errno says why");
	CHECK_INT(dir_entries(dir), 1, "nothing written on failure");
	unlink(path);
	rmdir(dir);
}

static void test_log_escape(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain text /iiif/3/a%2Fb", "plain text /iiif/3/a%2Fb" },
		{ "esc \x1b[31m red", "esc \\x1b[31m red" },
		{ "line\r\nforged", "line\\x0d\\x0aforged" },
		{ "del\x7f tab\t", "del\\x7f tab\\x09" },
		{ "back\\slash", "back\\\\slash" },
		{ "utf-8 \xc3\xa9", "utf-8 \xc3\xa9" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[128];
		size_t n = log_escape(cases[i].in, out, sizeof out);
		CHECK_STR(out, cases[i].want, cases[i].in);
		CHECK_INT(n, strlen(cases[i].want), "length");
	}
	char small[8];
	log_escape("\x01\x02\x03\x04", small, sizeof small);
	CHECK(strlen(small) < sizeof small, "cut short, still terminated: %s", small);
}

/* Rights statements in the form IIIF requires; other spellings of them rewritten. */
static void test_rights(void)
{
	static const struct {
		const char *in;
		enum rights_result r;
		const char *out;
	} cases[] = {
		{ "http://creativecommons.org/licenses/by/4.0/", RIGHTS_OK, NULL },
		{ "http://creativecommons.org/publicdomain/zero/1.0/", RIGHTS_OK, NULL },
		{ "http://creativecommons.org/publicdomain/mark/1.0/", RIGHTS_OK, NULL },
		{ "http://rightsstatements.org/vocab/InC/1.0/", RIGHTS_OK, NULL },
		{ "http://creativecommons.org/licenses/by/3.0/nl/", RIGHTS_OK, NULL },
		{ "https://creativecommons.org/licenses/by/4.0/", RIGHTS_NORMALISED,
		  "http://creativecommons.org/licenses/by/4.0/" },
		{ "https://creativecommons.org/licenses/by-nc/4.0/deed.fr", RIGHTS_NORMALISED,
		  "http://creativecommons.org/licenses/by-nc/4.0/" },
		{ "http://creativecommons.org/licenses/by/4.0/legalcode", RIGHTS_NORMALISED,
		  "http://creativecommons.org/licenses/by/4.0/" },
		{ "http://creativecommons.org/licenses/by/4.0", RIGHTS_NORMALISED,
		  "http://creativecommons.org/licenses/by/4.0/" },
		{ "https://www.creativecommons.org/publicdomain/zero/1.0/", RIGHTS_NORMALISED,
		  "http://creativecommons.org/publicdomain/zero/1.0/" },
		{ "https://rightsstatements.org/page/InC/1.0/?language=en", RIGHTS_NORMALISED,
		  "http://rightsstatements.org/vocab/InC/1.0/" },
		{ "All rights reserved", RIGHTS_INVALID, NULL },
		{ "http://creativecommons.org/", RIGHTS_INVALID, NULL },
		{ "http://creativecommons.org/publicdomain/other/1.0/", RIGHTS_INVALID, NULL },
		{ "http://creativecommons.org/licenses/by/4.0/<script>/", RIGHTS_INVALID, NULL },
		{ "http://creativecommons.org.evil.example/licenses/by/4.0/", RIGHTS_INVALID, NULL },
		{ "http://example.org/licenses/by/4.0/", RIGHTS_INVALID, NULL },
		{ "ftp://creativecommons.org/licenses/by/4.0/", RIGHTS_INVALID, NULL },
		{ "http://rightsstatements.org/vocab/InC/", RIGHTS_INVALID, NULL },
		{ "", RIGHTS_INVALID, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[512];
		enum rights_result r = rights_normalise(cases[i].in, out, sizeof out);
		CHECK(r == cases[i].r, "%s: result %d, want %d", cases[i].in, r, cases[i].r);
		if (r != RIGHTS_INVALID)
			CHECK_STR(out, cases[i].out ? cases[i].out : cases[i].in, cases[i].in);
	}
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	iiifd_config_init(&cfg);
	CHECK(iiifd_config_set(&cfg, "rights", "https://creativecommons.org/licenses/by/4.0/deed.de",
			       &err) == 0, "--rights https: %s", err.msg);
	CHECK_STR(cfg.rights, "http://creativecommons.org/licenses/by/4.0/", "--rights normalised");
	CHECK(iiifd_config_set(&cfg, "rights", "CC-BY", &err) < 0 && strstr(err.msg, "rights"),
	      "--rights CC-BY refused: %s", err.msg);
	iiifd_config_release(&cfg);
}

int main(void)
{
	UNIT_RUN(test_url_decode);
	UNIT_RUN(test_url_encode);
	UNIT_RUN(test_path_resolve);
	UNIT_RUN(test_config_args);
	UNIT_RUN(test_config_file);
	UNIT_RUN(test_write_atomic);
	UNIT_RUN(test_log_escape);
	UNIT_RUN(test_rights);
	return unit_report("core");
}
