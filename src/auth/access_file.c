/*
 * access_file.c: the access-file setting's file read through the sidecar YAML layer (limits,
 * problems by line): the root's settings at the top (optional when `folders:` is given) and one
 * access.yml mapping per folder under `folders:`.
 */
#include "auth/access_file.h"

#include <glib.h>
#include <string.h>

#include "auth/state.h"
#include "presentation/sidecar_yaml.h"

struct auth_access_file {
	GHashTable *policies; /* folder (owned) -> policy (one reference held) */
	GPtrArray *folders;   /* the table's keys, borrowed, in the file's order */
};

static struct auth_access_file *access_file_new(void)
{
	struct auth_access_file *f = g_new0(struct auth_access_file, 1);
	f->policies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)auth_policy_put);
	f->folders = g_ptr_array_new();
	return f;
}

void auth_access_file_free(struct auth_access_file *f)
{
	if (!f)
		return;
	g_ptr_array_unref(f->folders);
	g_hash_table_unref(f->policies);
	g_free(f);
}

/* The settings in map as folder's policy; problems go to y. */
static void access_file_add(struct auth_access_file *f, struct sidecar_yaml *y, yaml_node_t *map,
			    const char *folder)
{
	struct auth_policy *p = auth_policy_read_map(y, map, folder);
	if (!p)
		return;
	char *key = g_strdup(folder);
	g_hash_table_insert(f->policies, key, p);
	g_ptr_array_add(f->folders, key);
}

/* A folder below the root as access.yml's realm names it: "books/rare", no empty or dot parts. */
static bool access_file_folder_ok(const char *folder)
{
	if (!*folder)
		return false;
	gchar **parts = g_strsplit(folder, "/", -1);
	bool ok = true;
	for (int i = 0; ok && parts[i]; i++)
		ok = *parts[i] && strcmp(parts[i], ".") != 0 && strcmp(parts[i], "..") != 0;
	g_strfreev(parts);
	return ok;
}

/* folders: { "books/rare": {policy: ...}, ... } */
static void access_file_read_folders(struct auth_access_file *f, struct sidecar_yaml *y,
				     yaml_node_t *folders)
{
	if (!sidecar_yaml_expect(y, folders, YAML_MAPPING_NODE, "folders",
				 "a mapping of folder: settings"))
		return;
	for (yaml_node_pair_t *pair = folders->data.mapping.pairs.start;
	     pair < folders->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, pair->key);
		yaml_node_t *v = sidecar_yaml_node(y, pair->value);
		const char *folder = sidecar_yaml_key(y, pair);
		if (!v)
			return; /* the work budget is spent */
		if (!folder)
			sidecar_yaml_expected(y, k, "folders", "a folder as the key");
		else if (!access_file_folder_ok(folder))
			sidecar_yaml_expected(y, k, "folders", "a folder below the root, like "
							       "books/rare (no / at the ends, no . or ..)");
		else if (g_hash_table_contains(f->policies, folder))
			sidecar_yaml_problem(y, k, "folders", "'%.60s' is given twice", folder);
		else if (sidecar_yaml_mapping(y, v, folder, "a mapping of access.yml settings",
					      auth_policy_keys))
			access_file_add(f, y, v, folder);
	}
}

/* The top: the root's settings (any key but folders:, or no folders: at all) and folders:. */
static void access_file_read(struct auth_access_file *f, struct sidecar_yaml *y, yaml_node_t *top)
{
	const char *keys[32];
	size_t n = 0;
	yaml_node_t *folders = sidecar_yaml_get(y, top, "folders");
	long pairs = top->data.mapping.pairs.top - top->data.mapping.pairs.start;
	bool root_policy = !folders || pairs > 1;
	for (; root_policy && auth_policy_keys[n] && n < G_N_ELEMENTS(keys) - 2; n++)
		keys[n] = auth_policy_keys[n];
	keys[n++] = "folders";
	keys[n] = NULL;
	sidecar_yaml_check_keys(y, top, "access-file", keys);
	if (root_policy)
		access_file_add(f, y, top, "");
	if (folders)
		access_file_read_folders(f, y, folders);
}

struct auth_access_file *auth_access_file_load(const char *path,
					       struct sidecar_problems *problems)
{
	struct sidecar_yaml y = { .problems = problems };
	struct auth_access_file *f = access_file_new();
	int before = problems->count;
	if (sidecar_yaml_load(&y, path, problems) == 0) {
		yaml_node_t *top = yaml_document_get_root_node(&y.doc);
		if (top && top->type == YAML_MAPPING_NODE)
			access_file_read(f, &y, top);
		else
			sidecar_yaml_add_problem(problems, 0, "expected a mapping of access.yml "
							      "settings");
	} else if (problems->count == before) {
		sidecar_yaml_add_problem(problems, 0, "cannot be read");
	}
	sidecar_yaml_release(&y);
	if (problems->count > before) {
		auth_access_file_free(f);
		return NULL;
	}
	return f;
}

struct auth_policy *auth_access_file_policy(const struct auth_access_file *f, const char *rel)
{
	return f ? g_hash_table_lookup(f->policies, rel) : NULL;
}

size_t auth_access_file_count(const struct auth_access_file *f)
{
	return f ? f->folders->len : 0;
}

const char *auth_access_file_folder(const struct auth_access_file *f, size_t i)
{
	return f->folders->pdata[i];
}
