/*
 * load.c: finds and reads a map's georeference files. Files are read whole, capped at
 * MAPS_MAX_INPUT; GeoTIFF tags are only looked for in .tif/.tiff images. What a file holds,
 * georeferencing or none, is kept in maps/cache by the file's version.
 */
#include "maps/load.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "maps/cache.h"
#include "maps/geotiff.h"
#include "storage/root.h"

static const struct {
	const char *suffix;
	enum maps_file_kind kind;
} maps_suffixes[] = { { ".georef.json", MAPS_FILE_ANNOTATION },
		      { ".points", MAPS_FILE_POINTS },
		      { ".gcps.csv", MAPS_FILE_CSV },
		      { ".mask", MAPS_FILE_MASK } };

/* maps_geotiff_read() through the cache: 1, 0 or -1 as it. */
static int maps_load_geotiff(const char *abs, struct maps_georef *g, struct maps_error *err)
{
	char *version = maps_cache_version(abs);
	int rc;
	if (maps_cache_get(abs, version, g)) {
		rc = g->count > 0;
	} else {
		rc = maps_geotiff_read(abs, g, err);
		if (rc >= 0)
			maps_cache_put(abs, version, g);
	}
	g_free(version);
	return rc;
}

enum maps_file_kind maps_file_kind_of(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(maps_suffixes); i++)
		if (g_str_has_suffix(name, maps_suffixes[i].suffix) &&
		    strlen(name) > strlen(maps_suffixes[i].suffix))
			return maps_suffixes[i].kind;
	return MAPS_FILE_NONE;
}

char *maps_file_stem(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(maps_suffixes); i++)
		if (g_str_has_suffix(name, maps_suffixes[i].suffix) &&
		    strlen(name) > strlen(maps_suffixes[i].suffix))
			return g_strndup(name, strlen(name) - strlen(maps_suffixes[i].suffix));
	return NULL;
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

/* Reads and parses one file into g (initialised); -1 with msg naming it. */
static int maps_read_file(const char *path, const char *name, enum maps_file_kind kind,
			  struct maps_georef *g, char *msg, size_t size)
{
	struct storage_stat st;
	char *data = NULL;
	size_t len = 0;
	struct maps_error err = { 0 };
	if (storage_stat(path, &st, NULL) < 0 || st.is_dir || st.size > MAPS_MAX_INPUT) {
		snprintf(msg, size, "%s: not a regular file of at most %d bytes", name,
			 MAPS_MAX_INPUT);
		return -1;
	}
	/* a local file or an object of a remote root (storage/root.h), whole within the bound */
	if (storage_read_file(path, MAPS_MAX_INPUT, &data, &len, NULL) < 0) {
		snprintf(msg, size, "%s: cannot be read", name);
		return -1;
	}
	int rc = maps_parse_file(kind, data, len, g, &err);
	free(data);
	if (rc < 0)
		maps_error_format(&err, name, msg, size);
	return rc;
}

/*
 * One file through the cache; a mask file sets g's mask, the others fill g (empty before).
 * -1 with msg naming the file.
 */
static int maps_load_file(const char *path, const char *name, enum maps_file_kind kind,
			  struct maps_georef *g, char *msg, size_t size)
{
	struct maps_georef got;
	maps_georef_init(&got);
	char *version = maps_cache_version(path);
	int rc = 0;
	if (!maps_cache_get(path, version, &got)) {
		rc = maps_read_file(path, name, kind, &got, msg, size);
		if (rc == 0)
			maps_cache_put(path, version, &got);
	}
	g_free(version);
	if (rc < 0)
		return -1;
	if (kind != MAPS_FILE_MASK) {
		maps_georef_release(g);
		*g = got;
		return 0;
	}
	free(g->mask);
	g->mask = got.mask;
	g->mask_points = got.mask_points;
	got.mask = NULL;
	maps_georef_release(&got);
	return 0;
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
