/*
 * load.h: where a map's georeferencing comes from: files next to the image named after it
 * (NAME.georef.json, NAME.points, NAME.gcps.csv, in that order of preference, plus an optional
 * NAME.mask), else the image's own GeoTIFF tags.
 */
#ifndef IIIFD_MAPS_LOAD_H
#define IIIFD_MAPS_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "maps/georef.h"

/* The kinds of georeference files, by name; MAPS_FILE_NONE for anything else. */
enum maps_file_kind { MAPS_FILE_NONE, MAPS_FILE_ANNOTATION, MAPS_FILE_POINTS, MAPS_FILE_CSV,
		      MAPS_FILE_MASK };
enum maps_file_kind maps_file_kind_of(const char *name);

/* The image name stem a georeference file belongs to ("a.b.points" -> "a.b"), or NULL. g_free. */
char *maps_file_stem(const char *name);

/* Parses the georeference file data of kind into g (mask files add to g). 0 or -1 with err. */
int maps_parse_file(enum maps_file_kind kind, const char *data, size_t len, struct maps_georef *g,
		    struct maps_error *err);

/*
 * Loads the georeferencing of image abs (companions: the names of the non-image files of its
 * folder, so no directory is read again). Returns 1 with g filled (g initialised by the caller)
 * and *source set to the file it came from (abs for GeoTIFF tags; g_free), 0 when the image
 * has none, -1 with msg ("file:line: reason", "file: $.path: reason") for a file that cannot be
 * used.
 */
int maps_load(const char *abs, char *const *companions, size_t count, struct maps_georef *g,
	      char **source, char *msg, size_t size);

#endif
