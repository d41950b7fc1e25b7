/*
 * log.c: one formatted line per call, written with a single fwrite so that lines from
 * concurrent request threads never interleave, with control characters escaped.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level log_min_level = LOG_LEVEL_INFO;

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level min)
{
	log_min_level = min;
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
	if (level < log_min_level)
		return;
	char line[2048];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, now.tv_nsec / 1000000, log_level_names[level]);
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + log_escape(msg, line + n, sizeof line - (size_t)n - 1);
	line[len] = '\n';
	fwrite(line, 1, len + 1, stderr);
}
