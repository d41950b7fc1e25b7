/*
 * pages.h: the Authorization Flow endpoints below /auth/: the access service pages (login form
 * with a CSRF token, terms to accept, kiosk), the token services (2.0 by postMessage; 1.0 by
 * postMessage or JSON) and logout. Docs: docs/access.md.
 */
#ifndef IIIFD_AUTH_PAGES_H
#define IIIFD_AUTH_PAGES_H

#include <stdbool.h>

#include "auth/state.h"
#include "http/message.h"

#define AUTH_FORM_MAX_BODY 8192

/* Answers the request when its path is below /auth/ (true), else returns false. origin is the
 * server's base URL (public-url or from the request). */
bool auth_pages_handle(struct auth_state *a, const char *origin, const struct http_request *req,
		       struct http_response *resp);

/*
 * A field of an x-www-form-urlencoded body (len bytes, not NUL-terminated), decoded ('+' and
 * %XX) into out (n bytes); false when absent, too long or badly escaped.
 */
bool auth_form_field(const char *body, size_t len, const char *name, char *out, size_t n);

/* Whether the Set-Cookie of this server should be Secure (the base URL is https). */
bool auth_pages_secure(const char *origin);

#endif
