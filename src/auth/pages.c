/*
 * pages.c: /auth/access/{realm} (GET the page, POST the form), /auth/2/token/{realm},
 * /auth/1/token/{realm} and /auth/logout. Pages are small self-contained HTML documents; every
 * value in them is escaped (HTML) or JSON-encoded (script).
 */
#include "auth/pages.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/describe.h"
#include "auth/users.h"
#include "core/html.h"
#include "core/strings.h"

#define CSRF_COOKIE "iiifd_csrf"
#define CSRF_TTL 1800

bool auth_pages_secure(const char *origin)
{
	return strncmp(origin, "https://", 8) == 0;
}

static void pages_cookie(struct http_response *resp, const char *origin, const char *name,
			 const char *value, long max_age)
{
	http_response_header(resp, "Set-Cookie", "%s=%s; Path=/; Max-Age=%ld; HttpOnly; %s", name,
			     value, max_age,
			     auth_pages_secure(origin) ? "Secure; SameSite=None" : "SameSite=Lax");
}

/* A page: title, then body (HTML, already escaped), optionally closing itself. */
static void pages_send(struct http_response *resp, int status, const char *title,
		       const char *body_html, bool close_window)
{
	GString *out = g_string_new("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				    "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	html_escape(out, title);
	g_string_append(out, "</title></head><body><main><h1>");
	html_escape(out, title);
	g_string_append_printf(out, "</h1>%s</main>", body_html);
	if (close_window)
		g_string_append(out, "<script>window.close();</script>");
	g_string_append(out, "</body></html>\n");
	resp->status = status;
	http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	http_response_header(resp, "Cache-Control", "no-store");
	http_response_header(resp, "X-Frame-Options", "DENY");
	size_t len = out->len;
	http_response_body(resp, g_string_free(out, FALSE), len, g_free);
}

/* An origin as postMessage takes it: scheme://host[:port], nothing else. */
static bool pages_origin_valid(const char *o)
{
	if (!o || (strncmp(o, "http://", 7) != 0 && strncmp(o, "https://", 8) != 0))
		return false;
	const char *host = strstr(o, "//") + 2;
	if (!*host || strlen(o) >= AUTH_ORIGIN_MAX)
		return false;
	for (const char *p = host; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr(".-:[]", *p))
			return false;
	return true;
}

/*
 * The request's `origin` parameter, malloc'd, without the one trailing "/" Auth 1.0's examples
 * show; NULL when absent. *valid says whether it is an origin pages_origin_valid() accepts.
 */
static char *pages_origin_arg(const struct http_request *req, bool *valid)
{
	char *o = http_request_arg(req, "origin");
	size_t len = o ? strlen(o) : 0;
	if (len > 8 && o[len - 1] == '/' && o[len - 2] != '/')
		o[len - 1] = '\0';
	*valid = pages_origin_valid(o);
	return o;
}

/*
 * The access service remembers the client's origin in the session, signed in the cookie: the
 * token service then serves those origins only (invalidOrigin, as both Auth specs allow).
 */
static void pages_remember_origin(const struct http_request *req, struct auth_claims *c)
{
	bool valid;
	char *o = pages_origin_arg(req, &valid);
	if (valid)
		auth_claims_add_origin(c, o);
	free(o);
}

/* The policy whose own folder is realm (decoded from the URL segment), held; NULL if none. */
static struct auth_policy *pages_realm_policy(struct auth_state *a, const char *segment)
{
	char realm[256], path[4096];
	if (strings_url_decode(segment, strlen(segment), realm, sizeof realm) <= 0 ||
	    realm[0] != '/' || strstr(realm, "..") || strstr(realm, "//"))
		return NULL;
	/* "/books#text": the policy access.yml gives one kind of resource */
	char *hash = strrchr(realm, '#');
	enum auth_resource kind = AUTH_RES_IMAGE;
	for (int r = AUTH_RES_MEDIA; hash && r < AUTH_RES_COUNT; r++)
		if (strcmp(hash + 1, auth_resource_name(r)) == 0)
			kind = (enum auth_resource)r;
	if (kind != AUTH_RES_IMAGE)
		*hash = '\0';
	snprintf(path, sizeof path, "%s%s", auth_state_root(a), strcmp(realm, "/") ? realm : "");
	struct auth_policy *p = auth_policy_for(a, path);
	if (p && strcmp(p->realm, realm + 1) != 0) {
		auth_policy_put(p);
		return NULL;
	}
	if (p && kind != AUTH_RES_IMAGE && !p->for_kind[kind]) {
		auth_policy_put(p);
		return NULL;
	}
	return auth_policy_kind(p, kind);
}

/* The cookie claims to build on: the current session's, or a new one. */
static void pages_session(struct auth_state *a, const struct auth_view *v, struct auth_claims *c)
{
	if (v->has_cookie) {
		*c = v->cookie;
		return;
	}
	memset(c, 0, sizeof *c);
	auth_random_hex(c->sid, 16);
	c->kind = 'c';
	c->expires = time(NULL) + auth_state_session_ttl(a);
}

static void pages_set_session(struct auth_state *a, const char *origin,
			      const struct auth_claims *c, struct http_response *resp)
{
	char token[AUTH_TOKEN_MAX];
	if (auth_token_sign(auth_state_keys(a), c, token, sizeof token) == 0)
		pages_cookie(resp, origin, AUTH_COOKIE_NAME, token, (long)(c->expires - time(NULL)));
}

bool auth_form_field(const char *body, size_t len, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (size_t i = 0; body && i < len;) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		if (end - i > nl && strncmp(body + i, name, nl) == 0 && body[i + nl] == '=') {
			char raw[1024];
			size_t vl = end - i - nl - 1;
			if (vl >= sizeof raw)
				return false;
			memcpy(raw, body + i + nl + 1, vl);
			for (size_t k = 0; k < vl; k++)
				raw[k] = raw[k] == '+' ? ' ' : raw[k];
			return strings_url_decode(raw, vl, out, n) >= 0;
		}
		i = end + 1;
	}
	return false;
}

