/*
 * test_root.c: storage roots (src/storage/root.c, root_remote.c, root_file.c). A local root over
 * a temporary folder: names, resolution (symlinks out of the root refused), stat, listings
 * (hidden names and escaping symlinks left out), whole-file reads with their bound, ranged reads
 * and the version check. A remote root over s3rver (s3rver.h): the same operations, what the
 * TTL saves in requests, extension inference by listing, and reads at one version (409 after a
 * replacement, until the stat is forgotten).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <vips/vips.h>

#include "s3rver.h"
#include "storage/root.h"
#include "unit.h"

static char local_dir[128] = "/tmp/iiifd-root-XXXXXX";

static void write_file(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", local_dir, rel);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int make_local(void)
{
	if (!mkdtemp(local_dir))
		return -1;
	char path[512];
	snprintf(path, sizeof path, "%s/root", local_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/root/sub", local_dir);
	mkdir(path, 0755);
	write_file("root/a.txt", "hello, root");
	write_file("root/solo.png", "not really a PNG");
	write_file("root/.hidden", "hidden");
	write_file("root/sub/b.txt", "below");
	write_file("secret.txt", "outside the root");
	char target[512];
	snprintf(target, sizeof target, "%s/secret.txt", local_dir);
	snprintf(path, sizeof path, "%s/root/escape.txt", local_dir);
	if (symlink(target, path))
		return -1;
	snprintf(path, sizeof path, "%s/root/inside.txt", local_dir);
	return symlink("a.txt", path);
}

static struct storage_root *open_local(void)
{
	char spec[512];
	snprintf(spec, sizeof spec, "%s/root", local_dir);
	struct storage_root *r = NULL;
	struct iiifd_error err = {0};
	CHECK(storage_root_open(spec, NULL, &r, &err) == 0, "open %s: %s", spec, err.msg);
	return r;
}

static bool listed(const struct storage_listing *l, const char *name, bool dir)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->entries[i].name, name))
			return l->entries[i].st.is_dir == dir;
	return false;
}

static void test_local_names(void)
{
	struct storage_root *r = open_local();
	if (!r)
		return;
	CHECK(!storage_root_is_remote(r) && storage_root_store(r) == NULL, "a folder");
	char *loc = storage_root_location(r, "sub/b.txt");
	char want[512];
	snprintf(want, sizeof want, "%s/root/sub/b.txt", local_dir);
	CHECK(loc && !strcmp(loc, want), "location %s", loc ? loc : "(null)");
	CHECK_STR(storage_root_rel(r, loc), "sub/b.txt", "rel");
	CHECK_STR(storage_root_rel(r, storage_root_name(r)), "", "the root itself");
	CHECK(storage_root_rel(r, "/elsewhere/x") == NULL, "not below");
	free(loc);
	const char *bad[] = {"../secret.txt", "sub/../a.txt", ".hidden", "a//b", "/abs",
			     "sub\\b.txt", NULL};
	for (int i = 0; bad[i]; i++)
		CHECK(storage_root_location(r, bad[i]) == NULL, "refused: '%s'", bad[i]);
	CHECK(storage_root_of(want) == NULL, "a local location has no remote root");
	storage_root_close(r);
}

static void test_local_resolve_stat_list(void)
{
	struct storage_root *r = open_local();
	if (!r)
		return;
	static const char *const exts[] = {"png", NULL};
	char *loc = NULL;
	struct iiifd_error err = {0};
	CHECK(storage_resolve(r, "a.txt", NULL, &loc, &err) == 0, "a.txt: %s", err.msg);
	free(loc);
	CHECK(storage_resolve(r, "solo", exts, &loc, &err) == 0 && strstr(loc, "/solo.png"),
	      "extension inferred: %s", loc ? loc : err.msg);
	free(loc);
	loc = NULL;
	CHECK(storage_resolve(r, "escape.txt", NULL, &loc, &err) == -1 && err.http_status == 404,
	      "a symlink out of the root: 404");
	CHECK(storage_resolve(r, "sub", NULL, &loc, &err) == -1, "a folder is no file");
	CHECK(storage_resolve_folder(r, "sub", &loc, &err) == 0, "folder: %s", err.msg);
	struct storage_stat st;
	CHECK(storage_stat(loc, &st, &err) == 0 && st.is_dir, "stat of a folder");
	free(loc);
	CHECK(storage_resolve_folder(r, "", &loc, &err) == 0, "the root folder");
	struct storage_listing l;
	CHECK(storage_list(loc, 0, &l, &err) == 0, "list: %s", err.msg);
	CHECK(listed(&l, "a.txt", false) && listed(&l, "sub", true) && listed(&l, "inside.txt", false),
	      "files, folders and inner symlinks listed");
	CHECK(!listed(&l, ".hidden", false) && !listed(&l, "escape.txt", false),
	      "hidden names and escaping symlinks left out (%zu entries)", l.count);
	storage_listing_release(&l);
	CHECK(storage_list(loc, STORAGE_LIST_STAT, &l, &err) == 0, "list with stats");
	bool sized = false;
	for (size_t i = 0; i < l.count; i++)
		if (!strcmp(l.entries[i].name, "a.txt"))
			sized = l.entries[i].has_stat && l.entries[i].st.size == 11;
	CHECK(sized, "a.txt's size in the listing");
	storage_listing_release(&l);
	free(loc);
	storage_root_close(r);
}

static void test_local_reads(void)
{
	struct storage_root *r = open_local();
	if (!r)
		return;
	char *loc = storage_root_location(r, "a.txt"), *data = NULL;
	size_t len = 0;
	struct iiifd_error err = {0};
	CHECK(storage_read_file(loc, 100, &data, &len, &err) == 0 && len == 11 &&
		      !strcmp(data, "hello, root"),
	      "read whole: %s", err.msg);
	free(data);
	CHECK(storage_read_file(loc, 5, &data, &len, &err) == -1 && err.http_status == 413,
	      "larger than the bound: 413");
	struct storage_stat st;
	storage_stat(loc, &st, &err);
	struct storage_file *f;
	char buf[8] = "";
	CHECK(storage_file_open(loc, &st, &f, &err) == 0, "open: %s", err.msg);
	CHECK(storage_file_fd(f) >= 0 && storage_file_stat(f) == NULL, "a local descriptor");
	CHECK(storage_file_pread(f, buf, 4, 7, &err) == 0 && !memcmp(buf, "root", 4), "pread");
	CHECK(storage_file_pread(f, buf, 8, 7, &err) == -1, "a short read fails");
	CHECK(storage_file_verify(f, &st, &err) == 0, "the probed version");
	struct storage_stat other = st;
	other.size++;
	CHECK(storage_file_verify(f, &other, &err) == -1 && err.http_status == 409,
	      "another version: 409");
	storage_file_close(f);
	char version[128];
	storage_stat_version(&st, version, sizeof version);
	CHECK(!strchr(strchr(version, '|') + 1, '|'), "a local version has no ETag: %s", version);
	TIFFSetErrorHandler(NULL);
	struct tiff *t = storage_tiff_open(loc, &st, &err);
	CHECK(t == NULL && err.http_status == 415, "not a TIFF: 415");
	char cwd[512];
	if (getcwd(cwd, sizeof cwd) && chdir(local_dir) == 0) { /* as the command-line tools pass */
		CHECK(storage_stat("root/a.txt", &st, &err) == 0 && st.size == 11,
		      "a relative path is a local one: %s", err.msg);
		CHECK(storage_file_open("root/a.txt", NULL, &f, &err) == 0, "open relative");
		storage_file_close(f);
		CHECK(chdir(cwd) == 0, "back");
	}
	free(loc);
	loc = storage_root_location(r, "nope.txt");
	CHECK(storage_file_open(loc, NULL, &f, &err) == -1 && err.http_status == 404, "missing");
	free(loc);
	storage_root_close(r);
}

