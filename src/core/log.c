/*
 * log.c: one formatted line per call, written with a single fwrite so that lines from
 * concurrent request threads never interleave, with control characters escaped. On a terminal
 * or file a line starts with a timestamp and the level; into the journal with the syslog
 * priority instead (sd-daemon(3)), which journald turns into the entry's PRIORITY.
 */
#include "core/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* atomic: SIGHUP changes the level while request threads log */
static atomic_int log_min_level = LOG_LEVEL_INFO;
static bool log_journal;

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };
/* syslog priorities: LOG_DEBUG 7, LOG_INFO 6, LOG_WARNING 4, LOG_ERR 3 */
static const char log_priorities[] = { '7', '6', '4', '3' };

void log_set_level(enum log_level min)
{
	atomic_store(&log_min_level, (int)min);
}

bool log_journal_stream_matches(const char *journal_stream, int fd)
{
	uintmax_t dev, ino;
	char end;
	struct stat st;
	if (!journal_stream || sscanf(journal_stream, "%ju:%ju%c", &dev, &ino, &end) != 2)
		return false;
	return fstat(fd, &st) == 0 && (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void log_init(void)
{
	log_journal = log_journal_stream_matches(getenv("JOURNAL_STREAM"), fileno(stderr));
}

size_t log_prefix(enum log_level level, bool journal, const struct timespec *now, char *out,
		  size_t n)
{
	int len;
	if (journal) {
		len = snprintf(out, n, "<%c>", log_priorities[level]);
	} else {
		struct tm tm;
		gmtime_r(&now->tv_sec, &tm);
		len = snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
			       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			       tm.tm_sec, now->tv_nsec / 1000000, log_level_names[level]);
	}
	return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

/*
 * Copies msg to out (n bytes, NUL-terminated) with control characters (C0, DEL) written as \xNN
 * and backslashes doubled, so that text from outside (URLs, file names, header values) can
 * neither forge log lines (CR, LF) nor send escape sequences to a terminal. Returns the length.
 */
size_t log_escape(const char *msg, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < n; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else if (*p == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			out[o++] = (char)*p;
		}
	}
	if (n)
		out[o] = '\0';
	return o;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if ((int)level < atomic_load(&log_min_level))
		return;
	char line[2048];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	size_t n = log_prefix(level, log_journal, &now, line, sizeof line);
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t len = n + log_escape(msg, line + n, sizeof line - n - 1);
	line[len] = '\n';
	fwrite(line, 1, len + 1, stderr);
}
