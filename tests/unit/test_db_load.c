/*
 * test_db_load.c: the annotation store under load: searches while imports and writes run, a
 * process killed in the middle of an import (all or nothing), and the import rate.
 */
#include "db_fixtures.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

/* ---- concurrency --------------------------------------------------------------------------- */

struct test_conc {
	struct db *db;
	atomic_bool done;
	atomic_int errors, odd_totals;
	atomic_long reads;
};

static void *test_conc_reader(void *arg)
{
	struct test_conc *c = arg;
	struct iiifd_error err;
	while (!atomic_load(&c->done)) {
		struct anno_list out = {0};
		struct db_terms terms = {0};
		struct db_query q = {.scope = "conc", .scope_is_folder = true, .q = "alpha",
				     .limit = 20};
		int64_t total = 0;
		if (db_search(c->db, &q, &out, &total, &err) ||
		    db_autocomplete(c->db, &q, "al", 1, 10, &terms, &err))
			atomic_fetch_add(&c->errors, 1);
		if (total != 0 && total != 1000) /* an import is all or nothing */
			atomic_fetch_add(&c->odd_totals, 1);
		anno_list_release(&out);
		db_terms_release(&terms);
		atomic_fetch_add(&c->reads, 1);
	}
	return NULL;
}

static void *test_conc_writer(void *arg)
{
	struct test_conc *c = arg;
	for (int i = 0; i < 40; i++) {
		struct anno_record rec = {0};
		struct iiifd_error err;
		rec.target_file = anno_strdup("w.jpg");
		rec.motivation = anno_strdup("commenting");
		rec.text = anno_strdup("a comment from the write API");
		if (db_insert(c->db, &rec, &err) || db_delete(c->db, rec.id, &err))
			atomic_fetch_add(&c->errors, 1);
		anno_record_release(&rec);
	}
	return NULL;
}

static void test_concurrency(void)
{
	char path[256];
	struct test_conc c = {.db = test_open(path, sizeof path)};
	pthread_t readers[4], writer;
	for (int i = 0; i < 4; i++)
		pthread_create(&readers[i], NULL, test_conc_reader, &c);
	pthread_create(&writer, NULL, test_conc_writer, &c);
	for (unsigned k = 0; k < 6; k++) {
		struct anno_list list = {0};
		struct iiifd_error err = {0};
		test_gen(&list, "conc", 1000, k, "alpha");
		if (db_replace_source(c.db, "conc/ocr.xml", &list, &err)) {
			atomic_fetch_add(&c.errors, 1);
			fprintf(stderr, "import: %s\n", err.msg);
		}
		anno_list_release(&list);
	}
	pthread_join(writer, NULL);
	atomic_store(&c.done, true);
	for (int i = 0; i < 4; i++)
		pthread_join(readers[i], NULL);
	printf("db_load: concurrency: %ld searches while 6 imports of 10,000 records and 80 writes\n",
	       (long)atomic_load(&c.reads));
	CHECK_INT(atomic_load(&c.errors), 0, "errors under concurrency");
	CHECK_INT(atomic_load(&c.odd_totals), 0, "searches that saw half an import");
	CHECK_INT(test_total(c.db, "conc", true, "alpha"), 1000, "last import stored");
	CHECK_INT(test_source_count(path, "conc/ocr.xml"), 10000, "no duplicates");
	db_close(c.db);
	test_remove_db(path);
}

/* ---- a process dying mid-import ------------------------------------------------------------ */

/* Waits (up to 60 s) until another process holds the write lock: its import has begun. */
static bool test_wait_writer(const char *path)
{
	sqlite3 *h;
	bool busy = false;
	/* PostgreSQL: an import holds its source's advisory lock until it ends */
	for (int i = 0; test_pg && i < 60000 && !busy; i++) {
		busy = test_pg_int(path, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
					 " AND granted") > 0;
		if (!busy)
			usleep(1000);
	}
	if (test_pg)
		return busy;
	if (sqlite3_open(path, &h) != SQLITE_OK) {
		sqlite3_close(h);
		return false;
	}
	for (int i = 0; i < 60000 && !busy; i++) {
		int rc = sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		busy = rc == SQLITE_BUSY;
		if (rc == SQLITE_OK)
			sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		if (!busy)
			usleep(1000);
	}
	sqlite3_close(h);
	return busy;
}

