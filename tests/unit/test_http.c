/*
 * test_http.c: the pure parts of the HTTP layer: trusted proxy networks and the client address
 * behind them, request framing rules, the fair worker queue, and preference lists (Accept,
 * Accept-Encoding).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/accept.h"
#include "http/client.h"
#include "http/framing.h"
#include "http/outgoing.h"
#include "http/workers.h"
#include "unit.h"

static void test_proxies_parse(void)
{
	static const struct {
		const char *list;
		bool ok;
	} cases[] = {
		{ "", true },		     { "127.0.0.1", true },      { "10.0.0.0/8, ::1", true },
		{ "fd00::/8 192.168.1.0/24", true }, { "10.0.0.0/33", false },   { "::/129", false },
		{ "not-an-address", false }, { "10.0.0.1/", false },    { "10.0.0.1/x", false },
		{ "1.2.3.4/-1", false },     { "::\t\t\t::/8 ::/1\t10.0.0.1", true },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct iiifd_error err = { 0 };
		struct http_proxies *p = http_proxies_parse(cases[i].list, &err);
		CHECK((p != NULL) == cases[i].ok, "parse '%s': %s", cases[i].list, err.msg);
		if (!cases[i].ok)
			CHECK(strstr(err.msg, "trusted-proxies") != NULL, "message: %s", err.msg);
		http_proxies_free(p);
	}
}

static void test_proxies_contains(void)
{
	struct iiifd_error err = { 0 };
	struct http_proxies *p = http_proxies_parse("10.0.0.0/8, 192.168.7.1, fd00::/8", &err);
	static const struct {
		const char *addr;
		bool in;
	} cases[] = {
		{ "10.1.2.3", true },	 { "11.0.0.1", false },	   { "192.168.7.1", true },
		{ "192.168.7.2", false }, { "fd12::1", true },	   { "fe80::1", false },
		{ "::ffff:10.9.9.9", true }, { "garbage", false }, { "", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK(http_proxies_contains(p, cases[i].addr) == cases[i].in, "%s", cases[i].addr);
	http_proxies_free(p);
}

static void test_client_address(void)
{
	struct iiifd_error err = { 0 };
	struct http_proxies *p = http_proxies_parse("127.0.0.1, 10.0.0.0/8", &err);
	static const struct {
		const char *peer, *forwarded, *xff, *want;
	} cases[] = {
		/* a direct client is itself, whatever it claims */
		{ "203.0.113.9", NULL, "1.2.3.4", "203.0.113.9" },
		{ "203.0.113.9", "for=1.2.3.4", NULL, "203.0.113.9" },
		/* a trusted proxy: the nearest untrusted hop, right to left */
		{ "127.0.0.1", NULL, "198.51.100.7", "198.51.100.7" },
		{ "127.0.0.1", NULL, "6.6.6.6, 198.51.100.7, 10.0.0.5", "198.51.100.7" },
		{ "127.0.0.1", NULL, " 198.51.100.7:8080 ", "198.51.100.7" },
		{ "127.0.0.1", NULL, "[2001:db8::1]:443", "2001:db8::1" },
		{ "127.0.0.1", NULL, "2001:db8::2", "2001:db8::2" },
		{ "127.0.0.1", NULL, "10.0.0.7, 10.0.0.6", "10.0.0.7" },
		/* Forwarded wins over X-Forwarded-For */
		{ "127.0.0.1", "for=192.0.2.60;proto=http;by=203.0.113.43", "6.6.6.6", "192.0.2.60" },
		{ "127.0.0.1", "for=\"[2001:db8:cafe::17]:4711\"", NULL, "2001:db8:cafe::17" },
		{ "127.0.0.1", "For=192.0.2.43, for=10.1.1.1", NULL, "192.0.2.43" },
		/* unknown or malformed hops: the nearest trusted address is all we know */
		{ "127.0.0.1", "for=unknown", NULL, "127.0.0.1" },
		{ "127.0.0.1", "for=_hidden, for=10.2.2.2", NULL, "10.2.2.2" },
		{ "127.0.0.1", "proto=https", NULL, "127.0.0.1" },
		{ "127.0.0.1", NULL, "not an address", "127.0.0.1" },
		{ "127.0.0.1", NULL, "", "127.0.0.1" },
		{ "127.0.0.1", NULL, ",,,", "127.0.0.1" },
		{ "127.0.0.1", NULL, "[::1", "127.0.0.1" },
		{ "127.0.0.1", NULL, NULL, "127.0.0.1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[HTTP_CLIENT_ADDR_MAX];
		http_client_address(p, cases[i].peer, cases[i].forwarded, cases[i].xff, out,
				    sizeof out);
		CHECK_STR(out, cases[i].want, cases[i].xff ? cases[i].xff : cases[i].forwarded
							   ? cases[i].forwarded : "(none)");
	}
	/* a very long chain keeps only its newest hops */
	char chain[4096] = "";
	for (int i = 0; i < 100; i++)
		strcat(chain, i ? ", 6.6.6.6" : "1.1.1.1");
	char out[HTTP_CLIENT_ADDR_MAX];
	http_client_address(p, "127.0.0.1", NULL, chain, out, sizeof out);
	CHECK_STR(out, "6.6.6.6", "long chain");
	http_proxies_free(p);
}

