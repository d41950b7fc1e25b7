/*
 * files.c: static file responses. The body is handed to libmicrohttpd as a file descriptor, so
 * large media are sent with sendfile and never read into memory.
 */
#include "http/files.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int files_number(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t n = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = n;
	return 0;
}

int http_range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *len)
{
	uint64_t a = 0, b = 0;
	if (!header || strncmp(header, "bytes=", 6) != 0 || strchr(header, ','))
		return 0;
	const char *p = header + 6;
	if (*p == '-') { /* the last N bytes */
		p++;
		if (files_number(&p, &b) < 0 || *p)
			return 0; /* malformed: ignored, as RFC 9110 allows */
		if (b == 0 || size == 0)
			return -1;
		*len = b < size ? b : size;
		*start = size - *len;
		return 1;
	}
	if (files_number(&p, &a) < 0 || *p++ != '-')
		return 0;
	if (*p == '\0')
		b = size ? size - 1 : 0;
	else if (files_number(&p, &b) < 0 || *p || b < a)
		return 0;
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return 1;
}

static void files_etag(const struct stat *st, char *out, size_t n)
{
	snprintf(out, n, "\"%" PRIx64 "-%" PRIx64 "-%lx\"", (uint64_t)st->st_size,
		 (uint64_t)st->st_mtim.tv_sec, (unsigned long)st->st_mtim.tv_nsec);
}

int http_files_range_applies(const struct http_request *req, const char *etag)
{
	const char *if_range = http_request_header(req, "If-Range");
	return !if_range || strcmp(if_range, etag) == 0;
}

void http_files_body_headers(struct http_response *resp, const char *mime, int range,
			     uint64_t start, uint64_t len, uint64_t size)
{
	http_response_header(resp, "Content-Type", "%s", mime);
	http_response_header(resp, "Accept-Ranges", "bytes");
	if (range > 0) {
		resp->status = 206;
		http_response_header(resp, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
				     start, start + len - 1, size);
	}
}

void http_files_serve(const struct http_request *req, const char *path, const char *mime,
		      const char *cache_control, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct stat st;
	char etag[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		iiifd_error_set(&err, 404, "no such file");
		return http_response_error(resp, &err);
	}
	files_etag(&st, etag, sizeof etag);
	if (http_response_validators(resp, req, etag, st.st_mtim.tv_sec, cache_control)) {
		close(fd);
		return;
	}
	uint64_t size = (uint64_t)st.st_size, start = 0, len = size;
	int range = http_files_range_applies(req, etag)
			    ? http_range_parse(http_request_header(req, "Range"), size, &start, &len)
			    : 0;
	if (range < 0) {
		close(fd);
		http_response_header(resp, "Content-Range", "bytes */%" PRIu64, size);
		iiifd_error_set(&err, 416, "the requested range is outside the file's %" PRIu64
					   " bytes", size);
		return http_response_error(resp, &err);
	}
	http_files_body_headers(resp, mime, range, start, len, size);
	http_response_file(resp, fd, start, len);
}
