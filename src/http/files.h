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

/* If-Range: whether a Range applies, i.e. the client's validator (if any) is still etag. */
int http_files_range_applies(const struct http_request *req, const char *etag);

/*
 * The headers of a file's body: Content-Type mime, Accept-Ranges, and for range > 0 (a Range
 * that applied) status 206 with Content-Range for len bytes from start of size.
 */
void http_files_body_headers(struct http_response *resp, const char *mime, int range,
			     uint64_t start, uint64_t len, uint64_t size);

/*
 * Answers GET/HEAD for path (already resolved and allowed) with Content-Type mime:
 * Accept-Ranges, ETag, Last-Modified, Cache-Control, 304, 206/416 for Range (If-Range honoured).
 */
void http_files_serve(const struct http_request *req, const char *path, const char *mime,
		      const char *cache_control, struct http_response *resp);

/* The most bytes one response to a Range request on a remote object carries (a longer or
 * open-ended range gets its first HTTP_FILES_REMOTE_MAX_RANGE bytes, as Content-Range says). */
#define HTTP_FILES_REMOTE_MAX_RANGE (8u << 20)

/*
 * http_files_serve() for an object of a remote root (location as storage/root.h names it),
 * read through ranged GETs and the root's block cache, never downloaded whole: a Range gets
 * 206 with at most HTTP_FILES_REMOTE_MAX_RANGE bytes; a GET without Range of a small object is
 * answered from memory, of a larger one streamed block by block. ETag: the object's own.
 */
void http_files_serve_remote(const struct http_request *req, const char *location,
			     const char *mime, const char *cache_control,
			     struct http_response *resp);

#endif