static void test_framing(void)
{
	static const struct {
		const char *headers[6][2];
		bool http11;
		int want;          /* 0 or 400 */
		bool body;
	} cases[] = {
		{ { { "Host", "x" } }, true, 0, false },
		{ { { "Host", "x" }, { "Content-Length", "0" } }, true, 0, false },
		{ { { "Host", "x" }, { "Content-Length", "12" } }, true, 0, true },
		{ { { "Host", "x" }, { "Transfer-Encoding", "chunked" } }, true, 0, true },
		{ { { "host", "x" }, { "transfer-encoding", "Chunked" } }, true, 0, true },
		{ { { "Content-Length", "1" }, { "Content-Length", "1" }, { "Host", "x" } }, true, 400, false },
		{ { { "Content-Length", "1" }, { "Content-Length", "2" }, { "Host", "x" } }, true, 400, false },
		{ { { "Content-Length", "1" }, { "Transfer-Encoding", "chunked" }, { "Host", "x" } },
		  true, 400, false },
		{ { { "Transfer-Encoding", "gzip, chunked" }, { "Host", "x" } }, true, 400, false },
		{ { { "Transfer-Encoding", "chunked" }, { "Transfer-Encoding", "chunked" },
		    { "Host", "x" } }, true, 400, false },
		{ { { "Content-Length", "+5" }, { "Host", "x" } }, true, 400, false },
		{ { { "Content-Length", "5 " }, { "Host", "x" } }, true, 400, false },
		{ { { "Content-Length", "99999999999999999999999" }, { "Host", "x" } }, true, 400, false },
		{ { { "Host", "a" }, { "Host", "b" } }, true, 400, false },
		{ { { "Accept", "*/*" } }, true, 400, false },
		{ { { "Accept", "*/*" } }, false, 0, false }, /* HTTP/1.0 needs no Host */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct http_framing f = { 0 };
		for (int h = 0; h < 6 && cases[i].headers[h][0]; h++)
			http_framing_add(&f, cases[i].headers[h][0], cases[i].headers[h][1]);
		struct iiifd_error err = { 0 };
		int rc = http_framing_check(&f, cases[i].http11, &err);
		char ctx[32];
		snprintf(ctx, sizeof ctx, "framing case %zu", i);
		CHECK_INT(rc < 0 ? err.http_status : 0, cases[i].want, ctx);
		if (rc == 0)
			CHECK(http_framing_has_body(&f) == cases[i].body, "%s: has_body", ctx);
	}
}

/* Fair queue: with one thread, a burst of one client's jobs does not delay another client's. */
struct fair_log {
	pthread_mutex_t lock;
	char order[64];
	int n;
};

struct fair_job {
	struct fair_log *log;
	char who;
};

static void fair_run(void *arg)
{
	struct fair_job *j = arg;
	pthread_mutex_lock(&j->log->lock);
	j->log->order[j->log->n++] = j->who;
	pthread_mutex_unlock(&j->log->lock);
	usleep(2000);
}

static void gate_run(void *arg)
{
	usleep(100000); /* holds the only thread while the queue fills */
	(void)arg;
}

