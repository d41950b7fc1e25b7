/*
 * state.c: the per-server access-control state (state.h): a small table of folder policies,
 * revoked sessions and login failure counters, each under one mutex.
 */
#include "auth/state.h"

#include <glib.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/access_file.h"
#include "core/log.h"
#include "db/db.h"
#include "core/strings.h"
#include "storage/root.h"

#define STATE_POLICY_SLOTS 512
#define STATE_RECHECK_S 1
#define STATE_REVOKED_MAX 8192
#define STATE_THROTTLE_SLOTS 2048

struct state_policy_slot {
	char *dir;                 /* owned; absolute folder */
	struct auth_policy *policy; /* one reference held; NULL when the folder has no access.yml */
	struct timespec mtime;
	off_t size;
	uint64_t ino;              /* of a remote object: a hash of its ETag (storage/root.h) */
	time_t checked;            /* when access.yml was last looked at */
	unsigned long epoch;       /* state_epoch when it was */
};

/* Raised by auth_policies_recheck(): every slot looks at its access.yml again on next use. */
static atomic_ulong state_epoch;

void auth_policies_recheck(void)
{
	atomic_fetch_add(&state_epoch, 1);
}

struct state_revoked {
	char sid[33];
	time_t expires;
};

struct state_throttle {
	uint64_t key;
	time_t window_start;
	int failures;
};

struct auth_state {
	char root[PATH_MAX];
	struct auth_keys keys;
	char users_file[PATH_MAX];
	char user_header[64], roles_header[64];
	int token_ttl, session_ttl;
	pthread_mutex_t lock;
	struct state_policy_slot policies[STATE_POLICY_SLOTS];
	struct state_revoked revoked[STATE_REVOKED_MAX];
	int nrevoked;
	struct state_throttle throttle[STATE_THROTTLE_SLOTS];
	char origins[1024]; /* auth-origins: "origin origin,..." */
	struct auth_access_file *access_file; /* owned, under lock; NULL = no access-file */
	FILE *log; /* owned; NULL = the server log */
	struct db *db; /* borrowed; NULL = revocations in this process only */
};

/*
 * The access-file setting's policies: the root's, beneath every access.yml, whatever the root is
 * (a local folder or object storage), and its folders'. NULL with err naming file:line when it
 * is broken.
 */
static struct auth_access_file *state_access_file_load(const char *file, struct iiifd_error *err)
{
	struct sidecar_problems problems = { 0 };
	struct auth_access_file *f = auth_access_file_load(file, &problems);
	if (!f)
		iiifd_error_set(err, 400, "access-file %s:%d: %s", file,
				problems.count ? problems.items[0].line : 0,
				problems.count ? problems.items[0].msg : "cannot be read");
	return f;
}

