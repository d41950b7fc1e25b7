/*
 * tree.c: one readdir per folder (plus one per sub-folder, to skip empty ones), never a walk of
 * the whole tree, so a large collection costs only what the request looks at.
 */
#include "presentation/tree.h"

#include <dirent.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/path.h"
#include "image/source.h"
#include "media/probe.h"
#include "presentation/natsort.h"
#include "storage/root.h"

static bool tree_in_list(const char *ext, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(ext, *list) == 0)
			return true;
	return false;
}

enum tree_kind tree_classify(const char *name)
{
	char ext[16];
	path_extension(name, ext, sizeof ext);
	static const char *const companions[] = { "yml", "yaml", "vtt", "xml", "hocr", "json",
						  "csv", "points", "mask", NULL };
	if (tree_in_list(ext, companions))
		return TREE_COMPANION;
	if (tree_in_list(ext, image_source_extensions))
		return TREE_IMAGE;
	if (tree_in_list(ext, media_extensions))
		return TREE_MEDIA;
	return TREE_UNSERVABLE;
}

/* A symlink is followed only while it stays below the root. */
static bool tree_stat_inside(const char *root_real, const char *path, struct stat *st)
{
	char real[PATH_MAX];
	return realpath(path, real) && stat(real, st) == 0 && path_is_within(root_real, real);
}

/* Whether a folder holds anything a listing would show. */
static bool tree_folder_has_content(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	for (struct dirent *e; !found && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		enum tree_kind k = tree_classify(e->d_name);
		found = k == TREE_IMAGE || k == TREE_MEDIA || e->d_type == DT_DIR ||
			e->d_type == DT_LNK || e->d_type == DT_UNKNOWN;
	}
	closedir(d);
	return found;
}

static int tree_entry_compare(const void *a, const void *b)
{
	return natsort_compare(((const struct tree_entry *)a)->name,
			       ((const struct tree_entry *)b)->name);
}

static int tree_name_compare(const void *a, const void *b)
{
	return natsort_compare(*(char *const *)a, *(char *const *)b);
}

static int tree_push_name(char ***names, size_t *count, const char *name)
{
	char **grown = realloc(*names, sizeof *grown * (*count + 1));
	if (!grown)
		return -1;
	*names = grown;
	if (!(grown[*count] = strdup(name)))
		return -1;
	(*count)++;
	return 0;
}

static int tree_push(struct tree_listing *l, size_t *cap, const char *name, enum tree_kind kind)
{
	if (kind == TREE_UNSERVABLE)
		return tree_push_name(&l->unservable, &l->unservable_count, name);
	if (kind == TREE_COMPANION)
		return tree_push_name(&l->companions, &l->companion_count, name);
	if (l->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct tree_entry *e = realloc(l->entries, sizeof *e * ncap);
		if (!e)
			return -1;
		l->entries = e;
		*cap = ncap;
	}
	l->entries[l->count].kind = kind;
	if (!(l->entries[l->count].name = strdup(name)))
		return -1;
	l->count++;
	l->has_subfolders |= kind == TREE_FOLDER;
	return 0;
}

/*
 * Classifies one directory entry. Plain files and folders are inside the root by construction;
 * only symlinks (and file systems that do not report types) need the realpath check.
 */
