/*
 * assets.h: the interface's static files (/static/iiifd.css, /static/iiifd.js), compiled into
 * the binary so that iiifd needs no files beside itself to show its pages.
 */
#ifndef IIIFD_WEB_ASSETS_H
#define IIIFD_WEB_ASSETS_H

#include <stdbool.h>

#include "http/message.h"

/* Answers path when it names one of the files (from memory, fine on the I/O thread). */
bool assets_serve(const char *path, const struct http_request *req, struct http_response *resp);

#endif
