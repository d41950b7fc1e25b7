/*
 * scan.c: the folders with an access.yml (scan.h), found by a bounded walk of the root.
 */
#include "auth/scan.h"

#include <dirent.h>
#include <glib.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/gate.h"

#define SCAN_MAX_DEPTH 32
#define SCAN_MAX_FOLDERS 200000

static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *scan_found; /* rel paths (g_free'd) of folders with an access.yml */
static char scan_root[PATH_MAX];
static time_t scan_when;

static void scan_walk(const char *abs, const char *rel, int depth, GPtrArray *out, int *budget)
{
	DIR *d = depth < SCAN_MAX_DEPTH && --*budget > 0 ? opendir(abs) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue; /* hidden, like everywhere else iiifd looks */
		char child[PATH_MAX], child_rel[PATH_MAX];
		snprintf(child, sizeof child, "%s/%s", abs, e->d_name);
		struct stat st;
		if (strcmp(e->d_name, AUTH_POLICY_FILE) == 0) {
			g_ptr_array_add(out, g_strdup(rel));
			continue;
		}
		if (lstat(child, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(child_rel, sizeof child_rel, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		scan_walk(child, child_rel, depth + 1, out, budget);
	}
	if (d)
		closedir(d);
}

/* The current list, remade when stale or for another root. Called with scan_lock held. */
static GPtrArray *scan_current(const char *root)
{
	time_t now = time(NULL);
	if (scan_found && strcmp(scan_root, root) == 0 && now - scan_when < AUTH_SCAN_EVERY_S)
		return scan_found;
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
	int budget = SCAN_MAX_FOLDERS;
	scan_walk(root, "", 0, found, &budget);
	if (scan_found)
		g_ptr_array_unref(scan_found);
	scan_found = found;
	snprintf(scan_root, sizeof scan_root, "%s", root);
	scan_when = now;
	return found;
}

static bool scan_is_below(const char *folder, const char *rel)
{
	size_t n = strlen(rel);
	return n == 0 || (strncmp(folder, rel, n) == 0 && (folder[n] == '\0' || folder[n] == '/'));
}

/* The folders below rel that access-file gives a policy, when no access.yml listed them. */
static void scan_add_config_folders(struct auth_state *a, const char *rel, GPtrArray *candidates)
{
	char **folders = auth_state_config_folders(a);
	for (char **f = folders; *f; f++) {
		bool listed = false;
		for (guint i = 0; i < candidates->len && !listed; i++)
			listed = strcmp(candidates->pdata[i], *f) == 0;
		if (!listed && scan_is_below(*f, rel))
			g_ptr_array_add(candidates, g_strdup(*f));
	}
	g_strfreev(folders);
}

char **auth_scan_denied_below(struct auth_state *a, const char *rel,
			      const struct http_request *req)
{
	if (!a)
		return NULL;
	GPtrArray *candidates = g_ptr_array_new_with_free_func(g_free);
	pthread_mutex_lock(&scan_lock);
	GPtrArray *all = scan_current(auth_state_root(a));
	for (guint i = 0; i < all->len; i++)
		if (scan_is_below(all->pdata[i], rel))
			g_ptr_array_add(candidates, g_strdup(all->pdata[i]));
	pthread_mutex_unlock(&scan_lock);
	scan_add_config_folders(a, rel, candidates);
	GPtrArray *denied = g_ptr_array_new();
	for (guint i = 0; i < candidates->len; i++) {
		char abs[PATH_MAX];
		const char *folder = candidates->pdata[i];
		snprintf(abs, sizeof abs, "%s%s%s", auth_state_root(a), *folder ? "/" : "", folder);
		struct auth_gate g;
		auth_gate_open(a, abs, AUTH_RES_TEXT, req, &g);
		if (g.policy && g.access != AUTH_FULL)
			g_ptr_array_add(denied, g_strdup(folder));
		auth_gate_release(&g);
	}
	g_ptr_array_unref(candidates);
	if (denied->len == 0) {
		g_ptr_array_unref(denied);
		return NULL;
	}
	g_ptr_array_add(denied, NULL);
	return (char **)g_ptr_array_free(denied, FALSE);
}
