/*
 * test_remote.c: ranged reads, HEAD and listings (src/storage/remote.c) against a real
 * S3-compatible server (s3rver.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "s3rver.h"
#include "storage/remote.h"
#include "unit.h"

#define BIG_SIZE (300 * 1024 + 17)

static unsigned char big[BIG_SIZE];

static void test_stat(void)
{
	struct s3_config c = config();
	struct remote_store *s;
	struct iiifd_error err = {0};
	CHECK(remote_store_open(&c, 0, 0, &s, &err) == 0, "%s", err.msg);
	struct remote_stat st;
	CHECK(remote_stat(s, "a/big.bin", &st, &err) == 0, "stat: %s", err.msg);
	CHECK_INT(st.size, BIG_SIZE, "size");
	CHECK(st.etag[0] == '"' && st.modified > 0, "etag %s, modified %lld", st.etag,
	      (long long)st.modified);
	CHECK(remote_stat(s, "a/none.bin", &st, &err) == -1 && err.http_status == 404,
	      "missing object: 404 (%d %s)", err.http_status, err.msg);
	remote_store_close(s);
}

/* Reads [off, off + len) and compares it with big. */
static bool read_matches(struct remote_store *s, const struct remote_stat *st, int64_t off,
			 size_t len)
{
	unsigned char buf[200 * 1024];
	struct iiifd_error err = {0};
	ssize_t n = remote_read(s, "a/big.bin", st, off, buf, len, &err);
	size_t want = off >= BIG_SIZE ? 0 : (size_t)MIN((int64_t)len, BIG_SIZE - off);
	bool ok = n == (ssize_t)want && !memcmp(buf, big + off, want);
	CHECK(ok, "read %lld+%zu: %zd bytes (want %zu) %s", (long long)off, len, n, want, err.msg);
	return ok;
}

static void test_ranged_reads(void)
{
	struct s3_config c = config();
	struct remote_store *s;
	struct iiifd_error err = {0};
	remote_store_open(&c, 16 * 1024, 0, &s, &err);
	struct remote_stat st;
	remote_stat(s, "a/big.bin", &st, &err);
	uint64_t before = remote_store_counters(s).requests;
	read_matches(s, &st, 100, 10);
	CHECK_INT(remote_store_counters(s).requests - before, 1, "a small read: one ranged GET");
	read_matches(s, &st, 200, 1000);
	CHECK_INT(remote_store_counters(s).requests - before, 1, "same block again: no request");
	read_matches(s, &st, 40 * 1024, 50 * 1024);
	CHECK_INT(remote_store_counters(s).requests - before, 2,
		  "four missing blocks in a row: one request");
	read_matches(s, &st, 0, 100 * 1024);
	CHECK_INT(remote_store_counters(s).requests - before, 4,
		  "two runs of missing blocks around cached ones: two requests");
	read_matches(s, &st, BIG_SIZE - 5, 100);
	read_matches(s, &st, BIG_SIZE, 10);
	struct remote_counters n = remote_store_counters(s);
	CHECK(n.bytes < 2 * 120 * 1024, "bytes fetched (%llu) are those of the blocks read, not"
					" the whole object", (unsigned long long)n.bytes);
	for (int i = 0; i < 200; i++) {
		int64_t off = random() % (BIG_SIZE + 100);
		if (!read_matches(s, &st, off, (size_t)(random() % (150 * 1024))))
			break;
	}
	remote_store_close(s);
}

struct reader {
	struct remote_store *s;
	const struct remote_stat *st;
	unsigned seed;
	int bad;
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	unsigned char *buf = malloc(64 * 1024);
	for (int i = 0; i < 100; i++) {
		int64_t off = rand_r(&r->seed) % BIG_SIZE;
		size_t len = (size_t)(rand_r(&r->seed) % (64 * 1024));
		struct iiifd_error err;
		ssize_t n = remote_read(r->s, "a/big.bin", r->st, off, buf, len, &err);
		size_t want = (size_t)MIN((int64_t)len, BIG_SIZE - off);
		if (n != (ssize_t)want || memcmp(buf, big + off, want))
			r->bad++;
	}
	free(buf);
	return NULL;
}

/* Four threads through one store with a cache of three blocks: every byte right. */
static void test_threads_and_bound(void)
{
	struct s3_config c = config();
	struct remote_store *s;
	struct iiifd_error err = {0};
	remote_store_open(&c, 32 * 1024, 3 * 32 * 1024, &s, &err);
	struct remote_stat st;
	remote_stat(s, "a/big.bin", &st, &err);
	pthread_t t[4];
	struct reader r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){.s = s, .st = &st, .seed = (unsigned)i + 1};
		pthread_create(&t[i], NULL, reader_run, &r[i]);
	}
	int bad = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		bad += r[i].bad;
	}
	CHECK_INT(bad, 0, "wrong reads from four threads");
	remote_store_close(s);
}

