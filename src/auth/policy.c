/*
 * policy.c: access.yml read through the sidecar YAML layer (limits, problems by line), and the
 * access decision.
 */
#include "auth/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/client.h"
#include "presentation/sidecar_yaml.h"

const char *const auth_policy_keys[] = {
	"policy", "roles", "label", "heading", "note", "confirm-label", "terms", "addresses",
	"trusted-header", "embargo-until", "degraded", "degraded-label", "media", "text",
	"downloads", NULL,
};
/* a kind's own policy: the same keys but the kinds */
static const char *const policy_kind_keys[] = {
	"policy", "roles", "label", "heading", "note", "confirm-label", "terms", "addresses",
	"trusted-header", "embargo-until", "degraded", "degraded-label", NULL,
};
static const char *const policy_resources[] = { "", "media", "text", "downloads" };

const char *auth_resource_name(enum auth_resource r)
{
	return policy_resources[r];
}

struct auth_policy *auth_policy_kind(struct auth_policy *p, enum auth_resource r)
{
	return p && p->for_kind[r] ? p->for_kind[r] : p;
}
static const char *const policy_kinds[] = { "public", "login", "clickthrough", "kiosk", "external",
					    NULL };

void auth_policy_free(struct auth_policy *p)
{
	if (!p)
		return;
	for (int i = 0; i < AUTH_RES_COUNT; i++)
		auth_policy_free(p->for_kind[i]);
	free(p->roles);
	free(p->label);
	free(p->heading);
	free(p->note);
	free(p->confirm_label);
	free(p->terms);
	free(p->degraded_label);
	http_proxies_free(p->addresses);
	free(p);
}

/* A text value or a list of texts, joined with ", "; NULL after a problem (or when absent). */
static char *policy_list(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	if (!n)
		return NULL;
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = sidecar_yaml_text(y, n, where);
		return s ? strdup(s) : NULL;
	}
	if (!sidecar_yaml_expect(y, n, YAML_SEQUENCE_NODE, where, "a text or a list of texts"))
		return NULL;
	size_t cap = 1024, used = 0;
	char *out = calloc(1, cap);
	for (yaml_node_item_t *it = n->data.sequence.items.start; out && it < n->data.sequence.items.top;
	     it++) {
		const char *s = sidecar_yaml_text(y, sidecar_yaml_node(y, *it), where);
		if (!s || used + strlen(s) + 3 > cap) {
			if (s)
				sidecar_yaml_problem(y, n, where, "the list is too long");
			free(out);
			return NULL;
		}
		used += (size_t)sprintf(out + used, "%s%s", used ? ", " : "", s);
	}
	return out;
}

static char *policy_text(struct sidecar_yaml *y, yaml_node_t *map, const char *key,
			 const char *def)
{
	yaml_node_t *n = sidecar_yaml_get(y, map, key);
	const char *s = n ? sidecar_yaml_text(y, n, key) : NULL;
	return strdup(s ? s : def);
}

/* "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDThh:mm:ssZ". */
static bool policy_date(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end, "T%H:%M:%SZ", &tm);
	if (!end || *end)
		return false;
	*out = timegm(&tm);
	return true;
}

static void policy_defaults(struct auth_policy *p, struct sidecar_yaml *y, yaml_node_t *map)
{
	static const char *const labels[] = { "Open access", "Log in", "Terms of use",
					      "On-site access", "Access from the institution" };
	static const char *const notes[] = {
		"", "This material is for registered users: please log in.",
		"Please read and accept the terms of use to see this material.",
		"This material can be seen on site only.",
		"This material can be seen from the institution's network only.",
	};
	p->label = policy_text(y, map, "label", labels[p->kind]);
	p->heading = policy_text(y, map, "heading", p->kind == AUTH_PUBLIC ? "" : "Restricted material");
	p->note = policy_text(y, map, "note", notes[p->kind]);
	p->confirm_label = policy_text(y, map, "confirm-label",
				       p->kind == AUTH_CLICKTHROUGH ? "I agree" : "Log in");
	p->terms = policy_text(y, map, "terms", "");
	p->degraded_label = policy_text(y, map, "degraded-label", "Reduced size");
}

