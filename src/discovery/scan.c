/*
 * scan.c: the walk behind change detection. Fingerprints hash names, sizes and nanosecond
 * modification times (stat only), so a scan of a large tree costs one stat per file.
 */
#include "discovery/scan.h"

#include <glib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/policy.h"
#include "presentation/context.h"
#include "presentation/tree.h"
#include "storage/root.h"

/* ---- below a remote root: each folder listed once per scan ------------------------------ */

struct scan_listed {
	struct storage_listing listing;
	GHashTable *files; /* name -> its entry in listing (borrowed) */
};

static void scan_listed_free(gpointer p)
{
	struct scan_listed *l = p;
	if (!l)
		return; /* a folder that could not be listed */
	storage_listing_release(&l->listing);
	g_hash_table_destroy(l->files);
	g_free(l);
}

/* The listing of folder location in this scan (NULL: no such folder, or the storage failed). */
static const struct scan_listed *scan_listed(struct discovery_scan *s, const char *location)
{
	if (!s->listings)
		s->listings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						    scan_listed_free);
	struct scan_listed *l;
	if (g_hash_table_lookup_extended(s->listings, location, NULL, (gpointer *)&l))
		return l;
	struct iiifd_error err = { 0 };
	l = g_new0(struct scan_listed, 1);
	if (storage_list(location, 0, &l->listing, &err) < 0) {
		if (err.http_status != 404 && !s->storage_err.http_status)
			iiifd_error_set(&s->storage_err, err.http_status, "listing %.200s: %.200s",
					location, err.msg);
		g_free(l);
		l = NULL;
	} else {
		l->files = g_hash_table_new(g_str_hash, g_str_equal);
		for (size_t i = 0; i < l->listing.count; i++)
			if (!l->listing.entries[i].st.is_dir)
				g_hash_table_insert(l->files, l->listing.entries[i].name,
						    &l->listing.entries[i]);
	}
	g_hash_table_insert(s->listings, g_strdup(location), l);
	return l;
}

/* A tree_lister_fn over scan_listed(): a copy of the listing. */
static int scan_list_copy(void *ctx, const char *location, struct storage_listing *out,
			  struct iiifd_error *err)
{
	const struct scan_listed *l = scan_listed(ctx, location);
	memset(out, 0, sizeof *out);
	if (!l)
		return iiifd_error_set(err, 404, "no such folder");
	out->count = l->listing.count;
	out->entries = g_new(struct storage_entry, out->count ? out->count : 1);
	for (size_t i = 0; i < out->count; i++) {
		out->entries[i] = l->listing.entries[i];
		out->entries[i].name = g_strdup(l->listing.entries[i].name);
	}
	return 0;
}

/* tree_list() for the scan: local folders as always, remote ones from scan_listed(). */
static int scan_tree_list(struct discovery_scan *s, const char *root_real, const char *dir,
			  struct tree_listing *l)
{
	return storage_spec_is_remote(dir) ? tree_list_with(dir, scan_list_copy, s, l, NULL)
					   : tree_list(root_real, dir, l, NULL);
}

/*
 * What is observed of dir/name: "\tSIZE\tMTIME.NSEC\n" of a local file; "\tSIZE\tETAG\n" of an
 * object (its content: a copy elsewhere matches, an upload of the same bytes changes nothing);
 * "\t-\n" when there is none.
 */
