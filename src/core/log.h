/*
 * log.h: log lines on stderr, safe to call from any thread: timestamped, or with a syslog
 * priority prefix when stderr is the systemd journal.
 */
#ifndef IIIFD_CORE_LOG_H
#define IIIFD_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Lines below min are dropped; default LOG_LEVEL_INFO. Any thread, any time (SIGHUP reload). */
void log_set_level(enum log_level min);

/*
 * Picks the line format once at start: journal lines ("<6>message", sd-daemon(3)) when
 * JOURNAL_STREAM names stderr's device and inode, as systemd sets it; else timestamped lines.
 */
void log_init(void);

/* Whether journal_stream ("DEV:INODE", or NULL) is the file open on fd. */
bool log_journal_stream_matches(const char *journal_stream, int fd);

/*
 * Writes a line's prefix into out (n bytes, NUL-terminated): "<P>" with the syslog priority
 * (debug 7, info 6, warn 4, error 3) for the journal, else "2026-01-02T03:04:05.678Z info ".
 * Returns its length.
 */
size_t log_prefix(enum log_level level, bool journal, const struct timespec *now, char *out,
		  size_t n);

/* Writes msg into out (n bytes) with control characters as \xNN and '\\' doubled; returns length. */
size_t log_escape(const char *msg, char *out, size_t n);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