/* ---- remote ------------------------------------------------------------------------------ */

static struct storage_root *open_remote(int ttl)
{
	struct storage_options opt = {.endpoint = endpoint, .region = "us-east-1",
				      .access_key = "S3RVER", .secret_key = "S3RVER",
				      .block_size = 4096, .ttl = ttl};
	struct storage_root *r = NULL;
	struct iiifd_error err = {0};
	CHECK(storage_root_open("s3://bkt/root", &opt, &r, &err) == 0, "open: %s", err.msg);
	return r;
}

static uint64_t requests(struct storage_root *r)
{
	return remote_store_counters(storage_root_store(r)).requests;
}

static void test_remote_names_and_stat(void)
{
	struct storage_root *r = open_remote(60);
	if (!r)
		return;
	CHECK(storage_root_is_remote(r), "remote");
	CHECK_STR(storage_root_name(r), "s3://bkt/root", "name");
	char *loc = storage_root_location(r, "docs/a.txt");
	CHECK_STR(loc, "s3://bkt/root/docs/a.txt", "location");
	CHECK(storage_root_of(loc) == r, "the location finds its root");
	CHECK(storage_root_of("s3://bkt/rootless/x") == NULL, "a name is not a prefix of a name");
	struct storage_stat st, again;
	struct iiifd_error err = {0};
	CHECK(storage_stat(loc, &st, &err) == 0 && !st.is_dir && st.size == 11 && st.etag[0],
	      "stat of an object: %s", err.msg);
	uint64_t before = requests(r);
	CHECK(storage_stat(loc, &again, &err) == 0 && storage_stat_same(&st, &again),
	      "the same again");
	CHECK_INT(requests(r) - before, 0, "within the TTL: no request");
	char version[160];
	CHECK(strstr(storage_stat_version(&st, version, sizeof version), st.etag) != NULL,
	      "the ETag in the version: %s", version);
	free(loc);
	loc = storage_root_location(r, "docs");
	CHECK(storage_stat(loc, &st, &err) == 0 && st.is_dir, "a prefix is a folder: %s", err.msg);
	free(loc);
	loc = storage_root_location(r, "docs/none.txt");
	CHECK(storage_stat(loc, &st, &err) == -1 && err.http_status == 404, "missing: 404");
	before = requests(r);
	CHECK(storage_stat(loc, &st, &err) == -1 && err.http_status == 404, "still missing");
	CHECK_INT(requests(r) - before, 0, "a 404 is remembered too");
	free(loc);
	CHECK(storage_stat("s3://bkt/root/../x", &st, &err) == -1 && err.http_status == 404,
	      "an unsafe location: 404");
	storage_root_close(r);
}