static void policy_read(struct auth_policy *p, struct sidecar_yaml *y, yaml_node_t *map)
{
	yaml_node_t *n = sidecar_yaml_get(y, map, "policy");
	const char *kind = n ? sidecar_yaml_text(y, n, "policy") : NULL;
	if (!kind && !n) /* at the line of the settings that lack it */
		sidecar_yaml_problem(y, map, "policy", "missing: one of public, login, clickthrough, "
						       "kiosk, external");
	for (int i = 0; kind && policy_kinds[i]; i++)
		if (strcmp(kind, policy_kinds[i]) == 0)
			p->kind = (enum auth_kind)i, kind = NULL;
	if (kind)
		sidecar_yaml_expected(y, n, "policy", "one of public, login, clickthrough, kiosk, "
						      "external");
	char *roles = policy_list(y, sidecar_yaml_get(y, map, "roles"), "roles");
	p->roles = roles ? roles : strdup("");
	char *addresses = policy_list(y, sidecar_yaml_get(y, map, "addresses"), "addresses");
	struct iiifd_error err = { 0 };
	if (addresses && !(p->addresses = http_proxies_parse(addresses, &err)))
		sidecar_yaml_problem(y, sidecar_yaml_get(y, map, "addresses"), "addresses", "%s",
				     err.msg);
	free(addresses);
	if ((p->kind == AUTH_KIOSK) && !p->addresses)
		sidecar_yaml_problem(y, map, "addresses", "a kiosk policy needs addresses");
	n = sidecar_yaml_get(y, map, "trusted-header");
	const char *th = n ? sidecar_yaml_text(y, n, "trusted-header") : NULL;
	p->trusted_header = th && strcmp(th, "true") == 0;
	if (p->kind == AUTH_EXTERNAL && !p->addresses && !p->trusted_header)
		sidecar_yaml_problem(y, map, "policy", "an external policy needs addresses or "
						       "trusted-header: true");
	n = sidecar_yaml_get(y, map, "embargo-until");
	const char *date = n ? sidecar_yaml_text(y, n, "embargo-until") : NULL;
	if (date && !policy_date(date, &p->embargo_until))
		sidecar_yaml_expected(y, n, "embargo-until", "a date YYYY-MM-DD");
	n = sidecar_yaml_get(y, map, "degraded");
	double v = 0;
	json_t *num = n ? sidecar_yaml_number(y, n, "degraded", &v) : NULL;
	if (num && (v < 16 || v > 100000 || v != (int)v))
		sidecar_yaml_expected(y, n, "degraded", "a long side in pixels, 16 to 100000");
	else if (num)
		p->degraded = (int)v;
	json_decref(num);
	policy_defaults(p, y, map);
}

/* media:, text:, downloads: each a policy of its own for that kind of resource. */
static void policy_read_kinds(struct auth_policy *p, struct sidecar_yaml *y, yaml_node_t *map)
{
	for (int r = AUTH_RES_MEDIA; r < AUTH_RES_COUNT; r++) {
		yaml_node_t *n = sidecar_yaml_get(y, map, policy_resources[r]);
		if (!n || !sidecar_yaml_mapping(y, n, policy_resources[r],
						"a mapping of settings (like the file's own)",
						policy_kind_keys))
			continue;
		struct auth_policy *k = calloc(1, sizeof *k);
		if (!k)
			continue;
		int w = snprintf(k->realm, sizeof k->realm, "%s#%s", p->realm, policy_resources[r]);
		if (w < 0 || (size_t)w >= sizeof k->realm)
			sidecar_yaml_problem(y, n, policy_resources[r], "the folder's path is too long "
									 "for a policy of its own");
		k->parent = p;
		policy_read(k, y, n);
		p->for_kind[r] = k;
	}
}