/* A fresh CSRF token tied to a random value also set as a cookie (double submit). */
static void pages_csrf_issue(struct auth_state *a, const char *origin, struct http_response *resp,
			     char *token, size_t n)
{
	struct auth_claims c = { .kind = 'f', .expires = time(NULL) + CSRF_TTL };
	auth_random_hex(c.sid, 16);
	if (auth_token_sign(auth_state_keys(a), &c, token, n) < 0)
		token[0] = '\0';
	pages_cookie(resp, origin, CSRF_COOKIE, c.sid, CSRF_TTL);
}

static bool pages_csrf_valid(struct auth_state *a, const struct http_request *req,
			     const char *token)
{
	struct auth_claims c;
	if (auth_token_verify(auth_state_keys(a), token, 'f', time(NULL), &c) != AUTH_TOKEN_OK)
		return false;
	const char *cookies = http_request_header(req, "Cookie");
	const char *at = cookies ? strstr(cookies, CSRF_COOKIE "=") : NULL;
	char value[40] = "";
	if (at)
		snprintf(value, sizeof value, "%.*s", (int)strcspn(at + strlen(CSRF_COOKIE) + 1, "; "),
			 at + strlen(CSRF_COOKIE) + 1);
	return value[0] && auth_equal(value, c.sid);
}

static void pages_form(struct auth_state *a, const struct auth_policy *p, const char *origin,
		       const char *message, struct http_response *resp)
{
	char csrf[AUTH_TOKEN_MAX];
	pages_csrf_issue(a, origin, resp, csrf, sizeof csrf);
	GString *b = g_string_new("");
	if (message) {
		g_string_append(b, "<p role=\"alert\" class=\"error\">");
		html_escape(b, message);
		g_string_append(b, "</p>");
	}
	g_string_append(b, "<p>");
	html_escape(b, p->kind == AUTH_CLICKTHROUGH && p->terms[0] ? p->terms : p->note);
	g_string_append(b, "</p><form method=\"post\">");
	g_string_append_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
	if (p->kind == AUTH_LOGIN)
		g_string_append(b, "<p><label>User name <input name=\"user\" id=\"user\" "
				   "autocomplete=\"username\" required></label></p><p><label>"
				   "Password <input type=\"password\" name=\"password\" "
				   "id=\"password\" autocomplete=\"current-password\" required>"
				   "</label></p>");
	g_string_append(b, "<p><button type=\"submit\" id=\"confirm\">");
	html_escape(b, p->confirm_label);
	g_string_append(b, "</button></p></form>");
	pages_send(resp, message ? 401 : 200, p->label, b->str, false);
	g_string_free(b, TRUE);
}

static void pages_done(struct http_response *resp, const char *what)
{
	GString *b = g_string_new("<p>");
	html_escape(b, what);
	g_string_append(b, " This window closes by itself; if it does not, close it.</p>");
	pages_send(resp, 200, "Done", b->str, true);
	g_string_free(b, TRUE);
}

