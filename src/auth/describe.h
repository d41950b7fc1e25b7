/*
 * describe.h: the JSON that tells clients how to get access: Authorization Flow 2.0 services
 * (probe, access, token, logout) and the probe's AuthProbeResult2, and the Authorization 1.0
 * services (login, clickthrough, kiosk, external; token; logout) for the viewers of today.
 * Pure builders: every function returns a new reference.
 */
#ifndef IIIFD_AUTH_DESCRIBE_H
#define IIIFD_AUTH_DESCRIBE_H

#include <jansson.h>

#include "auth/policy.h"

#define AUTH2_CONTEXT "http://iiif.io/api/auth/2/context.json"
#define AUTH1_CONTEXT "http://iiif.io/api/auth/1/context.json"

/*
 * The URL segment that names a realm in /auth/... URLs: "/" + folder, percent-encoded
 * ("%2F" for the root, "%2Fbooks%2Frare" for books/rare). out: n bytes.
 */
int auth_realm_segment(const char *realm, char *out, size_t n);

/* AuthProbeService2 for the probe at probe_url, nesting p's access, token and logout services. */
json_t *auth_describe_probe2(const struct auth_policy *p, const char *origin,
			     const char *probe_url);

/* The Auth 1.0 cookie service of p (with token and logout services inside). */
json_t *auth_describe_v1(const struct auth_policy *p, const char *origin);

/*
 * AuthProbeResult2 for a decision. substitute_id/type (NULL when none) name the degraded tier's
 * resource; substitute_service (stolen, may be NULL) is its image service.
 */
json_t *auth_describe_probe_result(const struct auth_policy *p, int status,
				   const char *substitute_id, const char *substitute_type,
				   json_t *substitute_service, time_t now);

/* {"en": [text]} */
json_t *auth_lang(const char *text);

#endif
