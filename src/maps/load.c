/*
 * load.c: finds and reads a map's georeference files. Files are read whole, capped at
 * MAPS_MAX_INPUT; GeoTIFF tags are only looked for in .tif/.tiff images, and a TIFF found
 * without them is remembered (by path, size, mtime and inode) so that Manifests of plain TIFFs,
 * built on every request, do not open each file again.
 */
#include "maps/load.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "maps/geotiff.h"

#define MAPS_PLAIN_CACHE_MAX 65536 /* remembered TIFFs without georeferencing; then forgotten */

static GMutex maps_plain_lock;
static GHashTable *maps_plain; /* abs path -> "size:mtime:ino" of a TIFF without georeferencing */

/* The version of the file at path, or NULL when it cannot be stat'ed (g_free). */
static char *maps_file_version(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return NULL;
	return g_strdup_printf("%lld:%lld.%09ld:%llu", (long long)st.st_size,
			       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			       (unsigned long long)st.st_ino);
}

/* Whether path, at this version, is known to have no GeoTIFF georeferencing. */
static bool maps_known_plain(const char *path, const char *version)
{
	g_mutex_lock(&maps_plain_lock);
	const char *seen = maps_plain ? g_hash_table_lookup(maps_plain, path) : NULL;
	bool plain = seen && version && !strcmp(seen, version);
	g_mutex_unlock(&maps_plain_lock);
	return plain;
}

static void maps_remember_plain(const char *path, const char *version)
{
	if (!version)
		return;
	g_mutex_lock(&maps_plain_lock);
	if (!maps_plain)
		maps_plain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (g_hash_table_size(maps_plain) >= MAPS_PLAIN_CACHE_MAX)
		g_hash_table_remove_all(maps_plain);
	g_hash_table_replace(maps_plain, g_strdup(path), g_strdup(version));
	g_mutex_unlock(&maps_plain_lock);
}

/* maps_geotiff_read() unless the file is known to have no georeferencing. */
static int maps_load_geotiff(const char *abs, struct maps_georef *g, struct maps_error *err)
{
	char *version = maps_file_version(abs);
	int rc = 0;
	if (!maps_known_plain(abs, version)) {
		rc = maps_geotiff_read(abs, g, err);
		if (rc == 0)
			maps_remember_plain(abs, version);
	}
	g_free(version);
	return rc;
}

static const struct {
	const char *suffix;
	enum maps_file_kind kind;
} maps_suffixes[] = { { ".georef.json", MAPS_FILE_ANNOTATION },
		      { ".points", MAPS_FILE_POINTS },
		      { ".gcps.csv", MAPS_FILE_CSV },
		      { ".mask", MAPS_FILE_MASK } };

enum maps_file_kind maps_file_kind_of(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(maps_suffixes); i++)
		if (g_str_has_suffix(name, maps_suffixes[i].suffix) &&
		    strlen(name) > strlen(maps_suffixes[i].suffix))
			return maps_suffixes[i].kind;
	return MAPS_FILE_NONE;
}

int maps_parse_file(enum maps_file_kind kind, const char *data, size_t len, struct maps_georef *g,
		    struct maps_error *err)
{
	memset(err, 0, sizeof *err);
	switch (kind) {
	case MAPS_FILE_ANNOTATION:
		return maps_parse_annotation(data, len, g, err);
	case MAPS_FILE_POINTS:
		return maps_parse_points(data, len, g, err);
	case MAPS_FILE_CSV:
		return maps_parse_csv(data, len, g, err);
	case MAPS_FILE_MASK:
		return maps_parse_mask(data, len, g, err);
	default:
		snprintf(err->msg, sizeof err->msg, "not a georeference file");
		return -1;
	}
}

/* Reads and parses one file; -1 with msg naming it. */
static int maps_load_file(const char *path, const char *name, enum maps_file_kind kind,
			  struct maps_georef *g, char *msg, size_t size)
{
	struct stat st;
	char *data = NULL;
	gsize len = 0;
	struct maps_error err = { 0 };
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAPS_MAX_INPUT) {
		snprintf(msg, size, "%s: not a regular file of at most %d bytes", name,
			 MAPS_MAX_INPUT);
		return -1;
	}
	if (!g_file_get_contents(path, &data, &len, NULL)) {
		snprintf(msg, size, "%s: cannot be read", name);
		return -1;
	}
	int rc = maps_parse_file(kind, data, len, g, &err);
	g_free(data);
	if (rc < 0)
		maps_error_format(&err, name, msg, size);
	return rc;
}

static bool maps_listed(char *const *companions, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (!strcmp(companions[i], name))
			return true;
	return false;
}

/* stem.suffix when listed among the companions: its path (g_free), else NULL. */
static char *maps_companion(const char *dir, const char *stem, const char *suffix,
			    char *const *companions, size_t count, char **name)
{
	*name = g_strconcat(stem, suffix, NULL);
	if (maps_listed(companions, count, *name))
		return g_build_filename(dir, *name, NULL);
	g_free(*name);
	*name = NULL;
	return NULL;
}

/* The GCP files next to the image; 1, 0 or -1 as maps_load(). */
static int maps_load_sidecars(const char *dir, const char *stem, char *const *companions,
			      size_t count, struct maps_georef *g, char **source, char *msg,
			      size_t size)
{
	for (size_t i = 0; i < G_N_ELEMENTS(maps_suffixes); i++) {
		if (maps_suffixes[i].kind == MAPS_FILE_MASK)
			continue;
		char *name, *path = maps_companion(dir, stem, maps_suffixes[i].suffix, companions,
						   count, &name);
		if (!path)
			continue;
		int rc = maps_load_file(path, name, maps_suffixes[i].kind, g, msg, size);
		g_free(name);
		if (rc < 0) {
			g_free(path);
			return -1;
		}
		*source = path;
		return 1;
	}
	return 0;
}

int maps_load(const char *abs, char *const *companions, size_t count, struct maps_georef *g,
	      char **source, char *msg, size_t size)
{
	char *dir = g_path_get_dirname(abs), *base = g_path_get_basename(abs);
	char *dot = strrchr(base, '.');
	bool tiff = dot && (!g_ascii_strcasecmp(dot, ".tif") || !g_ascii_strcasecmp(dot, ".tiff"));
	if (dot)
		*dot = '\0';
	*source = NULL;
	int rc = maps_load_sidecars(dir, base, companions, count, g, source, msg, size);
	if (rc == 0 && tiff) {
		struct maps_error err = { 0 };
		rc = maps_load_geotiff(abs, g, &err);
		char *file = g_path_get_basename(abs);
		if (rc < 0)
			maps_error_format(&err, file, msg, size);
		else if (rc > 0)
			*source = g_strdup(abs);
		g_free(file);
	}
	char *name, *mask = rc > 0 && !g->mask ? maps_companion(dir, base, ".mask", companions,
								 count, &name)
					       : NULL;
	if (mask) {
		if (maps_load_file(mask, name, MAPS_FILE_MASK, g, msg, size) < 0) {
			maps_georef_release(g);
			g_free(*source);
			*source = NULL;
			rc = -1;
		}
		g_free(name);
		g_free(mask);
	}
	g_free(dir);
	g_free(base);
	return rc;
}
