/*
 * test_admission.c: the render admission lines. Waiting requests run on their own threads; the
 * test waits for them to be in line (admission_waiting) before it frees a slot, so the order is
 * fixed by the test, not by the scheduler.
 */
#include "image/admission.h"
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct asker {
	struct admission *a;
	const char *client;
	pthread_t thread;
	atomic_int state; /* 0 waiting, 1 admitted, -1 refused */
	int status;
};

static void *asker_run(void *arg)
{
	struct asker *k = arg;
	struct iiifd_error err = { 0 };
	int rc = admission_enter(k->a, true, 1, 30000, k->client, &err);
	k->status = err.http_status;
	atomic_store(&k->state, rc == 0 ? 1 : -1);
	return NULL;
}

static void asker_start(struct asker *k, struct admission *a, const char *client)
{
	k->a = a;
	k->client = client;
	atomic_store(&k->state, 0);
	pthread_create(&k->thread, NULL, asker_run, k);
}

static int asker_state(struct asker *k)
{
	return atomic_load(&k->state);
}

/* Polls for up to 10 s; the conditions below hold within microseconds when the code is right. */
static bool eventually_waiting(struct admission *a, int n)
{
	for (int i = 0; i < 10000 && admission_waiting(a, true) != n; i++)
		usleep(1000);
	return admission_waiting(a, true) == n;
}

static bool eventually_admitted(struct asker *k)
{
	for (int i = 0; i < 10000 && atomic_load(&k->state) == 0; i++)
		usleep(1000);
	return atomic_load(&k->state) == 1;
}

static void enter_now(struct admission *a, const char *client, const char *ctx)
{
	struct iiifd_error err = { 0 };
	CHECK(admission_enter(a, true, 1, 0, client, &err) == 0, "%s: %s", ctx, err.msg);
}

/* A holds both slots and waits for a third; B asks after it and still gets the next slot. */
static void test_other_client_gets_the_next_slot(void)
{
	struct admission *a = admission_new(4, 2, 1000);
	enter_now(a, "127.0.0.2", "A1");
	enter_now(a, "127.0.0.2", "A2 (alone, a client may use every slot)");
	struct asker a3, b;
	asker_start(&a3, a, "127.0.0.2");
	CHECK(eventually_waiting(a, 1), "A3 never got in line");
	asker_start(&b, a, "127.0.0.3");
	CHECK(eventually_waiting(a, 2), "B never got in line");
	admission_leave(a, true, 1, "127.0.0.2");
	CHECK(eventually_admitted(&b), "B was not admitted when A's slot came free");
	CHECK_INT(asker_state(&a3), 0, "A3 still waits: A already holds its share");
	admission_leave(a, true, 1, "127.0.0.3");
	CHECK(eventually_admitted(&a3), "A3 must get B's slot: nobody else waits");
	pthread_join(a3.thread, NULL);
	pthread_join(b.thread, NULL);
	admission_leave(a, true, 1, "127.0.0.2");
	admission_leave(a, true, 1, "127.0.0.2");
	CHECK_INT(admission_waiting(a, true), 0, "line empty at the end");
	admission_free(a);
}

/* Among clients under their share, the line is served in turns, not by arrival alone. */
static void test_turns_between_waiting_clients(void)
{
	struct admission *a = admission_new(4, 1, 1000);
	enter_now(a, "10.0.0.9", "holder");
	struct asker a1, a2, b;
	asker_start(&a1, a, "127.0.0.2");
	CHECK(eventually_waiting(a, 1), "a1 in line");
	asker_start(&a2, a, "127.0.0.2");
	CHECK(eventually_waiting(a, 2), "a2 in line");
	asker_start(&b, a, "127.0.0.3");
	CHECK(eventually_waiting(a, 3), "b in line");
	admission_leave(a, true, 1, "10.0.0.9");
	CHECK(eventually_admitted(&a1), "the oldest goes first");
	admission_leave(a, true, 1, "127.0.0.2");
	CHECK(eventually_admitted(&b), "then another client's, before a1's client's second");
	CHECK_INT(asker_state(&a2), 0, "a2 waits for its turn");
	admission_leave(a, true, 1, "127.0.0.3");
	CHECK(eventually_admitted(&a2), "a2 last");
	admission_leave(a, true, 1, "127.0.0.2");
	pthread_join(a1.thread, NULL);
	pthread_join(a2.thread, NULL);
	pthread_join(b.thread, NULL);
	admission_free(a);
}

/* Never fitting the budget is permanent (400, at once); a full line is transient (503). */
static void test_permanent_and_transient_refusals(void)
{
	struct admission *a = admission_new(1, 1, 1000);
	struct iiifd_error err = { 0 };
	CHECK(admission_enter(a, true, 1001, 60000, NULL, &err) < 0, "over the budget admitted");
	CHECK_INT(err.http_status, 400, "beyond the memory budget");
	CHECK(strstr(err.msg, "memory-budget-mb") != NULL, "names the setting: %s", err.msg);
	enter_now(a, NULL, "first");
	struct iiifd_error busy = { 0 };
	CHECK(admission_enter(a, true, 1, 20, NULL, &busy) < 0, "second admitted past the limit");
	CHECK_INT(busy.http_status, 503, "no slot within the wait");
	admission_leave(a, true, 1, NULL);
	admission_free(a);
}

int main(void)
{
	UNIT_RUN(test_other_client_gets_the_next_slot);
	UNIT_RUN(test_turns_between_waiting_clients);
	UNIT_RUN(test_permanent_and_transient_refusals);
	return unit_report("admission");
}