static void test_remote_list_and_resolve(void)
{
	struct storage_root *r = open_remote(60);
	if (!r)
		return;
	struct storage_listing l;
	struct iiifd_error err = {0};
	CHECK(storage_list("s3://bkt/root/docs", 0, &l, &err) == 0, "list: %s", err.msg);
	CHECK(listed(&l, "a.txt", false) && listed(&l, "deeper", true) &&
		      listed(&l, "pic.png", false) && !listed(&l, ".dot.txt", false),
	      "objects, a folder, no hidden name (%zu entries)", l.count);
	bool stated = false;
	for (size_t i = 0; i < l.count; i++)
		if (!strcmp(l.entries[i].name, "a.txt"))
			stated = l.entries[i].has_stat && l.entries[i].st.size == 11;
	CHECK(stated, "a listing carries sizes");
	storage_listing_release(&l);
	uint64_t before = requests(r);
	struct storage_stat st;
	CHECK(storage_stat("s3://bkt/root/docs/pic.png", &st, &err) == 0 && st.size == 9,
	      "a listed file's stat");
	CHECK(storage_list("s3://bkt/root/docs", 0, &l, &err) == 0 && l.count >= 3, "again");
	storage_listing_release(&l);
	CHECK_INT(requests(r) - before, 0, "listing and its files' stats remembered");
	CHECK(storage_list("s3://bkt/root/nothing", 0, &l, &err) == -1 && err.http_status == 404,
	      "an empty prefix is no folder");
	static const char *const exts[] = {"png", "jpg", NULL};
	char *loc = NULL;
	CHECK(storage_resolve(r, "docs/pic", exts, &loc, &err) == 0 &&
		      !strcmp(loc, "s3://bkt/root/docs/pic.png"),
	      "extension inferred: %s", loc ? loc : err.msg);
	free(loc);
	const char *bad[] = {"docs/../secret.txt", "../root/docs/a.txt", "docs/.dot.txt", "docs",
			     "docs//a.txt", "docs/none", NULL};
	for (int i = 0; bad[i]; i++) {
		loc = NULL;
		CHECK(storage_resolve(r, bad[i], exts, &loc, &err) == -1 && err.http_status == 404,
		      "404 for '%s' (%d %s)", bad[i], err.http_status, err.msg);
		free(loc);
	}
	CHECK(storage_resolve_folder(r, "docs/deeper", &loc, &err) == 0, "folder: %s", err.msg);
	free(loc);
	storage_root_close(r);
}

