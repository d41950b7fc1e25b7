/*
 * test_pyramid_claim.c: claims on pyramid builds without a shared store (the lock file in the
 * pyramid folder): one holder per key, threads of one process excluded too, other keys free, a
 * released claim free again, and a claim of a process that dies released with it (takeover).
 */
#include "image/pyramid_claim.h"
#include "unit.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static int take(const char *key, struct pyramid_claim **out)
{
	struct iiifd_error err = { 0 };
	int rc = pyramid_claim_take(NULL, dir, key, out, &err);
	CHECK(rc >= 0, "%s: %s", key, err.msg);
	return rc;
}

static void test_one_holder_per_key(void)
{
	struct pyramid_claim *a, *b, *c;
	CHECK_INT(take("x-1.000000000-2.tif", &a), 1, "first claim");
	CHECK_INT(take("x-1.000000000-2.tif", &b), 0, "second claim of the same key");
	CHECK(b == NULL, "no claim returned when held");
	CHECK_INT(take("y-1.000000000-2.tif", &c), 1, "another key");
	pyramid_claim_release(a);
	CHECK_INT(take("x-1.000000000-2.tif", &b), 1, "claim after release");
	pyramid_claim_release(b);
	pyramid_claim_release(c);
}

static void *claim_in_thread(void *arg)
{
	struct pyramid_claim *c = NULL;
	struct iiifd_error err = { 0 };
	intptr_t rc = pyramid_claim_take(NULL, dir, arg, &c, &err);
	pyramid_claim_release(c);
	return (void *)rc;
}

static void test_threads_of_one_process_exclude_each_other(void)
{
	struct pyramid_claim *a;
	pthread_t t;
	void *rc;
	CHECK_INT(take("t.tif", &a), 1, "main thread");
	pthread_create(&t, NULL, claim_in_thread, "t.tif");
	pthread_join(t, &rc);
	CHECK_INT((intptr_t)rc, 0, "another thread while held");
	pyramid_claim_release(a);
	pthread_create(&t, NULL, claim_in_thread, "t.tif");
	pthread_join(t, &rc);
	CHECK_INT((intptr_t)rc, 1, "another thread after release");
}

static void test_a_dead_holder_releases_its_claim(void)
{
	int ready[2], done[2];
	CHECK(pipe(ready) == 0 && pipe(done) == 0, "pipes");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) { /* takes the claim, says so, and dies holding it when told */
		close(done[1]);
		struct pyramid_claim *c = NULL;
		struct iiifd_error err = { 0 };
		char b = pyramid_claim_take(NULL, dir, "dead.tif", &c, &err) == 1 ? 'y' : 'n';
		if (write(ready[1], &b, 1) != 1 || read(done[0], &b, 1) < 0)
			_exit(2);
		_exit(0);
	}
	char b = 0;
	CHECK(read(ready[0], &b, 1) == 1 && b == 'y', "the child claimed it");
	struct pyramid_claim *c;
	CHECK_INT(take("dead.tif", &c), 0, "held by the living child");
	close(done[1]);
	int status;
	waitpid(pid, &status, 0);
	CHECK_INT(take("dead.tif", &c), 1, "taken over once the child died");
	pyramid_claim_release(c);
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
}

static void test_a_missing_folder_is_an_error(void)
{
	struct pyramid_claim *c;
	struct iiifd_error err = { 0 };
	CHECK_INT(pyramid_claim_take(NULL, "/nonexistent/iiifd-claims", "k", &c, &err), -1,
		  "no folder");
	CHECK(strstr(err.msg, "/nonexistent/iiifd-claims/.claims") != NULL, "%s", err.msg);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/iiifd-claims-XXXXXX");
	if (!g_mkdtemp(dir))
		return 1;
	UNIT_RUN(test_one_holder_per_key);
	UNIT_RUN(test_threads_of_one_process_exclude_each_other);
	UNIT_RUN(test_a_dead_holder_releases_its_claim);
	UNIT_RUN(test_a_missing_folder_is_an_error);
	char *lock = g_build_filename(dir, ".claims", NULL);
	g_unlink(lock);
	g_free(lock);
	g_rmdir(dir);
	return unit_report("pyramid_claim");
}