static void scan_observe(struct discovery_scan *s, const char *dir, const char *name,
			 char *line, size_t n)
{
	snprintf(line, n, "\t-\n");
	if (storage_spec_is_remote(dir)) {
		const struct scan_listed *l = scan_listed(s, dir);
		const struct storage_entry *e = l ? g_hash_table_lookup(l->files, name) : NULL;
		if (e)
			snprintf(line, n, "\t%lld\t%s\n", (long long)e->st.size, e->st.etag);
		return;
	}
	char *abs = g_build_filename(dir, name, NULL);
	struct stat st;
	if (stat(abs, &st) == 0)
		snprintf(line, n, "\t%lld\t%lld.%09ld\n", (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	g_free(abs);
}

/* Adds "name size mtime" of dir/name to each non-NULL checksum ("name -" when it is gone). */
static void scan_stat_into(struct discovery_scan *s, const char *dir, const char *name,
			   const char *shown, GChecksum *a, GChecksum *b)
{
	char line[160];
	scan_observe(s, dir, name, line, sizeof line);
	for (GChecksum *c = a; c; c = c == a ? b : NULL) {
		g_checksum_update(c, (const guchar *)shown, -1);
		g_checksum_update(c, (const guchar *)line, -1);
	}
}

static void scan_digest(GChecksum *c, char out[DISCOVERY_FP_LEN])
{
	g_strlcpy(out, g_checksum_get_string(c), DISCOVERY_FP_LEN);
	g_checksum_free(c);
}

static struct discovery_resource *scan_push(struct discovery_scan *s, const char *rel,
					    bool collection, bool is_folder)
{
	if (s->count == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->items = g_renew(struct discovery_resource, s->items, s->cap);
	}
	struct discovery_resource *r = &s->items[s->count++];
	*r = (struct discovery_resource){ .path = g_strdup(rel), .collection = collection,
					  .is_folder = is_folder };
	return r;
}

/* The companions of file name: "name.*" and "stem.*" (sidecar, captions, OCR of that file). */
static const char *scan_companion_suffix(const char *name, const char *companion)
{
	size_t n = strlen(name);
	if (strncmp(companion, name, n) == 0 && companion[n] == '.')
		return companion + n;
	const char *dot = strrchr(name, '.');
	size_t stem = dot ? (size_t)(dot - name) : n;
	if (strncmp(companion, name, stem) == 0 && companion[stem] == '.')
		return companion + stem;
	return NULL;
}

/*
 * A Manifest of one file in a Collection folder: its content is the file and its companions,
 * by suffix, so that a renamed file (with its companions) keeps it.
 */
static void scan_file_manifest(struct discovery_scan *s, const char *dir, const char *rel,
			       const struct tree_listing *l, const char *name, GChecksum *parent)
{
	char *crel = pres_join(rel, name);
	struct discovery_resource *r = scan_push(s, crel, false, false);
	GChecksum *content = g_checksum_new(G_CHECKSUM_SHA256);
	scan_stat_into(s, dir, name, "", content, NULL);
	for (size_t i = 0; i < l->companion_count; i++) {
		const char *suffix = scan_companion_suffix(name, l->companions[i]);
		if (suffix)
			scan_stat_into(s, dir, l->companions[i], suffix, content, NULL);
	}
	scan_digest(content, r->content);
	memcpy(r->fingerprint, r->content, DISCOVERY_FP_LEN);
	/* the Collection lists it with a label from "name.yml" */
	g_checksum_update(parent, (const guchar *)"M\t", -1);
	scan_stat_into(s, dir, name, name, parent, NULL);
	char *sidecar = g_strdup_printf("%s.yml", name);
	scan_stat_into(s, dir, sidecar, sidecar, parent, NULL);
	g_free(sidecar);
	g_free(crel);
}

static bool scan_folder(struct discovery_scan *s, const char *root_real, const char *rel,
			char content_out[DISCOVERY_FP_LEN], bool *is_collection);

/* A Manifest of a folder of pages: every file it has, by name. false when it has none. */
static bool scan_folder_manifest(struct discovery_scan *s, const char *abs, const char *rel,
				 const struct tree_listing *l, char content_out[DISCOVERY_FP_LEN])
{
	bool pages = false;
	for (size_t i = 0; i < l->count; i++)
		pages |= l->entries[i].kind == TREE_IMAGE || l->entries[i].kind == TREE_MEDIA;
	if (!pages)
		return false;
	struct discovery_resource *r = scan_push(s, rel, false, true);
	GChecksum *content = g_checksum_new(G_CHECKSUM_SHA256);
	for (size_t i = 0; i < l->count; i++)
		scan_stat_into(s, abs, l->entries[i].name, l->entries[i].name, content, NULL);
	for (size_t i = 0; i < l->companion_count; i++)
		scan_stat_into(s, abs, l->companions[i], l->companions[i], content, NULL);
	scan_digest(content, r->content);
	memcpy(r->fingerprint, r->content, DISCOVERY_FP_LEN);
	memcpy(content_out, r->content, DISCOVERY_FP_LEN);
	return true;
}

/*
 * A Collection: its document shows its own sidecars and its members (name, kind, label sidecar,
 * and a thumbnail from files below each, so the members' content counts too); its content is
 * its sidecars plus every member's name and content, recursively.
 */
static void scan_collection(struct discovery_scan *s, const char *root_real, const char *abs,
			    const char *rel, const struct tree_listing *l,
			    char content_out[DISCOVERY_FP_LEN])
{
	size_t at = s->count;
	scan_push(s, rel, true, true);
	GChecksum *fp = g_checksum_new(G_CHECKSUM_SHA256);
	GChecksum *content = g_checksum_new(G_CHECKSUM_SHA256);
	for (size_t i = 0; i < l->companion_count; i++)
		scan_stat_into(s, abs, l->companions[i], l->companions[i], fp, content);
	for (size_t i = 0; i < l->count; i++) {
		const struct tree_entry *e = &l->entries[i];
		if (e->kind != TREE_FOLDER) {
			scan_file_manifest(s, abs, rel, l, e->name, fp);
			const char *member = s->items[s->count - 1].content;
			g_checksum_update(content, (const guchar *)member, -1);
			g_checksum_update(fp, (const guchar *)member, -1); /* its thumbnail */
			continue;
		}
		char child_content[DISCOVERY_FP_LEN];
		bool child_collection = false;
		char *crel = pres_join(rel, e->name), *cabs = g_build_filename(abs, e->name, NULL);
		if (scan_folder(s, root_real, crel, child_content, &child_collection)) {
			const char *kind = child_collection ? "C\t" : "M\t";
			g_checksum_update(fp, (const guchar *)kind, -1);
			scan_stat_into(s, cabs, child_collection ? "collection.yml" : "manifest.yml",
				       e->name, fp, NULL);
			g_checksum_update(content, (const guchar *)e->name, -1);
			g_checksum_update(content, (const guchar *)child_content, -1);
			/* its thumbnail comes from files below it */
			g_checksum_update(fp, (const guchar *)child_content, -1);
		}
		g_free(crel);
		g_free(cabs);
	}
	struct discovery_resource *r = &s->items[at]; /* items may have moved */
	scan_digest(fp, r->fingerprint);
	scan_digest(content, r->content);
	memcpy(content_out, r->content, DISCOVERY_FP_LEN);
}

/* Adds the resources of folder rel and below; false when rel is no resource at all. */
static bool scan_folder(struct discovery_scan *s, const char *root_real, const char *rel,
			char content_out[DISCOVERY_FP_LEN], bool *is_collection)
{
	char *abs = g_build_filename(root_real, rel, NULL);
	struct tree_listing l;
	bool resource = false;
	if (scan_tree_list(s, root_real, abs, &l) == 0) {
		*is_collection = !*rel || l.has_subfolders;
		if (*is_collection) {
			scan_collection(s, root_real, abs, rel, &l, content_out);
			resource = true;
		} else {
			resource = scan_folder_manifest(s, abs, rel, &l, content_out);
		}
		tree_listing_release(&l);
	}
	g_free(abs);
	return resource;
}

/*
 * "folder size mtime" of the access policy that governs folder rel (the nearest access.yml at or
 * above it, auth/policy.h), or "" when none does; remembered per folder in known (g_free'd).
 */
static const char *scan_policy_of(struct discovery_scan *s, const char *root_real,
				  const char *rel, GHashTable *known)
{
	const char *line = g_hash_table_lookup(known, rel);
	if (line)
		return line;
	char *dir = g_build_filename(root_real, rel, NULL), seen[160];
	char *found = NULL;
	scan_observe(s, dir, AUTH_POLICY_FILE, seen, sizeof seen); /* remote: from the listing */
	if (seen[1] != '-') {
		seen[strcspn(seen, "\n")] = '\0';
		found = g_strdup_printf("%s%s", rel, seen);
	} else if (*rel) {
		char *parent = g_path_get_dirname(rel);
		found = g_strdup(scan_policy_of(s, root_real, strcmp(parent, ".") ? parent : "",
						known));
		g_free(parent);
	}
	g_free(dir);
	g_hash_table_insert(known, g_strdup(rel), found ? found : g_strdup(""));
	return g_hash_table_lookup(known, rel);
}

/*
 * A change of the access policy that governs a resource changes its document (the services it
 * names) and whether a harvester may see what is below it: its fingerprint takes the policy in
 * (not its content, which tells moves apart).
 */
static void scan_mix_policies(const char *root_real, struct discovery_scan *s)
{
	GHashTable *known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (size_t i = 0; i < s->count; i++) {
		struct discovery_resource *r = &s->items[i];
		char *folder = r->is_folder ? g_strdup(r->path) : g_path_get_dirname(r->path);
		const char *policy = scan_policy_of(s, root_real, strcmp(folder, ".") ? folder : "",
						    known);
		if (*policy) {
			GChecksum *fp = g_checksum_new(G_CHECKSUM_SHA256);
			g_checksum_update(fp, (const guchar *)r->fingerprint, -1);
			g_checksum_update(fp, (const guchar *)policy, -1);
			scan_digest(fp, r->fingerprint);
		}
		g_free(folder);
	}
	g_hash_table_destroy(known);
}

int discovery_scan_tree(const char *root_real, struct discovery_scan *out,
			struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	char content[DISCOVERY_FP_LEN];
	bool collection;
	bool found = scan_folder(out, root_real, "", content, &collection);
	if (out->storage_err.http_status) /* not "gone": the storage did not answer */
		return iiifd_error_set(err, out->storage_err.http_status, "%s",
				       out->storage_err.msg);
	if (!found)
		return iiifd_error_set(err, 500, "root '%s' cannot be listed", root_real);
	scan_mix_policies(root_real, out);
	return 0;
}

void discovery_scan_release(struct discovery_scan *s)
{
	if (s->listings)
		g_hash_table_destroy(s->listings);
	for (size_t i = 0; i < s->count; i++)
		g_free(s->items[i].path);
	g_free(s->items);
	memset(s, 0, sizeof *s);
}

const char *discovery_resource_type(const struct discovery_resource *r)
{
	return r->collection ? "Collection" : "Manifest";
}
