/*
 * service.h: the HTML interface's URLs: / for browsers (the root Collection's page),
 * /view/{path}/collection|manifest, /sitemap.xml, /robots.txt, /static/..., and (when
 * html-pages-on-json-urls is on) the page instead of the JSON for browsers that ask a
 * Collection or Manifest URL for text/html. A client of the presentation service.
 */
#ifndef IIIFD_WEB_SERVICE_H
#define IIIFD_WEB_SERVICE_H

#include <stdbool.h>

#include "http/message.h"
#include "presentation/service.h"

/*
 * Answers req when it is one of the interface's URLs and returns true; false when it is not
 * (or the interface is off), and the router goes on. Pages are built on a worker: on the I/O
 * thread only static files are answered, anything else is deferred.
 */
bool web_service_handle(const struct pres_service *svc, const struct http_request *req,
			struct http_response *resp);

/* Whether req is a static file of the interface (answered from memory on the I/O thread). */
bool web_service_is_inline(const struct http_request *req);

#endif
