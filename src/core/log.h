/*
 * log.h: timestamped log lines on stderr, safe to call from any thread.
 */
#ifndef IIIFD_CORE_LOG_H
#define IIIFD_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Lines below min are dropped; default LOG_LEVEL_INFO. */
void log_set_level(enum log_level min);

/* Writes msg into out (n bytes) with control characters as \xNN and '\\' doubled; returns length. */
size_t log_escape(const char *msg, char *out, size_t n);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