static void *test_crash_exit(void *arg)
{
	if (test_wait_writer(arg)) {
		usleep(300000);
		_exit(7);
	}
	return NULL;
}

/*
 * The child imports 40,000 lines (400,000 records) into source "crash" and dies half-way: by
 * SIGKILL from the parent (how = 0) or by its own _exit() from another thread 0.3 s after it
 * began (how = 1). It writes 'r' to fd when the records are generated and 'd' when the import
 * returned.
 */
static void test_crash_child(const char *path, int fd, int how)
{
	struct db *db = NULL;
	struct iiifd_error err;
	struct anno_list list = {0};
	if (db_open(path, &db, &err))
		_exit(2);
	test_gen(&list, "crash", 40000, 3, NULL);
	pthread_t t;
	if (how == 1)
		pthread_create(&t, NULL, test_crash_exit, (void *)path);
	if (write(fd, "r", 1) != 1)
		_exit(3);
	int rc = db_replace_source(db, "crash.xml", &list, &err);
	if (write(fd, "d", 1) != 1)
		_exit(3);
	_exit(rc ? 4 : 0);
}

static void test_crash_once(int how)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct anno_list keep = {0};
	struct iiifd_error err = {0};
	test_gen(&keep, "keep", 100, 1, "kept");
	CHECK(db_replace_source(db, "keep.xml", &keep, &err) == 0, "keep: %s", err.msg);
	anno_list_release(&keep);
	db_close(db); /* no SQLite connection may cross fork() */

	int fds[2];
	char c = 0;
	CHECK(pipe(fds) == 0, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		test_crash_child(path, fds[1], how);
	}
	close(fds[1]);
	CHECK(read(fds[0], &c, 1) == 1 && c == 'r', "child ready");
	/* with how = 1 the child's own exit code 7 proves it died holding the write lock, and the
	 * parent may well miss that short window on a loaded machine */
	bool mid = how == 1 || test_wait_writer(path);
	if (how == 0) {
		usleep(300000); /* well into the transaction: importing takes seconds */
		kill(pid, SIGKILL);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	ssize_t n = read(fds[0], &c, 1); /* 'd' only if the import returned */
	close(fds[0]);
	CHECK(mid && n == 0, "the child died while importing (how %d, status %d)", how, status);
	CHECK(how == 0 ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
		       : WIFEXITED(status) && WEXITSTATUS(status) == 7,
	      "child ended as planned: status %d", status);

	db = test_reopen(path);
	int64_t crashed = test_source_count(path, "crash.xml");
	CHECK(crashed == 0 || crashed == 400000, "all or nothing: %lld", (long long)crashed);
	CHECK_INT(crashed, 0, "killed before COMMIT: nothing");
	CHECK_INT(test_source_count(path, "keep.xml"), 1000, "earlier source intact");
	CHECK_INT(test_total(db, "keep", true, "kept"), 100, "earlier source searchable");
	CHECK_INT(test_term_count(path, "*", "kept"), 100, "earlier terms intact");
	test_fts_ok(path, "after crash");
	struct anno_list again = {0};
	test_gen(&again, "crash", 100, 4, NULL);
	CHECK(db_replace_source(db, "crash.xml", &again, &err) == 0, "writable: %s", err.msg);
	anno_list_release(&again);
	db_close(db);
	test_remove_db(path);
}

static void test_crash(void)
{
	test_crash_once(0);
	test_crash_once(1);
}

/* ---- streamed imports: records and fingerprint together ------------------------------------ */

/*
 * Streams three batches of 100 lines (1,000 records each) into source; ok: commits with
 * fingerprint, else rolls back. die: the process kills itself after the second batch.
 */
static int test_stream(struct db *db, const char *source, unsigned seed, const char *fingerprint,
		       bool ok, bool die)
{
	struct db_import *imp;
	struct iiifd_error err = {0};
	if (db_import_begin(db, source, &imp, &err))
		return -1;
	for (unsigned b = 0; b < 3; b++) {
		struct anno_list list = {0};
		test_gen(&list, "stream", 100, seed + b, "streamed");
		int rc = db_import_add(imp, &list, &err);
		anno_list_release(&list);
		if (rc) {
			db_import_end(imp, false, NULL, &err);
			return -1;
		}
		if (die && b == 1)
			raise(SIGKILL);
	}
	return db_import_end(imp, ok, fingerprint, &err);
}

