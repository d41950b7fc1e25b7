/*
 * progress.c: formatting of progress (pure) and the live state behind it: a mutex for parallel
 * workers and a ticker thread, so the rate and time left keep moving while one long item works.
 */
#include "tools/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_TTY_US 100000       /* at most 10 redraws a second */
#define PROGRESS_PLAIN_US 5000000    /* a plain line every 5 s */

/* ---- pure formatting ---------------------------------------------------------------------- */

void tools_progress_size(double bytes, char *out, size_t n)
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB", "PB" };
	int u = 0;
	if (!(bytes >= 0))
		bytes = 0;
	while (bytes >= 999.5 && u < 5) {
		bytes /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%.0f B", bytes);
	else if (bytes < 9.95)
		snprintf(out, n, "%.1f %s", bytes, units[u]);
	else
		snprintf(out, n, "%.0f %s", bytes, units[u]);
}

void tools_progress_duration(double seconds, char *out, size_t n)
{
	if (!(seconds >= 0) || seconds > 1e9) {
		snprintf(out, n, "?");
		return;
	}
	long long s = llround(seconds);
	if (s < 60)
		snprintf(out, n, "%llds", s);
	else if (s < 3600)
		snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

double tools_progress_rate(double done, double elapsed)
{
	return elapsed > 0 && done > 0 ? done / elapsed : 0;
}

double tools_progress_eta(double done, double total, double elapsed)
{
	double rate = tools_progress_rate(done, elapsed);
	if (total <= 0 || rate <= 0)
		return -1;
	return done >= total ? 0 : (total - done) / rate;
}

void tools_progress_bar(double fraction, int width, char *out, size_t n)
{
	if (n == 0)
		return;
	if (!(fraction >= 0))
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	if (width < 0)
		width = 0;
	if ((size_t)width + 3 > n)
		width = (int)n - 3;
	int full = (int)floor(fraction * width + 1e-9);
	out[0] = '[';
	for (int i = 0; i < width; i++)
		out[1 + i] = i < full ? '#' : '.';
	out[1 + width] = ']';
	out[2 + width] = '\0';
}

/* Whether rate and time left go by bytes (sizes known in advance) or by items. */
static bool progress_by_bytes(const struct tools_progress_view *v)
{
	return v->bytes && v->bytes_total > 0;
}

/* "35 MB/s" or "12 files/s" (one decimal below 10). */
static void progress_rate_text(const struct tools_progress_view *v, char *out, size_t n)
{
	if (progress_by_bytes(v) || (v->bytes && v->total <= 0)) {
		char size[32];
		tools_progress_size(tools_progress_rate((double)v->bytes_done, v->elapsed), size,
				    sizeof size);
		snprintf(out, n, "%s/s", size);
		return;
	}
	double r = tools_progress_rate((double)v->done, v->elapsed);
	snprintf(out, n, r < 9.95 ? "%.1f %s/s" : "%.0f %s/s", r, v->unit);
}

/* "2m10s left", "done in 1m40s", or "12s elapsed" when the time left is unknown. */
static void progress_time_text(const struct tools_progress_view *v, char *out, size_t n)
{
	char t[32];
	if (v->finished) {
		tools_progress_duration(v->elapsed, t, sizeof t);
		snprintf(out, n, "done in %s", t);
		return;
	}
	double eta = progress_by_bytes(v)
			     ? tools_progress_eta((double)v->bytes_done, (double)v->bytes_total,
						  v->elapsed)
			     : tools_progress_eta((double)v->done, (double)v->total, v->elapsed);
	if (eta < 0) { /* no total, or nothing done yet: at least show that time passes */
		tools_progress_duration(v->elapsed, t, sizeof t);
		snprintf(out, n, "%s elapsed", t);
		return;
	}
	tools_progress_duration(eta, t, sizeof t);
	snprintf(out, n, "%s left", t);
}

/* "120/400 files" or "120 files", with " (2 failed)". */
static void progress_count_text(const struct tools_progress_view *v, char *out, size_t n)
{
	char failed[40] = "";
	if (v->failed)
		snprintf(failed, sizeof failed, " (%lld failed)", (long long)v->failed);
	if (v->total > 0)
		snprintf(out, n, "%lld/%lld %s%s", (long long)v->done, (long long)v->total, v->unit,
			 failed);
	else
		snprintf(out, n, "%lld %s%s", (long long)v->done, v->unit, failed);
}

/* "1.2 GB of 3.4 GB" or "1.2 GB"; "" when bytes are not counted. */
static void progress_bytes_text(const struct tools_progress_view *v, char *out, size_t n)
{
	char done[32], total[32];
	out[0] = '\0';
	if (!v->bytes)
		return;
	tools_progress_size((double)v->bytes_done, done, sizeof done);
	if (v->bytes_total > 0) {
		tools_progress_size((double)v->bytes_total, total, sizeof total);
		snprintf(out, n, "%s of %s", done, total);
	} else {
		snprintf(out, n, "%s", done);
	}
}

void tools_progress_plain(const struct tools_progress_view *v, char *out, size_t n)
{
	char count[96], bytes[80], rate[48], when[48];
	progress_count_text(v, count, sizeof count);
	progress_bytes_text(v, bytes, sizeof bytes);
	progress_rate_text(v, rate, sizeof rate);
	progress_time_text(v, when, sizeof when);
	snprintf(out, n, "%s: %s%s%s, %s%s%s", v->command, count, bytes[0] ? ", " : "", bytes, rate,
		 when[0] ? ", " : "", when);
}

void tools_progress_tty(const struct tools_progress_view *v, int cols, char *out, size_t n)
{
	char count[96], bytes[80], rate[48], when[48], stats[320], bar[256] = "";
	progress_count_text(v, count, sizeof count);
	progress_bytes_text(v, bytes, sizeof bytes);
	progress_rate_text(v, rate, sizeof rate);
	progress_time_text(v, when, sizeof when);
	double fraction = progress_by_bytes(v) ? (double)v->bytes_done / (double)v->bytes_total
			  : v->total > 0	 ? (double)v->done / (double)v->total
						 : -1;
	int len = 0;
	if (fraction >= 0)
		len = snprintf(stats, sizeof stats, "%3d%% ", (int)floor(fmin(fraction, 1) * 100));
	snprintf(stats + len, sizeof stats - (size_t)len, "%s%s%s %s%s%s", count, bytes[0] ? " " : "",
		 bytes, rate, when[0] ? " " : "", when);
	/* the bar gets what the text leaves of the line, but is left out below 10 cells */
	int width = cols - 1 - (int)strlen(v->command) - 1 - 2 - 1 - (int)strlen(stats);
	if (width > 40)
		width = 40;
	if (fraction >= 0 && width >= 10)
		tools_progress_bar(fraction, width, bar, sizeof bar);
	snprintf(out, n, "%s %s%s%s", v->command, bar, bar[0] ? " " : "", stats);
	if (cols > 1 && strlen(out) > (size_t)cols - 1)
		out[cols - 1] = '\0'; /* never wrap: \r only returns to the start of the last row */
}

/* ---- the live progress -------------------------------------------------------------------- */

static int64_t progress_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int progress_columns(FILE *out)
{
	struct winsize ws;
	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *env = getenv("COLUMNS");
	int cols = env ? atoi(env) : 0;
	return cols > 0 ? cols : 80;
}

/* Draws now (lock held). */
static void progress_draw(struct tools_progress *p, int64_t now, bool finished)
{
	char line[512];
	p->v.elapsed = (double)(now - p->start_us) / 1e6;
	p->v.finished = finished;
	p->last_us = now;
	if (p->mode == TOOLS_PROGRESS_TTY) {
		tools_progress_tty(&p->v, progress_columns(p->out), line, sizeof line);
		fprintf(p->out, "\r%s\033[K%s", line, finished ? "\n" : "");
		p->drawn = !finished;
	} else {
		tools_progress_plain(&p->v, line, sizeof line);
		fprintf(p->out, "%s\n", line);
	}
	fflush(p->out);
}

/* Draws when the interval of the mode has passed (lock held). */
static void progress_maybe_draw(struct tools_progress *p)
{
	if (p->mode == TOOLS_PROGRESS_QUIET)
		return;
	int64_t now = progress_now_us();
	if (now - p->last_us >= p->interval_us)
		progress_draw(p, now, false);
}

static void *progress_tick(void *arg)
{
	struct tools_progress *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		int64_t step = p->interval_us < PROGRESS_TTY_US * 10 ? p->interval_us
								     : PROGRESS_TTY_US * 10;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		int64_t ns = until.tv_nsec + step * 1000;
		until.tv_sec += ns / 1000000000;
		until.tv_nsec = ns % 1000000000;
		pthread_cond_timedwait(&p->wake, &p->lock, &until);
		if (!p->stop)
			progress_maybe_draw(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int64_t progress_interval_us(enum tools_progress_mode mode)
{
	if (mode == TOOLS_PROGRESS_TTY)
		return PROGRESS_TTY_US;
	const char *env = getenv("IIIFD_PROGRESS_INTERVAL_MS");
	long ms = env ? strtol(env, NULL, 10) : 0;
	return ms > 0 ? (int64_t)ms * 1000 : PROGRESS_PLAIN_US;
}

void tools_progress_start(struct tools_progress *p, const char *command, const char *unit,
			  int64_t total, int64_t bytes_total, bool bytes, bool quiet)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &attr);
	pthread_condattr_destroy(&attr);
	p->out = stderr;
	const char *term = getenv("TERM");
	bool tty = isatty(fileno(p->out)) && !(term && strcmp(term, "dumb") == 0);
	p->mode = quiet ? TOOLS_PROGRESS_QUIET : tty ? TOOLS_PROGRESS_TTY : TOOLS_PROGRESS_PLAIN;
	p->v = (struct tools_progress_view){ .command = command, .unit = unit, .total = total,
					     .bytes_total = bytes_total, .bytes = bytes };
	p->interval_us = progress_interval_us(p->mode);
	p->start_us = p->last_us = progress_now_us();
	if (p->mode == TOOLS_PROGRESS_TTY)
		p->last_us -= p->interval_us; /* show the bar at the first update */
	if (p->mode != TOOLS_PROGRESS_QUIET)
		p->ticking = pthread_create(&p->ticker, NULL, progress_tick, p) == 0;
}

void tools_progress_grow(struct tools_progress *p, int64_t items, int64_t bytes)
{
	pthread_mutex_lock(&p->lock);
	p->v.total += items;
	p->v.bytes_total += bytes;
	pthread_mutex_unlock(&p->lock);
}

void tools_progress_add(struct tools_progress *p, int64_t items, int64_t bytes, int64_t failed)
{
	pthread_mutex_lock(&p->lock);
	p->v.done += items;
	p->v.bytes_done += bytes;
	p->v.failed += failed;
	progress_maybe_draw(p);
	pthread_mutex_unlock(&p->lock);
}

void tools_progress_print(struct tools_progress *p, FILE *f, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&p->lock);
	if (p->drawn) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
		p->drawn = false;
		p->last_us -= p->interval_us; /* redraw at the next update */
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
	pthread_mutex_unlock(&p->lock);
}

void tools_progress_finish(struct tools_progress *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (p->ticking)
		pthread_join(p->ticker, NULL);
	if (p->mode != TOOLS_PROGRESS_QUIET)
		progress_draw(p, progress_now_us(), true);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
}
