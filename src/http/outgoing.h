/*
 * outgoing.h: server-private: sending a struct http_response through libmicrohttpd.
 */
#ifndef IIIFD_HTTP_OUTGOING_H
#define IIIFD_HTTP_OUTGOING_H

#include <microhttpd.h>
#include <stdbool.h>

#include "http/message.h"

/*
 * gzips resp's body when the handler marked it compressible and req accepts gzip (adding Vary
 * and a "-gzip" ETag variant). CPU work: call it on a worker thread, not the I/O thread.
 */
void http_outgoing_compress(const struct http_request *req, struct http_response *resp);

/* Whether an Accept-Encoding value allows gzip: "gzip" or "*" listed without q=0. */
bool http_outgoing_accepts_gzip(const char *header);

/*
 * Queues resp on conn (taking over its body, file or stream; resp is still released by the
 * caller), with CORS headers, and "Connection: close" when close is set.
 */
enum MHD_Result http_outgoing_queue(struct MHD_Connection *conn, struct http_response *resp,
				    bool close);

#endif
