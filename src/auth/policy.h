/*
 * policy.h: who may see what. An access.yml in a folder sets the policy of that folder and every
 * folder below it that has no access.yml of its own (docs/access.md). The decision is a pure
 * function of a policy, what the client presents and the time.
 */
#ifndef IIIFD_AUTH_POLICY_H
#define IIIFD_AUTH_POLICY_H

#include <stdbool.h>
#include <time.h>
#include <yaml.h>

#include "auth/token.h"
#include "presentation/sidecar.h"

#define AUTH_POLICY_FILE "access.yml"

enum auth_kind { AUTH_PUBLIC, AUTH_LOGIN, AUTH_CLICKTHROUGH, AUTH_KIOSK, AUTH_EXTERNAL };

struct http_proxies;

/* The kinds of resource a folder may treat differently (access.yml keys media, text, downloads). */
enum auth_resource { AUTH_RES_IMAGE, AUTH_RES_MEDIA, AUTH_RES_TEXT, AUTH_RES_DOWNLOAD,
		     AUTH_RES_COUNT };

/* One access.yml. Owned strings; free with auth_policy_free(). */
struct auth_policy {
	enum auth_kind kind;
	char realm[96];         /* the folder of the access.yml below the root, "" for the root */
	char *roles;            /* login/external: comma-separated roles, any one suffices; "" = any */
	char *label, *heading, *note, *confirm_label; /* what clients show; defaults filled */
	char *terms;            /* clickthrough: the terms the user accepts (plain text) */
	struct http_proxies *addresses; /* kiosk/external: client address ranges; NULL = none */
	bool trusted_header;    /* external: a user named by auth-user-header grants access */
	time_t embargo_until;   /* nobody gets the full resource before this; 0 = no embargo */
	int degraded;           /* others get at most this long side (px); 0 = nothing at all */
	char *degraded_label;
	bool broken;            /* the access.yml has errors: nobody is admitted */
	int refs;               /* references held (auth/state.c); starts at 1 */
	/*
	 * owned: the policy of one kind of resource when access.yml gives it (realm "books#text"),
	 * else NULL (this one applies). A kind's policy belongs to its parent: references to it
	 * are references to the parent.
	 */
	struct auth_policy *for_kind[AUTH_RES_COUNT];
	struct auth_policy *parent; /* borrowed; set on a kind's policy */
};

/* The policy that governs resources of kind r under p (p itself unless access.yml says). */
struct auth_policy *auth_policy_kind(struct auth_policy *p, enum auth_resource r);

/* The access.yml key of a kind ("media", "text", "downloads"; "" for images). */
const char *auth_resource_name(enum auth_resource r);

void auth_policy_free(struct auth_policy *p);

/*
 * Reads the access.yml at path (realm as above). NULL when the file has errors: they go to
 * problems with their lines, and the caller must then deny access (a broken policy never opens
 * a folder).
 */
struct auth_policy *auth_policy_load(const char *path, const char *realm,
				     struct sidecar_problems *problems);

/* The keys of an access.yml (NULL-terminated), for files that hold access.yml settings too. */
extern const char *const auth_policy_keys[];

struct sidecar_yaml;
/*
 * The policy the settings in map give the folder realm (map's keys checked by the caller). Its
 * problems go to y; the caller frees the policy and denies access when any were found. NULL
 * (with a problem) when out of memory or realm is too long.
 */
struct auth_policy *auth_policy_read_map(struct sidecar_yaml *y, yaml_node_t *map,
					 const char *realm);

/* What a request presents: the cookie's or token's claims plus ambient aspects. */
struct auth_presented {
	const struct auth_claims *claims; /* verified, or NULL */
	const char *address;              /* client address (numeric) */
	const char *header_user;          /* user named by a trusted proxy's header, or NULL */
	const char *header_roles;         /* its roles (comma-separated), or NULL */
};

enum auth_access { AUTH_FULL, AUTH_DEGRADED, AUTH_DENIED };

/* The decision: the full resource, the degraded tier, or nothing. p NULL means public. */
enum auth_access auth_policy_decide(const struct auth_policy *p, const struct auth_presented *who,
				    time_t now);

/* Whether p lets everyone in at now: public, not broken, no embargo in force. */
bool auth_policy_is_open(const struct auth_policy *p, time_t now);

/* Whether who passes p's own test (login, terms, kiosk, external), embargo aside. */
bool auth_policy_admits(const struct auth_policy *p, const struct auth_presented *who);

/* Whether any role in have (comma-separated) is in want (comma-separated; "" = any). */
bool auth_roles_match(const char *want, const char *have);

#endif