static void test_workers_fair(void)
{
	struct iiifd_error err = { 0 };
	struct http_workers *w = http_workers_new(1, &err);
	CHECK(w != NULL, "%s", err.msg);
	if (!w)
		return;
	struct fair_log log = { PTHREAD_MUTEX_INITIALIZER, "", 0 };
	struct fair_job jobs[12];
	http_workers_submit(w, "gate", gate_run, NULL);
	for (int i = 0; i < 10; i++) {
		jobs[i] = (struct fair_job){ &log, 'a' };
		http_workers_submit(w, "10.0.0.1", fair_run, &jobs[i]);
	}
	jobs[10] = (struct fair_job){ &log, 'b' };
	http_workers_submit(w, "10.0.0.2", fair_run, &jobs[10]);
	http_workers_free(w); /* runs everything queued */
	CHECK_INT(log.n, 11, "jobs run");
	const char *b = memchr(log.order, 'b', (size_t)log.n);
	CHECK(b && b - log.order <= 1, "client b waited behind a's burst: %.*s", log.n, log.order);
}

/* Accept-style lists: entries, q-values, media-type matching by specificity. */
static void test_accept(void)
{
	static const struct {
		const char *header, *type;
		double q;
	} media[] = {
		{ NULL, "application/json", 1 },
		{ "", "application/json", 1 },
		{ "application/json", "application/json", 1 },
		{ "application/json", "application/ld+json", -1 },
		{ "*/*", "application/ld+json", 1 },
		{ "application/*;q=0.4", "application/ld+json", 0.4 },
		{ "application/ld+json;profile=\"a;b\";q=0.9, */*;q=0.1", "application/ld+json", 0.9 },
		{ "*/*;q=0.1, application/ld+json;q=0.9", "application/ld+json", 0.9 },
		{ "text/html,application/xhtml+xml,*/*;q=0.8", "application/json", 0.8 },
		{ "TEXT/HTML", "text/html", 1 },
		{ "text/html;q=0", "text/html", 0 },
		{ "text/html;q=7", "text/html", 1 },
		{ "text/html;q=-1", "text/html", 0 },
		{ "text/html;q=abc", "text/html", 0 },
		{ "text/html;q=nan", "text/html", 0 },
		{ " text/html ; q=0.5 ", "text/html", 0.5 },
		{ "text/html;q =0.5", "text/html", 1 }, /* no space around = (RFC 9110 §5.6.6) */
		{ ",,,text/html;level=1;q=0.3,", "text/html", 0.3 },
		{ "texthtml", "text/html", -1 },
		{ "text/*", "textx/html", -1 },
	};
	for (size_t i = 0; i < sizeof media / sizeof media[0]; i++) {
		double q = http_accept_media_quality(media[i].header, media[i].type);
		CHECK(q == media[i].q, "%s in '%s': q %g, want %g", media[i].type,
		      media[i].header ? media[i].header : "(none)", q, media[i].q);
	}
	struct http_accept_entry e;
	const char *pos = "en-GB, fr;q=0.8 ,, de;q=0.1";
	const char *want[] = { "en-GB", "fr", "de" };
	double wq[] = { 1, 0.8, 0.1 };
	for (int i = 0; i < 3; i++) {
		CHECK(http_accept_next(&pos, &e), "entry %d", i);
		CHECK_STR(e.value, want[i], "entry value");
		CHECK(e.q == wq[i], "entry %d: q %g", i, e.q);
	}
	CHECK(!http_accept_next(&pos, &e), "end of the list");
	char longer[300];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	pos = longer;
	CHECK(!http_accept_next(&pos, &e), "an over-long value is skipped");
	CHECK(http_outgoing_accepts_gzip("deflate, gzip;q=0.5"), "gzip");
	CHECK(!http_outgoing_accepts_gzip("gzip;q=0, *"), "explicit gzip refusal wins over *");
	CHECK(http_outgoing_accepts_gzip(",gzip"), "empty entry first");
	CHECK(!http_outgoing_accepts_gzip("identity"), "identity only");
}

int main(void)
{
	UNIT_RUN(test_proxies_parse);
	UNIT_RUN(test_proxies_contains);
	UNIT_RUN(test_client_address);
	UNIT_RUN(test_framing);
	UNIT_RUN(test_workers_fair);
	UNIT_RUN(test_accept);
	return unit_report("http");
}
