/*
 * error.h: the one error type every fallible iiifd function fills in.
 * Functions return 0 on success or -1 after calling iiifd_error_set().
 */
#ifndef IIIFD_CORE_ERROR_H
#define IIIFD_CORE_ERROR_H

struct iiifd_error {
	int http_status; /* the HTTP status this error maps to, e.g. 400 */
	char msg[256];   /* a short reason for a person, no trailing newline */
};

/* Fills err (if not NULL) with status and a printf-style message; always returns -1. */
int iiifd_error_set(struct iiifd_error *err, int http_status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