static int tree_add(const char *root_real, const char *dir, const struct dirent *e,
		    struct tree_listing *l, size_t *cap)
{
	char path[PATH_MAX];
	struct stat st;
	const char *name = e->d_name;
	if (name[0] == '.' || (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return 0;
	bool is_dir = e->d_type == DT_DIR, is_file = e->d_type == DT_REG;
	if (!is_dir && !is_file) {
		if (!tree_stat_inside(root_real, path, &st))
			return 0;
		is_dir = S_ISDIR(st.st_mode);
		is_file = S_ISREG(st.st_mode);
	}
	if (is_dir)
		return tree_folder_has_content(path) ? tree_push(l, cap, name, TREE_FOLDER) : 0;
	return is_file ? tree_push(l, cap, name, tree_classify(name)) : 0;
}

/* storage_list() itself: listings cached by storage/root.c for its TTL. */
static int tree_storage_list(void *ctx, const char *location, struct storage_listing *out,
			     struct iiifd_error *err)
{
	(void)ctx;
	return storage_list(location, 0, out, err);
}

/* tree_folder_has_content() for a folder of a remote root. */
static bool tree_remote_has_content(const char *dir, tree_lister_fn list, void *ctx)
{
	struct storage_listing l;
	if (list(ctx, dir, &l, NULL) < 0)
		return false;
	bool found = false;
	for (size_t i = 0; !found && i < l.count; i++) {
		enum tree_kind k = tree_classify(l.entries[i].name);
		found = l.entries[i].st.is_dir || k == TREE_IMAGE || k == TREE_MEDIA;
	}
	storage_listing_release(&l);
	return found;
}

/* The entries of a folder of a remote root: one listing of it and one of each sub-folder. */
static int tree_list_remote(const char *dir, tree_lister_fn list, void *ctx,
			    struct tree_listing *out, size_t *cap, struct iiifd_error *err)
{
	struct storage_listing l;
	if (list(ctx, dir, &l, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < l.count; i++) {
		const struct storage_entry *e = &l.entries[i];
		if (!e->st.is_dir) {
			rc = tree_push(out, cap, e->name, tree_classify(e->name));
			continue;
		}
		char *child = g_strdup_printf("%s/%s", dir, e->name);
		if (tree_remote_has_content(child, list, ctx))
			rc = tree_push(out, cap, e->name, TREE_FOLDER);
		g_free(child);
	}
	storage_listing_release(&l);
	return rc < 0 ? iiifd_error_set(err, 500, "out of memory") : 0;
}

/* The entries of a local folder. */
static int tree_list_local(const char *root_real, const char *dir, struct tree_listing *out,
			   size_t *cap, struct iiifd_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return iiifd_error_set(err, 404, "no such folder");
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));)
		rc = tree_add(root_real, dir, e, out, cap);
	closedir(d);
	return rc < 0 ? iiifd_error_set(err, 500, "out of memory") : 0;
}

/* Sorts what was found, as every listing is sorted. */
static void tree_sort(struct tree_listing *out)
{
	if (out->count > 1)
		qsort(out->entries, out->count, sizeof *out->entries, tree_entry_compare);
	if (out->companion_count > 1)
		qsort(out->companions, out->companion_count, sizeof *out->companions,
		      tree_name_compare);
}

int tree_list(const char *root_real, const char *dir, struct tree_listing *out,
	      struct iiifd_error *err)
{
	/* a location with an s3:// (or http(s)://) scheme lies below a remote root (root.h) */
	if (storage_spec_is_remote(dir))
		return tree_list_with(dir, tree_storage_list, NULL, out, err);
	memset(out, 0, sizeof *out);
	size_t cap = 0;
	if (tree_list_local(root_real, dir, out, &cap, err) < 0) {
		tree_listing_release(out);
		return -1;
	}
	tree_sort(out);
	return 0;
}

int tree_list_with(const char *dir, tree_lister_fn list, void *ctx, struct tree_listing *out,
		   struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	size_t cap = 0;
	if (tree_list_remote(dir, list, ctx, out, &cap, err) < 0) {
		tree_listing_release(out);
		return -1;
	}
	tree_sort(out);
	return 0;
}

bool tree_has_companion(const char *root_real, const char *dir, const char *name)
{
	if (storage_spec_is_remote(dir)) { /* the listing is cached by storage/root.c */
		struct tree_listing l;
		bool found = false;
		if (tree_list(root_real, dir, &l, NULL) < 0)
			return false;
		for (size_t i = 0; !found && i < l.companion_count; i++)
			found = strcmp(l.companions[i], name) == 0;
		tree_listing_release(&l);
		return found;
	}
	char path[PATH_MAX];
	struct stat st;
	if (name[0] == '.' || strchr(name, '/') || tree_classify(name) != TREE_COMPANION ||
	    (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
	    lstat(path, &st) < 0)
		return false;
	/* as tree_add(): a plain file, or a symlink that stays below the root */
	return S_ISREG(st.st_mode) || (!S_ISDIR(st.st_mode) && tree_stat_inside(root_real, path, &st) &&
				       S_ISREG(st.st_mode));
}

void tree_listing_release(struct tree_listing *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->entries[i].name);
	for (size_t i = 0; i < l->unservable_count; i++)
		free(l->unservable[i]);
	for (size_t i = 0; i < l->companion_count; i++)
		free(l->companions[i]);
	free(l->entries);
	free(l->unservable);
	free(l->companions);
	memset(l, 0, sizeof *l);
}
