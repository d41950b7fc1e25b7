/*
 * error.c: filling struct iiifd_error.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

int iiifd_error_set(struct iiifd_error *err, int http_status, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	err->http_status = http_status;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}
