/*
 * gate.c: decisions and service descriptions for the content areas (gate.h).
 */
#include "auth/gate.h"

#include <string.h>

#include "auth/describe.h"

/* Decides for a resource of kind r whose folder's policy is held (may be NULL: public). */
static void gate_decide(struct auth_state *a, struct auth_policy *held, enum auth_resource r,
			const struct http_request *req, struct auth_gate *g)
{
	memset(g, 0, sizeof *g);
	g->access = AUTH_FULL;
	if (!(g->policy = held))
		return;
	g->policy = auth_policy_kind(g->policy, r); /* the reference is the file's either way */
	time_t now = time(NULL);
	if (auth_policy_is_open(g->policy, now)) { /* public, and no embargo (any more) */
		auth_gate_release(g);
		return;
	}
	struct auth_view v;
	struct auth_presented by_cookie, by_token;
	auth_view_read(a, req, &v);
	auth_view_presented(&v, false, &by_cookie);
	auth_view_presented(&v, true, &by_token);
	enum auth_access c = auth_policy_decide(g->policy, &by_cookie, now);
	enum auth_access t = v.has_token ? auth_policy_decide(g->policy, &by_token, now) : c;
	g->access = c < t ? c : t; /* the better of the two: AUTH_FULL is 0 */
	g->token_refused = v.sent_token && !v.has_token;
}

void auth_gate_open(struct auth_state *a, const char *abs_path, enum auth_resource r,
		    const struct http_request *req, struct auth_gate *g)
{
	gate_decide(a, a ? auth_policy_for(a, abs_path) : NULL, r, req, g);
}

void auth_gate_open_file(struct auth_state *a, const char *abs_file, enum auth_resource r,
			 const struct http_request *req, struct auth_gate *g)
{
	gate_decide(a, a ? auth_policy_for_file(a, abs_file) : NULL, r, req, g);
}

void auth_gate_release(struct auth_gate *g)
{
	auth_policy_put(g->policy);
	g->policy = NULL;
}

void auth_gate_log_denial(struct auth_state *a, const struct auth_gate *g,
			  const struct http_request *req, const char *what)
{
	if (!a || !g->policy)
		return;
	struct auth_view v;
	auth_view_read(a, req, &v);
	auth_log(a, g->access == AUTH_DEGRADED ? "degraded" : "denied",
		 v.has_cookie ? v.cookie.user : NULL, req->client, what);
}

json_t *auth_gate_services(const struct auth_policy *p, const char *origin, const char *probe_url)
{
	json_t *list = json_array();
	json_array_append_new(list, auth_describe_probe2(p, origin, probe_url));
	json_array_append_new(list, auth_describe_v1(p, origin));
	return list;
}

/* Appends to info's "service" (an array, made one if it was an object). */
static void gate_add_service(json_t *info, json_t *svc)
{
	json_t *list = json_object_get(info, "service");
	if (!json_is_array(list)) {
		json_t *arr = json_array();
		if (list)
			json_array_append(arr, list);
		json_object_set_new(info, "service", arr);
		list = arr;
	}
	json_array_append_new(list, svc);
}

void auth_gate_describe_info(const struct auth_gate *g, json_t *info, int version,
			     const char *origin, const char *probe_url)
{
	if (!g->policy)
		return;
	if (version == 3) {
		json_t *ctx = json_object_get(info, "@context");
		json_t *list = json_pack("[s]", AUTH2_CONTEXT);
		if (json_is_array(ctx))
			json_array_extend(list, ctx);
		else if (ctx)
			json_array_append(list, ctx);
		json_object_set_new(info, "@context", list);
		gate_add_service(info, auth_describe_probe2(g->policy, origin, probe_url));
	}
	gate_add_service(info, auth_describe_v1(g->policy, origin));
}

void auth_gate_probe(struct auth_state *a, const struct auth_policy *p,
		     const struct http_request *req, const char *substitute_id,
		     const char *substitute_type, json_t *substitute_service,
		     struct http_response *resp)
{
	struct auth_view v;
	struct auth_presented who;
	int status = 200;
	time_t now = time(NULL);
	if (p) {
		auth_view_read(a, req, &v);
		auth_view_presented(&v, true, &who);
		status = auth_policy_decide(p, &who, now) == AUTH_FULL ? 200 : 401;
	}
	json_t *r = auth_describe_probe_result(p, status, substitute_id, substitute_type,
					       substitute_service, now);
	char *text = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(r);
	resp->status = 200;
	http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Cache-Control", "no-store");
	http_response_header(resp, "Vary", "Authorization");
	if (text)
		http_response_body(resp, text, strlen(text), free);
}