struct auth_policy *auth_policy_read_map(struct sidecar_yaml *y, yaml_node_t *map,
					 const char *realm)
{
	struct auth_policy *p = calloc(1, sizeof *p);
	if (!p)
		return sidecar_yaml_problem(y, map, "policy", "out of memory"), NULL;
	if (strlen(realm) >= sizeof p->realm) {
		sidecar_yaml_problem(y, map, "policy", "the folder's path is too long (at most %zu "
				     "bytes)", sizeof p->realm - 1);
		free(p);
		return NULL;
	}
	strcpy(p->realm, realm);
	p->refs = 1;
	policy_read(p, y, map);
	policy_read_kinds(p, y, map);
	return p;
}

struct auth_policy *auth_policy_load(const char *path, const char *realm,
				     struct sidecar_problems *problems)
{
	struct sidecar_yaml y = { .problems = problems };
	struct auth_policy *p = NULL;
	int before = problems->count;
	if (strlen(realm) >= sizeof p->realm || sidecar_yaml_load(&y, path, problems) < 0) {
		sidecar_yaml_release(&y);
		return NULL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&y.doc);
	if (sidecar_yaml_mapping(&y, root, "access.yml", "a mapping of settings", auth_policy_keys))
		p = auth_policy_read_map(&y, root, realm);
	else
		sidecar_yaml_add_problem(problems, 0, "access.yml: expected a mapping");
	sidecar_yaml_release(&y);
	if (problems->count > before) {
		auth_policy_free(p);
		return NULL;
	}
	return p;
}

bool auth_roles_match(const char *want, const char *have)
{
	if (!want || !*want)
		return true;
	for (const char *w = want; *w;) {
		w += strspn(w, ", ");
		size_t wl = strcspn(w, ", ");
		for (const char *h = have ? have : ""; wl && *h;) {
			h += strspn(h, ", ");
			size_t hl = strcspn(h, ", ");
			if (hl == wl && strncmp(w, h, wl) == 0)
				return true;
			h += hl;
		}
		w += wl;
	}
	return false;
}

bool auth_policy_admits(const struct auth_policy *p, const struct auth_presented *who)
{
	const struct auth_claims *c = who->claims;
	bool in_range = p->addresses && who->address &&
			http_proxies_contains(p->addresses, who->address);
	switch (p->kind) {
	case AUTH_PUBLIC:
		return true;
	case AUTH_LOGIN:
		if (who->header_user && *who->header_user &&
		    auth_roles_match(p->roles, who->header_roles))
			return true;
		return c && c->user[0] && auth_roles_match(p->roles, c->roles);
	case AUTH_CLICKTHROUGH:
		return c && auth_claims_has_grant(c, p->realm);
	case AUTH_KIOSK:
		return in_range || (c && auth_claims_has_grant(c, p->realm));
	case AUTH_EXTERNAL:
		return in_range || (p->trusted_header && who->header_user && *who->header_user &&
				    auth_roles_match(p->roles, who->header_roles));
	}
	return false;
}

bool auth_policy_is_open(const struct auth_policy *p, time_t now)
{
	return !p || (p->kind == AUTH_PUBLIC && !p->broken &&
		      !(p->embargo_until && now < p->embargo_until));
}

enum auth_access auth_policy_decide(const struct auth_policy *p, const struct auth_presented *who,
				    time_t now)
{
	if (!p)
		return AUTH_FULL;
	if (p->broken)
		return AUTH_DENIED;
	bool embargoed = p->embargo_until && now < p->embargo_until;
	if (!embargoed && auth_policy_admits(p, who))
		return AUTH_FULL;
	return p->degraded > 0 ? AUTH_DEGRADED : AUTH_DENIED;
}