/* What a stream left: its records (3,000 = one whole import), and which fingerprint is current. */
static void test_stream_state(struct db *db, const char *path, const char *current,
			      const char *not_current, const char *what)
{
	int64_t records = test_source_count(path, "s.xml");
	int64_t lines = test_total(db, "stream", true, "streamed");
	int64_t terms = test_term_count(path, "*", "streamed");
	CHECK(records == 3000, "%s: %lld records, want one whole import", what, (long long)records);
	CHECK(lines == 300, "%s: %lld lines searchable, want 300", what, (long long)lines);
	CHECK(terms == 300, "%s: term counted %lld times, want 300", what, (long long)terms);
	CHECK(db_source_is_current(db, "s.xml", current), "%s: fingerprint %s current", what,
	      current);
	CHECK(!db_source_is_current(db, "s.xml", not_current), "%s: fingerprint %s not current",
	      what, not_current);
}

static void test_stream_fingerprint(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	CHECK(test_stream(db, "s.xml", 1, "1", true, false) == 0, "first import");
	test_stream_state(db, path, "1", "2", "committed");
	CHECK(test_stream(db, "s.xml", 5, "2", false, false) == -1, "rolled back");
	test_stream_state(db, path, "1", "2", "after a rollback");
	db_close(db); /* no SQLite connection may cross fork() */
	pid_t pid = fork();
	if (pid == 0) {
		struct db *child = NULL;
		struct iiifd_error err;
		if (db_open(path, &child, &err))
			_exit(2);
		test_stream(child, "s.xml", 9, "3", true, true);
		_exit(3);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed mid-import: %d",
	      status);
	db = test_reopen(path);
	test_stream_state(db, path, "1", "3", "after a kill");
	test_fts_ok(path, "after a kill");
	CHECK(test_stream(db, "s.xml", 12, "4", true, false) == 0, "import again");
	test_stream_state(db, path, "4", "1", "replaced");
	db_close(db);
	test_remove_db(path);
}

/* ---- import rate --------------------------------------------------------------------------- */

static void test_import_rate(void)
{
	char path[256];
	struct db *db = test_open(path, sizeof path);
	struct iiifd_error err = {0};
	for (int round = 0; round < 2; round++) {
		struct anno_list list = {0};
		test_gen(&list, "rate", 20000, 9 + (unsigned)round, NULL);
		double t0 = test_now();
		int rc = db_replace_source(db, "rate.xml", &list, &err);
		double dt = test_now() - t0;
		CHECK(rc == 0, "import: %s", err.msg);
		printf("db_load: %s 200,000 records (20,000 lines + 180,000 words) in %.2f s: %.0f "
		       "records/s\n", round ? "replaced" : "imported", dt, (double)list.count / dt);
		anno_list_release(&list);
	}
#if defined(__SANITIZE_ADDRESS__)
	printf("db_load: (AddressSanitizer build: every malloc, SQLite's too, is several times slower;"
	       " build without sanitizers for the real rate)\n");
#endif
	CHECK_INT(test_source_count(path, "rate.xml"), 200000, "stored once");
	CHECK_INT(test_total(db, "rate", true, ""), 20000, "lines searchable");
	double t0 = test_now();
	int64_t hits = test_total(db, "rate/m3", false, "kaloru");
	printf("db_load: one-word search in one manifest of the 200,000-record store: %.2f ms "
	       "(%lld hits)\n", (test_now() - t0) * 1e3, (long long)hits);
	test_fts_ok(path, "after the big import");
	db_close(db);
	test_remove_db(path);
}

int main(void)
{
	if (test_setup())
		return 1;
	UNIT_RUN(test_concurrency);
	UNIT_RUN(test_crash);
	UNIT_RUN(test_stream_fingerprint);
	UNIT_RUN(test_import_rate);
	rmdir(test_dir);
	return unit_report("db_load");
}
