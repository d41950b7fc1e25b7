/*
 * path.h: turning an untrusted identifier into a file that is guaranteed to lie below the root.
 * Every file iiifd opens on behalf of a request goes through path_resolve().
 */
#ifndef IIIFD_CORE_PATH_H
#define IIIFD_CORE_PATH_H

#include <stdbool.h>
#include <sys/stat.h>
#include <stddef.h>

#include "core/error.h"

#define PATH_IDENTIFIER_MAX 1024

/*
 * Resolves identifier (percent-decoded, segments separated by '/') below root_real, which must
 * itself be a realpath(). Refuses empty, '.', '..' and hidden segments, control characters,
 * over-long identifiers, and anything whose realpath (symlinks followed) leaves root_real.
 * When no file has exactly that name and the last segment has no extension, a single sibling
 * "name.EXT" with EXT in extensions (NULL-terminated, lower case) is taken instead.
 * Returns 0 and *out = malloc'd absolute path of a regular file (caller frees), or -1 with 404.
 */
int path_resolve(const char *root_real, const char *identifier, const char *const *extensions,
		 char **out, struct iiifd_error *err);
/* path_resolve() that also gives the stat(2) of *out it checked, for a caller that needs one. */
int path_resolve_stat(const char *root_real, const char *identifier,
		      const char *const *extensions, char **out, struct stat *st,
		      struct iiifd_error *err);

/* Like path_resolve() for a folder; rel "" is the root itself. 404 unless it is a folder. */
int path_resolve_folder(const char *root_real, const char *rel, char **out,
			struct iiifd_error *err);

/* Whether identifier passes path_resolve()'s checks on the text alone (no file is looked at). */
bool path_identifier_valid(const char *identifier);

/* Whether real (a realpath) lies below root_real (a realpath); the root itself does not. */
bool path_is_within(const char *root_real, const char *real);

/* Lower-case extension of name without the dot into ext (size n); "" when there is none. */
void path_extension(const char *name, char *ext, size_t n);

/* Whether name's extension (lower-cased) is one of extensions (NULL-terminated, lower case). */
bool path_has_extension(const char *name, const char *const *extensions);

#endif
