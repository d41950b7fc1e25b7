/*
 * files.h: serving a file as it is on disk (audio, video, captions) with byte ranges, so that
 * browsers can seek, plus validators and conditional requests.
 */
#ifndef IIIFD_HTTP_FILES_H
#define IIIFD_HTTP_FILES_H

#include <stdint.h>

#include "http/message.h"

/*
 * Parses a Range header against a file of size bytes. Returns 1 with *start and *len for one
 * satisfiable byte range, 0 when the whole file should be sent (no header, a syntax the server
 * ignores, several ranges), -1 when the range cannot be satisfied (416).
 */
int http_range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *len);

/*
 * Answers GET/HEAD for path (already resolved and allowed) with Content-Type mime:
 * Accept-Ranges, ETag, Last-Modified, Cache-Control, 304, 206/416 for Range (If-Range honoured).
 */
void http_files_serve(const struct http_request *req, const char *path, const char *mime,
		      const char *cache_control, struct http_response *resp);

#endif