/* POST of the login form: throttled, checked against the users file, logged. */
static void pages_login(struct auth_state *a, const struct auth_policy *p, const char *origin,
			const struct http_request *req, const struct auth_view *v,
			struct http_response *resp)
{
	char user[128] = "", password[512] = "", roles[256] = "";
	auth_form_field(req->body, req->body_len, "user", user, sizeof user);
	auth_form_field(req->body, req->body_len, "password", password, sizeof password);
	const char *logged = auth_user_name_valid(user) ? user : "(invalid)";
	if (!auth_login_allowed(a, req->client, logged)) {
		auth_log(a, "login-throttled", logged, req->client, p->realm);
		resp->status = 429;
		http_response_header(resp, "Retry-After", "%d", AUTH_LOGIN_WINDOW);
		return pages_form(a, p, origin, "Too many failed attempts: try again later.", resp),
		       (void)(resp->status = 429);
	}
	if (!auth_user_name_valid(user) ||
	    !auth_users_check(auth_state_users_file(a), user, password, roles, sizeof roles)) {
		auth_login_failed(a, req->client, logged);
		auth_log(a, "login-failed", logged, req->client, p->realm);
		return pages_form(a, p, origin, "Unknown user name or wrong password.", resp);
	}
	struct auth_claims c;
	pages_session(a, v, &c);
	if (v->has_cookie && strcmp(c.user, user) != 0) /* another user: a fresh session */
		auth_revoke(a, c.sid, c.expires), auth_random_hex(c.sid, 16);
	snprintf(c.user, sizeof c.user, "%.63s", user);
	snprintf(c.roles, sizeof c.roles, "%s", roles);
	c.expires = time(NULL) + auth_state_session_ttl(a);
	pages_remember_origin(req, &c);
	pages_set_session(a, origin, &c, resp);
	auth_log(a, "login", user, req->client, p->realm);
	pages_done(resp, "You are logged in.");
}

static void pages_grant(struct auth_state *a, const struct auth_policy *p, const char *origin,
			const struct http_request *req, const struct auth_view *v,
			struct http_response *resp, const char *event)
{
	struct auth_claims c;
	pages_session(a, v, &c);
	auth_claims_add_grant(&c, p->realm);
	pages_remember_origin(req, &c);
	pages_set_session(a, origin, &c, resp);
	auth_log(a, event, c.user, req->client, p->realm);
	pages_done(resp, p->kind == AUTH_KIOSK ? "This device may show the material."
					       : "You accepted the terms.");
}

static void pages_access(struct auth_state *a, const char *origin, const char *segment,
			 const struct http_request *req, struct http_response *resp)
{
	struct auth_policy *p = pages_realm_policy(a, segment);
	struct auth_view v;
	auth_view_read(a, req, &v);
	bool post = strcmp(req->method, "POST") == 0;
	char csrf[AUTH_TOKEN_MAX] = "";
	if (!p || p->kind == AUTH_PUBLIC || p->kind == AUTH_EXTERNAL || p->broken) {
		pages_send(resp, 404, "No such access service", "<p>Nothing to log in to here.</p>",
			   false);
	} else if (p->kind == AUTH_KIOSK) {
		struct auth_presented who = { .address = req->client };
		if (auth_policy_admits(p, &who))
			pages_grant(a, p, origin, req, &v, resp, "kiosk");
		else
			auth_log(a, "kiosk-refused", NULL, req->client, p->realm),
				pages_send(resp, 403, "Not on site",
					   "<p>This device is not on the institution's premises.</p>",
					   true);
	} else if (!post) {
		pages_form(a, p, origin, NULL, resp);
	} else if (!auth_form_field(req->body, req->body_len, "csrf", csrf, sizeof csrf) ||
		   !pages_csrf_valid(a, req, csrf)) {
		auth_log(a, "csrf-refused", NULL, req->client, p->realm);
		pages_form(a, p, origin, "The form had expired: please try again.", resp);
		resp->status = 403;
	} else if (p->kind == AUTH_LOGIN) {
		pages_login(a, p, origin, req, &v, resp);
	} else {
		pages_grant(a, p, origin, req, &v, resp, "terms-accepted");
	}
	auth_policy_put(p);
}

/*
 * The token to hand out for a realm, or an error profile (2.0 names) when none. client_origin
 * (NULL: not checked) must be one the access service was opened for; when the address or a
 * trusted header admits alone (no visit), the server's own origin or one of auth-origins.
 */