static void test_remote_reads(void)
{
	struct storage_root *r = open_remote(60);
	if (!r)
		return;
	char *data = NULL;
	size_t len = 0;
	struct iiifd_error err = {0};
	CHECK(storage_read_file("s3://bkt/root/docs/a.txt", 100, &data, &len, &err) == 0 &&
		      len == 11 && !strcmp(data, "hello there"),
	      "read whole: %s", err.msg);
	free(data);
	CHECK(storage_read_file("s3://bkt/root/docs/a.txt", 4, &data, &len, &err) == -1 &&
		      err.http_status == 413,
	      "bounded: 413");
	static char v1_bytes[6000], v2_bytes[6001];
	memset(v1_bytes, 'a', sizeof v1_bytes);
	memset(v2_bytes, 'b', sizeof v2_bytes);
	memcpy(v1_bytes, "first", 5);
	memcpy(v2_bytes, "SECOND", 6);
	CHECK(put("v.bin", v1_bytes, sizeof v1_bytes) == 0, "put v1");
	const char *loc = "s3://bkt/root/v.bin";
	struct storage_stat v1;
	storage_stat(loc, &v1, &err);
	struct storage_file *f;
	char buf[16] = "";
	CHECK(storage_file_open(loc, &v1, &f, &err) == 0 && storage_file_fd(f) == -1 &&
		      storage_file_size(f) == 6000,
	      "open remote");
	CHECK(storage_file_pread(f, buf, 5, 0, &err) == 0 && !memcmp(buf, "first", 5), "pread");
	CHECK(put("v.bin", v2_bytes, sizeof v2_bytes) == 0, "put v2");
	CHECK(storage_file_pread(f, buf, 5, 5000, &err) == -1 && err.http_status == 409,
	      "reading the old version's uncached bytes: 409 (%d %s)", err.http_status, err.msg);
	storage_file_close(f);
	struct storage_stat now;
	CHECK(storage_stat(loc, &now, &err) == 0 && storage_stat_same(&now, &v1),
	      "within the TTL the old stat is trusted");
	storage_forget(loc);
	CHECK(storage_stat(loc, &now, &err) == 0 && !storage_stat_same(&now, &v1) &&
		      now.size == 6001,
	      "forgotten: the new version");
	CHECK(storage_file_open(loc, NULL, &f, &err) == 0 && storage_file_pread(f, buf, 6, 0, &err) == 0 &&
		      !memcmp(buf, "SECOND", 6),
	      "the new bytes");
	storage_file_close(f);
	CHECK(storage_file_open("s3://bkt/root/docs/none.txt", NULL, &f, &err) == -1 &&
		      err.http_status == 404,
	      "missing: 404");
	VipsSource *src = storage_vips_source("s3://bkt/root/docs/a.txt", NULL, &err);
	CHECK(src != NULL, "a libvips source");
	if (src)
		g_object_unref(src);
	storage_root_close(r);
}

static void test_remote_ttl_zero(void)
{
	struct storage_root *r = open_remote(0);
	if (!r)
		return;
	struct storage_stat st;
	struct iiifd_error err = {0};
	uint64_t before = requests(r);
	storage_stat("s3://bkt/root/docs/a.txt", &st, &err);
	storage_stat("s3://bkt/root/docs/a.txt", &st, &err);
	CHECK_INT(requests(r) - before, 2, "ttl 0: every stat asks");
	storage_root_close(r);
}

static void test_bad_specs(void)
{
	struct storage_options opt = {.access_key = "k", .secret_key = "s"};
	struct storage_root *r = NULL;
	struct iiifd_error err = {0};
	CHECK(storage_root_open("s3://Bad_Bucket/x", &opt, &r, &err) == -1 &&
		      err.http_status == 400,
	      "bad bucket: 400");
	CHECK(storage_root_open("/no/such/folder", NULL, &r, &err) == -1 &&
		      err.http_status == 404,
	      "missing folder: 404");
	CHECK(storage_root_open("https://u@h/x", &opt, &r, &err) == -1, "a user in an origin");
	CHECK(storage_spec_is_remote("s3://b/x") && storage_spec_is_remote("https://h/") &&
		      !storage_spec_is_remote("/srv/images") && !storage_spec_is_remote("s3"),
	      "remote specs");
}

static int put_fixtures(void)
{
	return put("docs/a.txt", "hello there", 11) | put("docs/pic.png", "not a png", 9) |
	       put("docs/.dot.txt", "hidden", 6) | put("docs/deeper/c.txt", "c", 1) |
	       put("secret.txt", "no", 2);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (VIPS_INIT(argv[0]))
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (make_local() < 0) {
		fprintf(stderr, "root: cannot make the local fixtures\n");
		return 1;
	}
	UNIT_RUN(test_local_names);
	UNIT_RUN(test_local_resolve_stat_list);
	UNIT_RUN(test_local_reads);
	UNIT_RUN(test_bad_specs);
	if (server_start() || put_fixtures()) {
		fprintf(stderr, "root: could not start s3rver or store the fixtures\n");
		server_stop();
		return 1;
	}
	UNIT_RUN(test_remote_names_and_stat);
	UNIT_RUN(test_remote_list_and_resolve);
	UNIT_RUN(test_remote_reads);
	UNIT_RUN(test_remote_ttl_zero);
	server_stop();
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", local_dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", local_dir);
	curl_global_cleanup();
	vips_shutdown();
	return unit_report("root");
}
