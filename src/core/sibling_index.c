/*
 * sibling_index.c: per folder (and extension list), base name -> its single "base.EXT" entry,
 * read with one readdir and kept while the folder's mtime is the one it was read at (adding,
 * removing or renaming an entry changes it). A book of 1,000 pages imported page by page would
 * otherwise read its 2,000-entry folder once per page. Bounded: cleared when full.
 */
#include "core/sibling_index.h"

#include <dirent.h>
#include <glib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "core/path.h"

#define SIBLING_FOLDERS_MAX 64

struct sibling_folder {
	struct timespec mtime;
	GHashTable *bases; /* base -> its entry's name, or "" when several entries have that base */
};

static pthread_mutex_t sibling_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *sibling_folders; /* "extensions pointer|dir" -> struct sibling_folder */

bool mtime_settled(struct timespec t)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec - t.tv_sec >= 2;
}

static void sibling_folder_free(gpointer p)
{
	struct sibling_folder *f = p;
	g_hash_table_destroy(f->bases);
	g_free(f);
}

/* Every "base.EXT" entry of dir by base; NULL when dir cannot be read. */
static GHashTable *sibling_read(const char *dir, const char *const *extensions)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	GHashTable *bases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (struct dirent *e; (e = readdir(d));) {
		const char *dot = strchr(e->d_name, '.');
		if (!dot || dot == e->d_name || strchr(dot + 1, '.') ||
		    !path_has_extension(e->d_name, extensions))
			continue;
		char *base = g_strndup(e->d_name, (gsize)(dot - e->d_name));
		bool twice = g_hash_table_contains(bases, base);
		g_hash_table_replace(bases, base, g_strdup(twice ? "" : e->d_name));
	}
	closedir(d);
	return bases;
}

static int sibling_answer(GHashTable *bases, const char *base, char *match, size_t n)
{
	const char *name = g_hash_table_lookup(bases, base);
	if (!name || !*name || strlen(name) >= n)
		return 0;
	memcpy(match, name, strlen(name) + 1);
	return 1;
}

/* The remembered answer for key, if the folder still has mtime: 1, 0, or -2 (not known). */
static int sibling_known(const char *key, struct timespec mtime, const char *base, char *match,
			 size_t n)
{
	pthread_mutex_lock(&sibling_lock);
	const struct sibling_folder *f = sibling_folders ? g_hash_table_lookup(sibling_folders, key)
						       : NULL;
	int rc = f && f->mtime.tv_sec == mtime.tv_sec && f->mtime.tv_nsec == mtime.tv_nsec
		 ? sibling_answer(f->bases, base, match, n)
		 : -2;
	pthread_mutex_unlock(&sibling_lock);
	return rc;
}

static void sibling_remember(char *key, struct timespec mtime, GHashTable *bases)
{
	pthread_mutex_lock(&sibling_lock);
	if (!sibling_folders)
		sibling_folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							sibling_folder_free);
	if (g_hash_table_size(sibling_folders) >= SIBLING_FOLDERS_MAX)
		g_hash_table_remove_all(sibling_folders);
	struct sibling_folder *f = g_new(struct sibling_folder, 1);
	*f = (struct sibling_folder){ mtime, bases };
	g_hash_table_replace(sibling_folders, key, f);
	pthread_mutex_unlock(&sibling_lock);
}

int sibling_find(const char *dir, const char *base, const char *const *extensions, char *match,
		 size_t n)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return -1;
	char *key = g_strdup_printf("%p|%s", (const void *)extensions, dir);
	int rc = sibling_known(key, st.st_mtim, base, match, n);
	if (rc != -2) {
		g_free(key);
		return rc;
	}
	GHashTable *bases = sibling_read(dir, extensions);
	rc = bases ? sibling_answer(bases, base, match, n) : -1;
	if (bases && mtime_settled(st.st_mtim)) {
		sibling_remember(key, st.st_mtim, bases);
		return rc;
	}
	if (bases)
		g_hash_table_destroy(bases);
	g_free(key);
	return rc;
}
