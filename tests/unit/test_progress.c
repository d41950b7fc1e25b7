/*
 * test_progress.c: the progress formatting of the one-shot commands: sizes, durations, rate,
 * time left, the bar, and the plain and terminal lines built from them.
 */
#include <string.h>

#include "tools/progress.h"
#include "unit.h"

static void test_sizes(void)
{
	static const struct {
		double bytes;
		const char *want;
	} cases[] = {
		{ 0, "0 B" },          { 999, "999 B" },     { 1000, "1.0 KB" },
		{ 1500, "1.5 KB" },    { 9949, "9.9 KB" },   { 9951, "10 KB" },
		{ 35e6, "35 MB" },     { 999.4e6, "999 MB" }, { 999.6e6, "1.0 GB" },
		{ 1.234e9, "1.2 GB" }, { 5e12, "5.0 TB" },   { -3, "0 B" },
	};
	char out[32];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tools_progress_size(cases[i].bytes, out, sizeof out);
		CHECK_STR(out, cases[i].want, "size");
	}
}

static void test_durations(void)
{
	static const struct {
		double s;
		const char *want;
	} cases[] = {
		{ 0, "0s" },          { 0.4, "0s" },        { 59.4, "59s" },     { 59.6, "1m00s" },
		{ 130, "2m10s" },     { 3599, "59m59s" },   { 3600, "1h00m" },   { 3900, "1h05m" },
		{ 86400 * 3 + 4 * 3600, "3d04h" }, { -1, "?" },
	};
	char out[32];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tools_progress_duration(cases[i].s, out, sizeof out);
		CHECK_STR(out, cases[i].want, "duration");
	}
}

static void test_rate_and_eta(void)
{
	CHECK(tools_progress_rate(100, 0) == 0, "no time passed: no rate");
	CHECK(tools_progress_rate(0, 5) == 0, "nothing done: no rate");
	CHECK(tools_progress_rate(100, 4) == 25, "100 in 4 s");
	CHECK(tools_progress_eta(0, 100, 5) == -1, "nothing done: unknown");
	CHECK(tools_progress_eta(10, 0, 5) == -1, "no total: unknown");
	CHECK(tools_progress_eta(25, 100, 5) == 15, "25 of 100 in 5 s: 15 s left");
	CHECK(tools_progress_eta(100, 100, 5) == 0, "all done");
	CHECK(tools_progress_eta(120, 100, 5) == 0, "more than the total (a total that grew late)");
}

static void test_bar(void)
{
	char out[64];
	tools_progress_bar(0, 10, out, sizeof out);
	CHECK_STR(out, "[..........]", "empty");
	tools_progress_bar(0.3, 10, out, sizeof out);
	CHECK_STR(out, "[###.......]", "30%");
	tools_progress_bar(0.999, 10, out, sizeof out);
	CHECK_STR(out, "[#########.]", "full only at 100%");
	tools_progress_bar(1, 4, out, sizeof out);
	CHECK_STR(out, "[####]", "full");
	tools_progress_bar(7, 4, out, sizeof out);
	CHECK_STR(out, "[####]", "clamped above");
	tools_progress_bar(-1, 4, out, sizeof out);
	CHECK_STR(out, "[....]", "clamped below");
	char small[6];
	tools_progress_bar(0.5, 40, small, sizeof small);
	CHECK_STR(small, "[#..]", "cut to the buffer");
}

static void test_plain_lines(void)
{
	char out[256];
	struct tools_progress_view v = { .command = "convert", .unit = "files", .done = 120,
					 .total = 400, .bytes_done = 350000000,
					 .bytes_total = 1260000000, .bytes = true, .elapsed = 10 };
	tools_progress_plain(&v, out, sizeof out);
	CHECK_STR(out, "convert: 120/400 files, 350 MB of 1.3 GB, 35 MB/s, 26s left", "by bytes");
	v.failed = 2;
	tools_progress_plain(&v, out, sizeof out);
	CHECK_STR(out, "convert: 120/400 files (2 failed), 350 MB of 1.3 GB, 35 MB/s, 26s left",
		  "failures shown");
	v.finished = true;
	v.elapsed = 36;
	v.done = 400;
	v.bytes_done = v.bytes_total;
	tools_progress_plain(&v, out, sizeof out);
	CHECK_STR(out, "convert: 400/400 files (2 failed), 1.3 GB of 1.3 GB, 35 MB/s, done in 36s",
		  "the last line");
	struct tools_progress_view m = { .command = "manifest", .unit = "documents", .done = 30,
					 .elapsed = 4 };
	tools_progress_plain(&m, out, sizeof out);
	CHECK_STR(out, "manifest: 30 documents, 7.5 documents/s, 4s elapsed",
		  "no total: the time so far instead of the time left");
	m.total = 90;
	tools_progress_plain(&m, out, sizeof out);
	CHECK_STR(out, "manifest: 30/90 documents, 7.5 documents/s, 8s left", "by items");
	struct tools_progress_view t = { .command = "tiles", .unit = "tiles", .done = 50,
					 .total = 200, .bytes_done = 2000000, .bytes = true,
					 .elapsed = 2 };
	tools_progress_plain(&t, out, sizeof out);
	CHECK_STR(out, "tiles: 50/200 tiles, 2.0 MB, 25 tiles/s, 6s left",
		  "bytes without a total: rate and time by items");
}

static void test_tty_lines(void)
{
	char out[512];
	struct tools_progress_view v = { .command = "convert", .unit = "files", .done = 1,
					 .total = 4, .elapsed = 2 };
	tools_progress_tty(&v, 120, out, sizeof out);
	CHECK(strncmp(out, "convert [##########..............................]  25% 1/4 files",
		      strlen("convert [##########..............................]  25% 1/4 files")) ==
		      0,
	      "bar of 40 at 25%%: '%s'", out);
	CHECK(strstr(out, "0.5 files/s 6s left") != NULL, "rate and time: '%s'", out);
	tools_progress_tty(&v, 80, out, sizeof out);
	CHECK_STR(out, "convert [########..........................]  25% 1/4 files 0.5 files/s 6s left",
		  "the bar takes what the text leaves of 80 columns");
	CHECK(strlen(out) == 79, "80 columns used but the last: %zu", strlen(out));
	tools_progress_tty(&v, 40, out, sizeof out);
	CHECK(strchr(out, '[') == NULL, "no room for a bar: '%s'", out);
	CHECK(strlen(out) <= 39, "cut to 40 columns, never wrapped: '%s'", out);
	struct tools_progress_view m = { .command = "check", .unit = "files", .done = 12,
					 .elapsed = 1 };
	tools_progress_tty(&m, 100, out, sizeof out);
	CHECK_STR(out, "check 12 files 12 files/s 1s elapsed", "no total: no bar, no percentage");
	struct tools_progress_view first = { .command = "convert", .unit = "files", .total = 1,
					     .bytes_total = 5000000, .bytes = true, .elapsed = 65 };
	tools_progress_tty(&first, 80, out, sizeof out);
	CHECK_STR(out,
		  "convert [....................]   0% 0/1 files 0 B of 5.0 MB 0 B/s 1m05s elapsed",
		  "one long file: the time so far");
}

int main(void)
{
	UNIT_RUN(test_sizes);
	UNIT_RUN(test_durations);
	UNIT_RUN(test_rate_and_eta);
	UNIT_RUN(test_bar);
	UNIT_RUN(test_plain_lines);
	UNIT_RUN(test_tty_lines);
	return unit_report("progress");
}