struct auth_state *auth_state_new(const struct iiifd_config *cfg, const char *root_real,
				  struct iiifd_error *err)
{
	struct auth_state *a = calloc(1, sizeof *a);
	char msg[200];
	if (!a)
		return iiifd_error_set(err, 500, "out of memory"), NULL;
	if (auth_keys_parse(cfg->auth_secrets, &a->keys, msg, sizeof msg) < 0) {
		free(a);
		return iiifd_error_set(err, 400, "%s", msg), NULL;
	}
	if (!cfg->auth_secrets || !*cfg->auth_secrets)
		log_info("auth: no auth-secrets set: sessions and tokens last until a restart and "
			 "are valid on this node only");
	snprintf(a->root, sizeof a->root, "%s", root_real);
	if (cfg->auth_users && *cfg->auth_users)
		snprintf(a->users_file, sizeof a->users_file, "%s", cfg->auth_users);
	else
		snprintf(a->users_file, sizeof a->users_file, "%s/users", cfg->data_dir);
	snprintf(a->user_header, sizeof a->user_header, "%s", cfg->auth_user_header);
	snprintf(a->roles_header, sizeof a->roles_header, "%s", cfg->auth_roles_header);
	if (cfg->auth_origins && strlen(cfg->auth_origins) >= sizeof a->origins) {
		free(a);
		return iiifd_error_set(err, 400, "auth-origins: too long (at most %zu characters)",
				       sizeof a->origins - 1), NULL;
	}
	snprintf(a->origins, sizeof a->origins, "%s", cfg->auth_origins ? cfg->auth_origins : "");
	if (cfg->access_file && *cfg->access_file &&
	    !(a->access_file = state_access_file_load(cfg->access_file, err))) {
		free(a);
		return NULL;
	}
	a->token_ttl = cfg->auth_token_ttl;
	a->session_ttl = cfg->auth_session_ttl;
	if (cfg->auth_log && *cfg->auth_log && !(a->log = fopen(cfg->auth_log, "a")))
		log_warn("auth: cannot open auth-log %s: the server log is used", cfg->auth_log);
	if (a->log)
		setvbuf(a->log, NULL, _IOLBF, 0);
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void auth_state_free(struct auth_state *a)
{
	if (!a)
		return;
	for (int i = 0; i < STATE_POLICY_SLOTS; i++) {
		free(a->policies[i].dir);
		auth_policy_put(a->policies[i].policy);
	}
	auth_access_file_free(a->access_file);
	if (a->log)
		fclose(a->log);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

const struct auth_keys *auth_state_keys(const struct auth_state *a) { return &a->keys; }
const char *auth_state_users_file(const struct auth_state *a) { return a->users_file; }
int auth_state_token_ttl(const struct auth_state *a) { return a->token_ttl; }
int auth_state_session_ttl(const struct auth_state *a) { return a->session_ttl; }
const char *auth_state_root(const struct auth_state *a) { return a->root; }

bool auth_state_origin_listed(const struct auth_state *a, const char *origin)
{
	size_t n = strlen(origin);
	for (const char *s = a->origins; *s;) {
		s += strspn(s, " ,\t");
		size_t len = strcspn(s, " ,\t");
		if (len == n && strncmp(s, origin, n) == 0)
			return true;
		if (len > 1 && s[len - 1] == '/' && len - 1 == n && strncmp(s, origin, n) == 0)
			return true; /* "https://x.org/" as written in a config */
		s += len;
	}
	return false;
}

void auth_policy_put(struct auth_policy *p)
{
	if (p && p->parent)
		p = p->parent; /* a kind's policy lives as long as its file's */
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		auth_policy_free(p);
}

/* A policy that admits nobody, for a broken access.yml. */
static struct auth_policy *state_broken_policy(const char *realm)
{
	struct auth_policy *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	snprintf(p->realm, sizeof p->realm, "%s", realm);
	p->kind = AUTH_LOGIN;
	p->broken = true;
	p->refs = 1;
	p->roles = strdup(""), p->label = strdup("Unavailable"), p->heading = strdup("Unavailable");
	p->note = strdup("This material is not available."), p->confirm_label = strdup("Log in");
	p->terms = strdup(""), p->degraded_label = strdup("");
	return p;
}

static struct auth_policy *state_load(const struct auth_state *a, const char *dir,
				      const char *file)
{
	const char *rel = dir + strlen(a->root);
	rel += *rel == '/';
	struct sidecar_problems problems = { 0 };
	struct auth_policy *p = auth_policy_load(file, rel, &problems);
	if (p)
		return p;
	for (int i = 0; i < problems.count && i < SIDECAR_MAX_PROBLEMS; i++)
		log_warn("%s:%d: %s (nobody is admitted until it is fixed)", file,
			 problems.items[i].line, problems.items[i].msg);
	return state_broken_policy(rel);
}

/* The slot of dir, refreshed when stale. Called with the lock held. */
static struct state_policy_slot *state_slot(struct auth_state *a, const char *dir, time_t now)
{
	uint64_t h = strings_hash(STRINGS_HASH_SEED, dir);
	struct state_policy_slot *s = &a->policies[h % STATE_POLICY_SLOTS];
	if (s->dir && strcmp(s->dir, dir) != 0) {
		free(s->dir);
		auth_policy_put(s->policy);
		memset(s, 0, sizeof *s);
	}
	unsigned long epoch = atomic_load(&state_epoch);
	if (s->dir && now - s->checked < STATE_RECHECK_S && s->epoch == epoch)
		return s;
	char file[PATH_MAX + 16];
	snprintf(file, sizeof file, "%s/" AUTH_POLICY_FILE, dir);
	struct storage_stat st; /* below a remote root: the object's, cached for storage-ttl */
	bool exists = storage_stat(file, &st, NULL) == 0 && !st.is_dir;
	if (!s->dir || (exists != (s->policy != NULL)) ||
	    (exists && (st.mtime.tv_sec != s->mtime.tv_sec ||
			st.mtime.tv_nsec != s->mtime.tv_nsec || st.size != s->size ||
			st.ino != s->ino))) {
		auth_policy_put(s->policy);
		s->policy = exists ? state_load(a, dir, file) : NULL;
		s->mtime = exists ? st.mtime : (struct timespec){ 0 };
		s->size = exists ? st.size : 0;
		s->ino = exists ? st.ino : 0;
		if (!s->dir)
			s->dir = strdup(dir);
	}
	s->checked = now;
	s->epoch = epoch;
	return s;
}

/* One reference more to p (may be NULL); returns p. */
static struct auth_policy *state_hold(struct auth_policy *p)
{
	if (p)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
	return p;
}

/*
 * The policy set for the folder dir itself, borrowed: its access.yml, else access-file's entry
 * for it (the root's at the root). Called with the lock held.
 */
static struct auth_policy *state_policy_at(struct auth_state *a, const char *dir, time_t now)
{
	struct state_policy_slot *s = state_slot(a, dir, now);
	if (s->policy)
		return s->policy;
	const char *rel = dir + strlen(a->root);
	return auth_access_file_policy(a->access_file, rel + (*rel == '/'));
}

/*
 * The policy in force in the folder dir (a copy, cut down while walking up): the nearest
 * access.yml from dir up to the root. root_len is strlen(a->root).
 */
static struct auth_policy *state_policy_from(struct auth_state *a, char *dir, size_t root_len)
{
	time_t now = time(NULL);
	struct auth_policy *found = NULL;
	pthread_mutex_lock(&a->lock);
	while (strlen(dir) >= root_len && !(found = state_policy_at(a, dir, now))) {
		char *slash = strrchr(dir, '/');
		if (!slash || strlen(dir) == root_len)
			break;
		*slash = '\0';
	}
	if (!found) /* a path that left the root's folder while walking up */
		found = auth_access_file_policy(a->access_file, "");
	state_hold(found);
	pthread_mutex_unlock(&a->lock);
	return found;
}

/* Whether abs_path lies below a's root: 0, else -1 with its policy (the configured one). */
static int state_below_root(struct auth_state *a, const char *abs_path, struct auth_policy **p)
{
	if (strncmp(abs_path, a->root, strlen(a->root)) == 0)
		return 0;
	*p = auth_state_config_policy(a);
	return -1;
}

/* The policy of folder abs_path, or of the folder holding it when it is not a folder. */
static struct auth_policy *state_policy_of(struct auth_state *a, const char *abs_path,
					   bool is_folder)
{
	struct auth_policy *p = NULL;
	if (!a || state_below_root(a, abs_path, &p) < 0)
		return p;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", abs_path);
	char *slash = is_folder ? NULL : strrchr(dir, '/');
	if (!is_folder && !slash)
		return NULL;
	if (slash)
		*slash = '\0';
	return state_policy_from(a, dir, strlen(a->root));
}

struct auth_policy *auth_policy_for(struct auth_state *a, const char *abs_path)
{
	struct storage_stat st;
	bool is_folder = a && storage_stat(abs_path, &st, NULL) == 0 && st.is_dir;
	return state_policy_of(a, abs_path, is_folder);
}

struct auth_policy *auth_policy_for_file(struct auth_state *a, const char *abs_file)
{
	return state_policy_of(a, abs_file, false);
}

struct auth_policy *auth_state_config_policy(struct auth_state *a)
{
	pthread_mutex_lock(&a->lock);
	struct auth_policy *p = state_hold(auth_access_file_policy(a->access_file, ""));
	pthread_mutex_unlock(&a->lock);
	return p;
}

char **auth_state_config_folders(struct auth_state *a)
{
	pthread_mutex_lock(&a->lock);
	size_t n = auth_access_file_count(a->access_file);
	char **folders = g_new0(char *, n + 1);
	for (size_t i = 0; i < n; i++)
		folders[i] = g_strdup(auth_access_file_folder(a->access_file, i));
	pthread_mutex_unlock(&a->lock);
	return folders;
}

void auth_state_reload_access_file(struct auth_state *a, const char *file)
{
	struct iiifd_error err = { 0 };
	struct auth_access_file *next = NULL;
	if (file && *file && !(next = state_access_file_load(file, &err))) {
		log_error("reload: %s; the previous access-file policies stay in force", err.msg);
		return;
	}
	pthread_mutex_lock(&a->lock);
	struct auth_access_file *old = a->access_file;
	a->access_file = next;
	pthread_mutex_unlock(&a->lock);
	auth_access_file_free(old); /* policies in use keep their own references */
	if (next)
		log_info("reload: access-file %s read: policies for %zu folder(s)", file,
			 auth_access_file_count(next));
	else if (old)
		log_warn("reload: no access-file any more: only access.yml files protect folders");
}

static void state_cookie_value(const char *cookies, char *out, size_t n)
{
	out[0] = '\0';
	const char *name = AUTH_COOKIE_NAME "=";
	for (const char *p = cookies; p && *p;) {
		p += strspn(p, " ;");
		size_t len = strcspn(p, ";");
		if (strncmp(p, name, strlen(name)) == 0 && len - strlen(name) < n) {
			memcpy(out, p + strlen(name), len - strlen(name));
			out[len - strlen(name)] = '\0';
			return;
		}
		p += len;
	}
}

void auth_view_read(struct auth_state *a, const struct http_request *req, struct auth_view *v)
{
	memset(v, 0, sizeof *v);
	v->address = req->client;
	time_t now = time(NULL);
	char cookie[AUTH_TOKEN_MAX];
	state_cookie_value(http_request_header(req, "Cookie"), cookie, sizeof cookie);
	v->has_cookie = cookie[0] && auth_token_verify(&a->keys, cookie, 'c', now, &v->cookie) ==
						     AUTH_TOKEN_OK &&
			!auth_is_revoked(a, v->cookie.sid);
	const char *bearer = http_request_header(req, "Authorization");
	if (bearer && strncmp(bearer, "Bearer ", 7) == 0) {
		v->sent_token = true;
		v->token_check = auth_token_verify(&a->keys, bearer + 7, 't', now, &v->token);
		v->has_token = v->token_check == AUTH_TOKEN_OK && !auth_is_revoked(a, v->token.sid);
		if (v->token_check == AUTH_TOKEN_OK && !v->has_token)
			v->token_check = AUTH_TOKEN_EXPIRED;
	}
	const char *hu = a->user_header[0] && req->via_proxy
				 ? http_request_header(req, a->user_header) : NULL;
	const char *hr = hu && a->roles_header[0] ? http_request_header(req, a->roles_header) : NULL;
	snprintf(v->header_user, sizeof v->header_user, "%s", hu ? hu : "");
	snprintf(v->header_roles, sizeof v->header_roles, "%s", hr ? hr : "");
}

void auth_view_presented(const struct auth_view *v, bool use_token, struct auth_presented *out)
{
	out->claims = use_token ? (v->has_token ? &v->token : NULL)
				: (v->has_cookie ? &v->cookie : NULL);
	out->address = v->address;
	out->header_user = v->header_user[0] ? v->header_user : NULL;
	out->header_roles = v->header_roles;
}

enum auth_access auth_decide_file(struct auth_state *a, const char *abs_path,
				  const struct http_request *req, struct auth_policy **policy_out)
{
	struct auth_policy *p = a ? auth_policy_for(a, abs_path) : NULL;
	enum auth_access access = AUTH_FULL;
	if (p) {
		struct auth_view v;
		struct auth_presented who;
		auth_view_read(a, req, &v);
		auth_view_presented(&v, false, &who);
		access = auth_policy_decide(p, &who, time(NULL));
	}
	if (policy_out)
		*policy_out = p;
	else
		auth_policy_put(p);
	return access;
}

void auth_state_set_db(struct auth_state *a, struct db *db)
{
	a->db = db;
}

void auth_revoke(struct auth_state *a, const char *sid, time_t expires)
{
	struct iiifd_error err = { 0 };
	if (a->db && db_auth_revoke(a->db, sid, (int64_t)expires, &err) < 0)
		log_warn("auth: the revocation list: %s (the logout holds on this node only)",
			 err.msg);
	time_t now = time(NULL);
	pthread_mutex_lock(&a->lock);
	int w = 0;
	for (int i = 0; i < a->nrevoked; i++) /* forget the expired ones */
		if (a->revoked[i].expires > now)
			a->revoked[w++] = a->revoked[i];
	a->nrevoked = w;
	if (a->nrevoked == STATE_REVOKED_MAX) /* full of live ones: drop the oldest */
		memmove(a->revoked, a->revoked + 1, sizeof a->revoked[0] * --a->nrevoked);
	snprintf(a->revoked[a->nrevoked].sid, sizeof a->revoked[0].sid, "%s", sid);
	a->revoked[a->nrevoked++].expires = expires;
	pthread_mutex_unlock(&a->lock);
}

bool auth_is_revoked(struct auth_state *a, const char *sid)
{
	bool found = false;
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < a->nrevoked && !found; i++)
		found = strcmp(a->revoked[i].sid, sid) == 0;
	pthread_mutex_unlock(&a->lock);
	struct iiifd_error err = { 0 };
	bool elsewhere = false;
	if (!found && a->db && db_auth_is_revoked(a->db, sid, (int64_t)time(NULL), &elsewhere,
						  &err) < 0) {
		log_warn("auth: the revocation list cannot be read: %s", err.msg);
		return true; /* fail closed: a session that cannot be checked is not trusted */
	}
	return found || elsewhere;
}

static struct state_throttle *state_throttle_slot(struct auth_state *a, const char *kind,
						  const char *what, time_t now)
{
	uint64_t h = strings_hash(strings_hash(STRINGS_HASH_SEED, kind), what ? what : "");
	struct state_throttle *t = &a->throttle[h % STATE_THROTTLE_SLOTS];
	if (t->key != h || now - t->window_start >= AUTH_LOGIN_WINDOW)
		*t = (struct state_throttle){ .key = h, .window_start = now };
	return t;
}

bool auth_login_allowed(struct auth_state *a, const char *address, const char *user)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&a->lock);
	bool ok = state_throttle_slot(a, "a", address, now)->failures < AUTH_LOGIN_BURST_ADDRESS &&
		  state_throttle_slot(a, "u", user, now)->failures < AUTH_LOGIN_BURST_ACCOUNT;
	pthread_mutex_unlock(&a->lock);
	return ok;
}

void auth_login_failed(struct auth_state *a, const char *address, const char *user)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&a->lock);
	state_throttle_slot(a, "a", address, now)->failures++;
	state_throttle_slot(a, "u", user, now)->failures++;
	pthread_mutex_unlock(&a->lock);
}

void auth_log(struct auth_state *a, const char *event, const char *user, const char *address,
	      const char *what)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (a->log)
		fprintf(a->log, "%s %s user=%s from=%s %s\n", when, event, user && *user ? user : "-",
			address ? address : "-", what ? what : "");
	else
		log_info("auth %s user=%s from=%s %s", event, user && *user ? user : "-",
			 address ? address : "-", what ? what : "");
}