/* A replaced object is read whole as its new version; a read for the old one fails: 409. */
static void test_replaced(void)
{
	struct s3_config c = config();
	struct remote_store *s;
	struct iiifd_error err = {0};
	remote_store_open(&c, 4096, 0, &s, &err);
	CHECK(put("a/v.txt", "version one, padded to span blocks", 35) == 0, "put v1");
	struct remote_stat v1, v2;
	remote_stat(s, "a/v.txt", &v1, &err);
	char buf[64] = "";
	remote_read(s, "a/v.txt", &v1, 0, buf, 11, &err);
	CHECK(put("a/v.txt", "VERSION TWO, padded to span blocks", 35) == 0, "put v2");
	remote_stat(s, "a/v.txt", &v2, &err);
	CHECK(strcmp(v1.etag, v2.etag) != 0, "a new ETag (%s, %s)", v1.etag, v2.etag);
	memset(buf, 0, sizeof buf);
	CHECK(remote_read(s, "a/v.txt", &v2, 0, buf, 11, &err) == 11 && !strcmp(buf, "VERSION TWO"),
	      "the new version, not cached blocks of the old: '%s'", buf);
	/* blocks of the old version read before stay consistent; an uncached one cannot be read */
	CHECK(remote_read(s, "a/v.txt", &v1, 0, buf, 11, &err) == 11 && !strncmp(buf, "version one", 11),
	      "the cached old version: '%s'", buf);
	remote_store_close(s);
	remote_store_open(&c, 4096, 0, &s, &err);
	CHECK(remote_read(s, "a/v.txt", &v1, 20, buf, 5, &err) == -1 && err.http_status == 409,
	      "reading the old version afresh: 409 (%d %s)", err.http_status, err.msg);
	remote_store_close(s);
}

static void test_list(void)
{
	struct s3_config c = config();
	struct remote_store *s;
	struct iiifd_error err = {0};
	remote_store_open(&c, 0, 0, &s, &err);
	struct s3_listing l;
	CHECK(remote_list(s, "a/", 100, &l, &err) == 0, "%s", err.msg);
	bool big_seen = false, v_seen = false;
	for (size_t i = 0; i < l.n_objects; i++) {
		big_seen |= !strcmp(l.objects[i].key, "a/big.bin") && l.objects[i].size == BIG_SIZE;
		v_seen |= !strcmp(l.objects[i].key, "a/v.txt");
	}
	CHECK(big_seen && v_seen && l.n_objects == 2, "objects of a/: %zu", l.n_objects);
	CHECK(l.n_prefixes == 1 && !strcmp(l.prefixes[0], "a/b/"), "folders of a/");
	s3_listing_release(&l);
	CHECK(remote_list(s, "many/", 5000, &l, &err) == 0, "%s", err.msg);
	CHECK_INT(l.n_objects, 1100, "1100 objects over two listing pages");
	s3_listing_release(&l);
	CHECK(remote_list(s, "many/", 1000, &l, &err) == -1 && err.http_status == 413,
	      "more than the bound: 413 (%s)", err.msg);
	CHECK(remote_list(s, "", 100, &l, &err) == 0 && l.n_prefixes == 2 && l.n_objects == 0,
	      "the root: two folders (%zu, %zu) %s", l.n_prefixes, l.n_objects, err.msg);
	s3_listing_release(&l);
	remote_store_close(s);
}

/* A plain HTTP origin (s3rver answers unsigned GETs too): HEAD and ranges, but no listing. */
static void test_plain_origin(void)
{
	struct s3_config c = {0};
	struct iiifd_error err = {0};
	char url[128];
	snprintf(url, sizeof url, "%s/bkt/root", endpoint);
	CHECK(s3_config_from_origin(url, &c, &err) == 0, "%s", err.msg);
	struct remote_store *s;
	remote_store_open(&c, 8192, 0, &s, &err);
	s3_config_release(&c);
	struct remote_stat st;
	CHECK(remote_stat(s, "a/big.bin", &st, &err) == 0 && st.size == BIG_SIZE, "HEAD: %s",
	      err.msg);
	read_matches(s, &st, 12345, 30000);
	read_matches(s, &st, BIG_SIZE - 100, 1000);
	struct s3_listing l;
	CHECK(remote_list(s, "", 10, &l, &err) == -1 && err.http_status == 501,
	      "an origin cannot be listed: 501 (%s)", err.msg);
	remote_store_close(s);
}

static int fixtures(void)
{
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(random() >> 7);
	int rc = put("a/big.bin", big, sizeof big) | put("a/b/c.txt", "c", 1);
	for (int i = 0; i < 1100 && !rc; i++) {
		char key[32];
		snprintf(key, sizeof key, "many/k%04d", i);
		rc = put(key, key, strlen(key));
	}
	return rc;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srandom(42);
	if (server_start() || fixtures()) {
		fprintf(stderr, "remote: could not start s3rver or store the fixtures\n");
		server_stop();
		return 1;
	}
	UNIT_RUN(test_stat);
	UNIT_RUN(test_ranged_reads);
	UNIT_RUN(test_threads_and_bound);
	UNIT_RUN(test_replaced);
	UNIT_RUN(test_list);
	UNIT_RUN(test_plain_origin);
	server_stop();
	curl_global_cleanup();
	return unit_report("remote");
}
