/*
 * scan.h: which folders hold an access.yml, for the answers that span many folders (a
 * Collection-wide search or autocomplete): their records are left out when the request may not
 * see them. The list is remade by walking the root at most every AUTH_SCAN_EVERY_S seconds.
 */
#ifndef IIIFD_AUTH_SCAN_H
#define IIIFD_AUTH_SCAN_H

#include "auth/state.h"
#include "http/message.h"

#define AUTH_SCAN_EVERY_S 10

/*
 * The folders at or below rel ("" = the root; paths relative to the root) whose policy does not
 * give req the full resource: a NULL-terminated array (g_strfreev), NULL when there are none or a
 * is NULL.
 */
char **auth_scan_denied_below(struct auth_state *a, const char *rel,
			      const struct http_request *req);

#endif
