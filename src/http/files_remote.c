/*
 * files_remote.c: audio, video and captions of a remote root (an S3 bucket) served with byte
 * ranges. The bytes come through storage/root.h's ranged reads, so a viewer seeking in a
 * recording costs a few ranged GETs of the blocks it asks for, and memory stays bounded.
 */
#include "http/files.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "storage/root.h"

#define FILES_REMOTE_CHUNK (256u << 10) /* bytes per call of a streamed whole-object answer */

/* A whole object too large for memory, read chunk by chunk as the client takes it. */
struct files_remote_stream {
	struct storage_file *file; /* owned */
	uint64_t pos, size;
};

static long files_remote_stream_read(void *cls, char *buf, size_t max)
{
	struct files_remote_stream *s = cls;
	struct iiifd_error err = { 0 };
	if (s->pos >= s->size)
		return 0;
	size_t n = max < FILES_REMOTE_CHUNK ? max : FILES_REMOTE_CHUNK;
	if (n > s->size - s->pos)
		n = (size_t)(s->size - s->pos);
	if (storage_file_pread(s->file, buf, n, (int64_t)s->pos, &err) < 0)
		return -1; /* replaced or unreachable midway: the connection is closed */
	s->pos += n;
	return (long)n;
}

static void files_remote_stream_free(void *cls)
{
	struct files_remote_stream *s = cls;
	storage_file_close(s->file);
	free(s);
}

/* len bytes of the object at start into the response body; -1 with err (409: replaced). */
static int files_remote_body(const char *location, const struct storage_stat *st,
			     uint64_t start, uint64_t len, struct http_response *resp,
			     struct iiifd_error *err)
{
	struct storage_file *f;
	if (storage_file_open(location, st, &f, err) < 0)
		return -1;
	if (len > HTTP_FILES_REMOTE_MAX_RANGE) { /* only a GET without Range comes here so big */
		struct files_remote_stream *s = calloc(1, sizeof *s);
		if (!s) {
			storage_file_close(f);
			return iiifd_error_set(err, 500, "out of memory");
		}
		*s = (struct files_remote_stream){ .file = f, .pos = start, .size = start + len };
		http_response_stream(resp, files_remote_stream_read, s, files_remote_stream_free);
		return 0;
	}
	char *body = malloc(len ? len : 1);
	int rc = body ? storage_file_pread(f, body, len, (int64_t)start, err)
		      : iiifd_error_set(err, 500, "out of memory");
	storage_file_close(f);
	if (rc < 0) {
		free(body);
		return -1;
	}
	http_response_body(resp, body, len, free);
	return 0;
}

/* One attempt; 409 in err when the object was replaced since its stat was cached. */
static int files_remote_try(const struct http_request *req, const char *location,
			    const char *mime, const char *cache_control,
			    struct http_response *resp, struct iiifd_error *err)
{
	struct storage_stat st;
	if (storage_stat(location, &st, err) < 0 || st.is_dir)
		return iiifd_error_set(err, err->http_status && err->http_status != 404
						    ? err->http_status : 404, "no such file");
	char etag[96];
	if (st.etag[0] == '"')
		snprintf(etag, sizeof etag, "%s", st.etag);
	else
		snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.size,
			 (uint64_t)st.mtime.tv_sec);
	if (http_response_validators(resp, req, etag, st.mtime.tv_sec, cache_control))
		return 0;
	uint64_t size = (uint64_t)st.size, start = 0, len = size;
	int range = http_files_range_applies(req, etag)
			    ? http_range_parse(http_request_header(req, "Range"), size, &start, &len)
			    : 0;
	if (range < 0) {
		http_response_header(resp, "Content-Range", "bytes */%" PRIu64, size);
		return iiifd_error_set(err, 416, "the requested range is outside the file's %" PRIu64
						 " bytes", size);
	}
	if (range > 0 && len > HTTP_FILES_REMOTE_MAX_RANGE)
		len = HTTP_FILES_REMOTE_MAX_RANGE;
	if (files_remote_body(location, &st, start, len, resp, err) < 0)
		return -1;
	http_files_body_headers(resp, mime, range, start, len, size);
	return 0;
}

void http_files_serve_remote(const struct http_request *req, const char *location,
			     const char *mime, const char *cache_control,
			     struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	int rc = files_remote_try(req, location, mime, cache_control, resp, &err);
	if (rc < 0 && err.http_status == 409) { /* replaced since its stat was cached: once more */
		int route = resp->route;
		storage_forget(location);
		http_response_release(resp); /* drops the validators the first attempt set */
		http_response_init(resp);
		resp->route = route;
		err = (struct iiifd_error){ 0 };
		rc = files_remote_try(req, location, mime, cache_control, resp, &err);
	}
	if (rc < 0)
		http_response_error(resp, &err);
}