static const char *pages_token_for(struct auth_state *a, const struct auth_policy *p,
				   const char *own_origin, const struct http_request *req,
				   const char *client_origin,
				   char *token, size_t n, const char **error_note)
{
	struct auth_view v;
	struct auth_presented who, ambient;
	auth_view_read(a, req, &v);
	auth_view_presented(&v, false, &who);
	ambient = who;
	ambient.claims = NULL;
	*error_note = p ? p->note : "There is no such access service.";
	if (!p)
		return "invalidRequest";
	if (!auth_policy_admits(p, &who)) {
		auth_log(a, "token-refused", v.has_cookie ? v.cookie.user : NULL, req->client,
			 p->realm);
		const char *sent = http_request_header(req, "Cookie");
		return sent && strstr(sent, AUTH_COOKIE_NAME "=") ? "invalidAspect" : "missingAspect";
	}
	if (client_origin && !auth_claims_has_origin(&v.cookie, client_origin) &&
	    !(auth_policy_admits(p, &ambient) &&
	      (strcmp(client_origin, own_origin) == 0 ||
	       auth_state_origin_listed(a, client_origin)))) {
		auth_log(a, "token-refused-origin", v.cookie.user, req->client, client_origin);
		*error_note = "The access service was not opened for this page's origin: open it "
			      "again from this page.";
		return "invalidOrigin";
	}
	struct auth_claims c;
	pages_session(a, &v, &c);
	c.kind = 't';
	c.norigins = 0; /* the token is for the page that asked: no need to carry the list */
	if (c.user[0]) /* clients see tokens: they say someone logged in, never who (Auth 2.0 §4.4) */
		snprintf(c.user, sizeof c.user, "~");
	time_t exp = time(NULL) + auth_state_token_ttl(a);
	c.expires = v.has_cookie && v.cookie.expires < exp ? v.cookie.expires : exp;
	if (auth_token_sign(auth_state_keys(a), &c, token, n) < 0)
		return "unavailable";
	return NULL;
}

/* The postMessage page: message (stolen) sent to target ("*" only for invalidRequest). */
static void pages_post_message(struct http_response *resp, json_t *message, const char *target)
{
	char *text = json_dumps(message, JSON_COMPACT | JSON_ESCAPE_SLASH);
	json_t *t = json_string(target);
	char *target_js = json_dumps(t, JSON_ENCODE_ANY | JSON_ESCAPE_SLASH);
	GString *out = g_string_new("<!doctype html>\n<html><head><meta charset=\"utf-8\">"
				    "<title>token</title></head><body><script>window.parent."
				    "postMessage(");
	g_string_append_printf(out, "%s, %s);</script></body></html>\n", text ? text : "{}",
			       target_js ? target_js : "\"*\"");
	free(text);
	free(target_js);
	json_decref(t);
	json_decref(message);
	http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	http_response_header(resp, "Cache-Control", "no-store");
	size_t len = out->len;
	http_response_body(resp, g_string_free(out, FALSE), len, g_free);
}

/* What both token services read: messageId, origin (valid: well-formed or absent), the policy. */
struct pages_token_request {
	char *message_id;            /* owned; NULL when absent */
	char *origin;                /* owned; NULL when absent */
	bool valid;
	struct auth_policy *policy;  /* held; NULL when the realm has none */
	char token[AUTH_TOKEN_MAX];  /* the answer's token, when one is given */
	const char *note;            /* why none is, for people */
};

static void pages_token_request_read(struct auth_state *a, const char *segment,
				     const struct http_request *req, struct pages_token_request *t)
{
	t->message_id = http_request_arg(req, "messageId");
	t->origin = pages_origin_arg(req, &t->valid);
	t->policy = pages_realm_policy(a, segment);
	t->note = "";
}

static void pages_token_request_release(struct pages_token_request *t)
{
	auth_policy_put(t->policy);
	free(t->message_id);
	free(t->origin);
}

