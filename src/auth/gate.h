/*
 * gate.h: access control as the content areas (Image API, media, Presentation) ask for it: the
 * decision for one request, the services added to the documents that describe a protected
 * resource, and the probe's answer.
 */
#ifndef IIIFD_AUTH_GATE_H
#define IIIFD_AUTH_GATE_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/state.h"
#include "http/message.h"

#define AUTH_DEGRADED_SUFFIX ";degraded"
#define AUTH_PRIVATE_CACHE "private, max-age=600"

/* One request's view of a resource. Caller-owned; auth_gate_release() it. */
struct auth_gate {
	struct auth_policy *policy; /* held; NULL when the resource is public */
	enum auth_access access;    /* for this request: its cookie, or a Bearer token */
	bool token_refused;         /* a Bearer token was sent but was bad, expired or revoked */
};

/*
 * Decides for a resource of kind r at abs_path (a may be NULL: everything public): the policy is
 * the folder's, or its own for that kind (access.yml media:, text:, downloads:).
 */
void auth_gate_open(struct auth_state *a, const char *abs_path, enum auth_resource r,
		    const struct http_request *req, struct auth_gate *g);
/* auth_gate_open() for abs_file known to be a file, not a folder (auth_policy_for_file()). */
void auth_gate_open_file(struct auth_state *a, const char *abs_file, enum auth_resource r,
			 const struct http_request *req, struct auth_gate *g);
void auth_gate_release(struct auth_gate *g);

/* Logs a denial (who, what, from where) to the access log. */
void auth_gate_log_denial(struct auth_state *a, const struct auth_gate *g,
			  const struct http_request *req, const char *what);

/*
 * Adds the services of g's policy to an image information document: Auth 2.0 probe (v3, with
 * the auth context first in @context) and Auth 1.0 (both versions). probe_url names the probe.
 */
void auth_gate_describe_info(const struct auth_gate *g, json_t *info, int version,
			     const char *origin, const char *probe_url);

/* The services to put on a content resource in a Manifest (Auth 2.0 probe and Auth 1.0). */
json_t *auth_gate_services(const struct auth_policy *p, const char *origin, const char *probe_url);

/*
 * Answers a probe (always HTTP 200; the decision in "status"), for the Bearer token of req and its
 * ambient aspects. substitute_id/type/service (service stolen) name the degraded tier or are
 * NULL.
 */
void auth_gate_probe(struct auth_state *a, const struct auth_policy *p,
		     const struct http_request *req, const char *substitute_id,
		     const char *substitute_type, json_t *substitute_service,
		     struct http_response *resp);

#endif
