/*
 * state.h: what the server keeps for access control: the signing keys, the policies of the
 * folders (read from access.yml, re-checked at most once a second), revoked sessions, login
 * attempt counters and the access log. One per server; safe from any thread.
 */
#ifndef IIIFD_AUTH_STATE_H
#define IIIFD_AUTH_STATE_H

#include <stdbool.h>

#include "auth/policy.h"
#include "auth/token.h"
#include "core/config.h"
#include "http/message.h"

struct auth_state;

/* NULL with err when the settings are wrong (bad auth-secrets). Free with auth_state_free(). */
struct auth_state *auth_state_new(const struct iiifd_config *cfg, const char *root_real,
				  struct iiifd_error *err);
void auth_state_free(struct auth_state *a);

const struct auth_keys *auth_state_keys(const struct auth_state *a);

/*
 * The policy in force for the file or folder at abs_path (below the root): the nearest
 * access.yml in its folder or above, where a folder without one takes access-file's entry for
 * it (the root's for the root). NULL when none (public). A held reference: release with
 * auth_policy_put(). A broken access.yml gives a policy that admits nobody.
 */
struct auth_policy *auth_policy_for(struct auth_state *a, const char *abs_path);

/*
 * auth_policy_for() for abs_file known to be a file (not a folder), such as an identifier
 * path_resolve() or storage_resolve() resolved: its folder's policy, without asking the
 * storage whether abs_file is a folder (a stat per image request otherwise).
 */
struct auth_policy *auth_policy_for_file(struct auth_state *a, const char *abs_file);

/*
 * Makes every cached policy look at its access.yml again on next use, instead of up to a
 * second later: Change Discovery calls it before each scan, so a document fetched after the
 * Update of a policy change already carries the new policy. Thread-safe, any state.
 */
void auth_policies_recheck(void);
void auth_policy_put(struct auth_policy *p);

/* What a request presents, read from its cookie, Authorization header and trusted headers. */
struct auth_view {
	struct auth_claims cookie;  /* valid when has_cookie */
	struct auth_claims token;   /* valid when has_token */
	bool has_cookie, has_token;
	enum auth_token_check token_check; /* why a Bearer token was refused */
	bool sent_token;
	char header_user[64], header_roles[256];
	const char *address;
};
void auth_view_read(struct auth_state *a, const struct http_request *req, struct auth_view *v);

/* The presented aspects for a content request (the cookie) or a probe (the token). */
void auth_view_presented(const struct auth_view *v, bool use_token, struct auth_presented *out);

/*
 * The whole decision for a content resource: FULL when no policy, else what the policy says for
 * this request's cookie and ambient aspects. *policy_out (when not NULL) receives the held policy.
 */
enum auth_access auth_decide_file(struct auth_state *a, const char *abs_path,
				  const struct http_request *req, struct auth_policy **policy_out);

/*
 * The store shared by the nodes (the annotation database; may be NULL): revocations are written
 * to it and read from it, so a logout on one node ends the session on all. Borrowed.
 */
struct db;
void auth_state_set_db(struct auth_state *a, struct db *db);

/* Revocation of a session id until expires (logout); checked on every cookie and token. */
void auth_revoke(struct auth_state *a, const char *sid, time_t expires);
bool auth_is_revoked(struct auth_state *a, const char *sid);

/*
 * Login throttling: whether another attempt from address for user is allowed now (at most
 * AUTH_LOGIN_BURST_ACCOUNT failures per account and AUTH_LOGIN_BURST_ADDRESS per address in
 * AUTH_LOGIN_WINDOW seconds), and recording a failure.
 */
#define AUTH_LOGIN_BURST_ACCOUNT 5
#define AUTH_LOGIN_BURST_ADDRESS 20
#define AUTH_LOGIN_WINDOW 300
bool auth_login_allowed(struct auth_state *a, const char *address, const char *user);
void auth_login_failed(struct auth_state *a, const char *address, const char *user);

/* One line to the access log: "time event user address what". */
void auth_log(struct auth_state *a, const char *event, const char *user, const char *address,
	      const char *what);

/* The settings: users file, token and cookie lifetimes, cookie name. */
const char *auth_state_users_file(const struct auth_state *a);
int auth_state_token_ttl(const struct auth_state *a);
int auth_state_session_ttl(const struct auth_state *a);
const char *auth_state_root(const struct auth_state *a);
/* The access-file setting's policy for the root, held (auth_policy_put); NULL when none. */
struct auth_policy *auth_state_config_policy(struct auth_state *a);
/* The folders access-file gives a policy ("" = the root), NULL-terminated; g_strfreev it. */
char **auth_state_config_folders(struct auth_state *a);
/*
 * Reload: reads the access-file at file again ("" or NULL = none any more) and puts its
 * policies in force for the requests from now on. A file that cannot be read or has a problem
 * changes nothing; the log names it, the line and the problem.
 */
void auth_state_reload_access_file(struct auth_state *a, const char *file);
/* Whether origin is one of the auth-origins setting's (a trailing "/" there is ignored). */
bool auth_state_origin_listed(const struct auth_state *a, const char *origin);

#define AUTH_COOKIE_NAME "iiifd_access"

#endif
