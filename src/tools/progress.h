/*
 * progress.h: what the long-running commands (convert, tiles, manifest, import, check) show while
 * they work: a bar redrawn in place on a terminal, plain periodic lines otherwise, nothing with
 * --quiet. The formatting is pure (tested in tests/unit/test_progress.c); the state is
 * thread-safe, so parallel workers may report into one progress.
 */
#ifndef IIIFD_TOOLS_PROGRESS_H
#define IIIFD_TOOLS_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- pure formatting ---------------------------------------------------------------------- */

/* "0 B", "999 B", "1.5 KB", "35 MB", "1.2 GB" (decimal units, as rates are usually quoted). */
void tools_progress_size(double bytes, char *out, size_t n);

/* "0s", "59s", "2m10s", "1h05m", "3d04h"; "?" for a negative (unknown) duration. */
void tools_progress_duration(double seconds, char *out, size_t n);

/* Units per second, 0 until some time has passed. */
double tools_progress_rate(double done, double elapsed);

/* Seconds left at the rate so far, or -1 when it cannot be known (no total, nothing done yet). */
double tools_progress_eta(double done, double total, double elapsed);

/* "[#####.....]" of width cells inside the brackets; fraction is clamped to 0..1. */
void tools_progress_bar(double fraction, int width, char *out, size_t n);

/* A snapshot of the work, what the two renderings below take. */
struct tools_progress_view {
	const char *command;        /* "convert" */
	const char *unit;           /* "files", "tiles", "documents" */
	int64_t done, total;        /* items; total 0 = unknown */
	int64_t bytes_done, bytes_total; /* bytes_total 0 = sizes not known in advance */
	bool bytes;                 /* bytes are counted at all (shown, and the rate is in bytes/s) */
	int64_t failed;
	double elapsed;             /* seconds */
	bool finished;              /* the last report: "done in 1m40s" instead of the time left */
};

/* The plain line: "convert: 120/400 files, 1.2 GB of 3.4 GB, 35 MB/s, 2m10s left". */
void tools_progress_plain(const struct tools_progress_view *v, char *out, size_t n);

/*
 * The terminal line, fitted to cols columns (the bar takes what the text leaves):
 * "convert [########......]  30% 120/400 files 1.2 GB 35 MB/s 2m10s left".
 */
void tools_progress_tty(const struct tools_progress_view *v, int cols, char *out, size_t n);

/* ---- the live progress -------------------------------------------------------------------- */

enum tools_progress_mode {
	TOOLS_PROGRESS_QUIET, /* --quiet: nothing */
	TOOLS_PROGRESS_PLAIN, /* a line every interval and one at the end */
	TOOLS_PROGRESS_TTY,   /* one line redrawn with \r at most 10 times a second */
};

struct tools_progress {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t ticker;     /* redraws while nothing reports (a long file, a slow tile) */
	bool ticking, stop;
	enum tools_progress_mode mode;
	FILE *out;            /* stderr */
	struct tools_progress_view v;
	int64_t start_us, last_us, interval_us;
	bool drawn;           /* a terminal line is showing and must be cleared before other output */
};

/*
 * Starts reporting on stderr: a terminal gets the bar, anything else plain lines every 5 s
 * (IIIFD_PROGRESS_INTERVAL_MS overrides the interval, for tests and scripts). total and
 * bytes_total may be 0 (unknown; see tools_progress_grow). bytes says whether bytes are
 * counted. Stop with tools_progress_finish().
 */
void tools_progress_start(struct tools_progress *p, const char *command, const char *unit,
			  int64_t total, int64_t bytes_total, bool bytes, bool quiet);

/* Work found while walking (a folder's entries): raises the totals. */
void tools_progress_grow(struct tools_progress *p, int64_t items, int64_t bytes);

/* Work done (failed items count as done too, and are shown). */
void tools_progress_add(struct tools_progress *p, int64_t items, int64_t bytes, int64_t failed);

/*
 * Prints a line to f (stdout or stderr) without tearing the bar: the bar is cleared first and
 * redrawn at the next update.
 */
void tools_progress_print(struct tools_progress *p, FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Draws the final state (a last plain line, or the bar and a newline) and stops the ticker. */
void tools_progress_finish(struct tools_progress *p);

#endif