static void pages_token2(struct auth_state *a, const char *own, const char *segment,
			 const struct http_request *req, struct http_response *resp)
{
	struct pages_token_request t;
	pages_token_request_read(a, segment, req, &t);
	const char *error = !t.message_id || !t.valid
				    ? (t.message_id && t.origin ? "invalidOrigin" : "invalidRequest")
				    : pages_token_for(a, t.policy, own, req, t.origin, t.token,
						      sizeof t.token, &t.note);
	if (!t.message_id || !t.valid)
		t.note = "The token service needs messageId and a valid origin.";
	json_t *m = json_pack("{s:s, s:s, s:s}", "@context", AUTH2_CONTEXT, "type",
			      error ? "AuthAccessTokenError2" : "AuthAccessToken2", "messageId",
			      t.message_id ? t.message_id : "");
	if (error) {
		json_object_set_new(m, "profile", json_string(error));
		json_object_set_new(m, "heading", auth_lang("Access was not granted"));
		json_object_set_new(m, "note", auth_lang(t.note));
	} else {
		json_object_set_new(m, "accessToken", json_string(t.token));
		json_object_set_new(m, "expiresIn", json_integer(auth_state_token_ttl(a)));
	}
	pages_post_message(resp, m, t.valid ? t.origin : "*");
	pages_token_request_release(&t);
}

/* Auth 1.0 error names for the 2.0 profiles used above. */
static const char *pages_error1(const char *error2)
{
	if (strcmp(error2, "missingAspect") == 0)
		return "missingCredentials";
	if (strcmp(error2, "invalidAspect") == 0)
		return "invalidCredentials";
	return error2;
}

/* The 1.0 token service's JSON answer (no messageId): a status that says why, no caching. */
static void pages_token1_json(json_t *m, const char *error, struct http_response *resp)
{
	resp->status = !error ? 200 : strcmp(error, "unavailable") == 0 ? 503
				  : strcmp(error, "invalidRequest") == 0 ? 400 : 401;
	char *text = json_dumps(m, JSON_INDENT(2));
	json_decref(m);
	http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Cache-Control", "no-store");
	if (text)
		http_response_body(resp, text, strlen(text), free);
}

static void pages_token1(struct auth_state *a, const char *own, const char *segment,
			 const struct http_request *req, struct http_response *resp)
{
	struct pages_token_request t;
	pages_token_request_read(a, segment, req, &t);
	/* the JSON form (no messageId) is read by the page's own origin only (CORS without
	 * credentials): its origin is checked when given */
	bool bad_origin = (t.message_id || t.origin) && !t.valid;
	const char *error = bad_origin ? "invalidOrigin"
				       : pages_token_for(a, t.policy, own, req, t.origin, t.token,
							 sizeof t.token, &t.note);
	if (bad_origin)
		t.note = "The origin parameter is not a valid origin.";
	json_t *m = error ? json_pack("{s:s, s:s}", "error", pages_error1(error), "description",
				      t.note)
			  : json_pack("{s:s, s:i}", "accessToken", t.token, "expiresIn",
				      auth_state_token_ttl(a));
	if (t.message_id) {
		json_object_set_new(m, "messageId", json_string(t.message_id));
		pages_post_message(resp, m, t.valid ? t.origin : "*");
	} else {
		pages_token1_json(m, error, resp);
	}
	pages_token_request_release(&t);
}

static void pages_logout(struct auth_state *a, const char *origin, const struct http_request *req,
			 struct http_response *resp)
{
	struct auth_view v;
	auth_view_read(a, req, &v);
	if (v.has_cookie) {
		auth_revoke(a, v.cookie.sid, v.cookie.expires);
		auth_log(a, "logout", v.cookie.user, req->client, "");
	}
	if (v.has_token)
		auth_revoke(a, v.token.sid, v.token.expires);
	pages_cookie(resp, origin, AUTH_COOKIE_NAME, "", 0);
	pages_send(resp, 200, "Logged out",
		   "<p>You are logged out of this image server, and terms you accepted are "
		   "forgotten.</p>",
		   false);
}

bool auth_pages_handle(struct auth_state *a, const char *origin, const struct http_request *req,
		       struct http_response *resp)
{
	const char *path = req->path, *rest;
	if (strncmp(path, "/auth/", 6) != 0)
		return false;
	path += 6;
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (strncmp(path, "access/", 7) == 0 && !strchr(path + 7, '/'))
		pages_access(a, origin, path + 7, req, resp);
	else if (get && strncmp(path, "2/token/", 8) == 0 && !strchr(rest = path + 8, '/'))
		pages_token2(a, origin, rest, req, resp);
	else if (get && strncmp(path, "1/token/", 8) == 0 && !strchr(rest = path + 8, '/'))
		pages_token1(a, origin, rest, req, resp);
	else if (get && strcmp(path, "logout") == 0)
		pages_logout(a, origin, req, resp);
	else
		return false;
	return true;
}
