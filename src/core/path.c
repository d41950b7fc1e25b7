/*
 * path.c: identifier validation, extension inference and the realpath containment check.
 * Validation happens on the text before any file-system call, so hostile names never reach open().
 */
#include "core/path.h"
#include "core/sibling_index.h"

#include <ctype.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void path_extension(const char *name, char *ext, size_t n)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	size_t i = 0;
	if (dot && dot != base)
		for (dot++; *dot && i + 1 < n; dot++)
			ext[i++] = (char)tolower((unsigned char)*dot);
	if (n)
		ext[i] = '\0';
}

bool path_has_extension(const char *name, const char *const *extensions)
{
	char ext[16];
	path_extension(name, ext, sizeof ext);
	for (; extensions && *extensions; extensions++)
		if (strcmp(ext, *extensions) == 0)
			return true;
	return false;
}

/* Rejects identifiers that could name something outside root, or a hidden file, by text alone. */
static int path_check_text(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > PATH_IDENTIFIER_MAX || id[0] == '/')
		return -1;
	for (const char *p = id; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return -1;
	for (const char *seg = id; seg; ) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || seg[0] == '.' || n > NAME_MAX)
			return -1; /* empty, ".", "..", and hidden names */
		seg = end ? end + 1 : NULL;
	}
	return 0;
}

bool path_identifier_valid(const char *identifier)
{
	return path_check_text(identifier) == 0;
}

bool path_is_within(const char *root_real, const char *real)
{
	size_t n = strlen(root_real);
	if (strcmp(root_real, "/") == 0)
		return 1;
	return strncmp(real, root_real, n) == 0 && real[n] == '/';
}

/* Finds the single "base.EXT" sibling of candidate; writes it into candidate (size PATH_MAX). */
static int path_infer_extension(char *candidate, const char *const *extensions)
{
	char *slash = strrchr(candidate, '/');
	char base[NAME_MAX + 1], match[NAME_MAX + 1];
	snprintf(base, sizeof base, "%s", slash + 1);
	if (strchr(base, '.'))
		return -1;
	*slash = '\0';
	int found = sibling_find(candidate, base, extensions, match, sizeof match);
	*slash = '/';
	if (found != 1)
		return -1;
	snprintf(slash + 1, PATH_MAX - (size_t)(slash + 1 - candidate), "%s", match);
	return 0;
}

int path_resolve_folder(const char *root_real, const char *rel, char **out,
			struct iiifd_error *err)
{
	char candidate[PATH_MAX], real[PATH_MAX];
	struct stat st;
	*out = NULL;
	if (*rel == '\0')
		return (*out = strdup(root_real)) ? 0 : iiifd_error_set(err, 500, "out of memory");
	if (path_check_text(rel) < 0 ||
	    (size_t)snprintf(candidate, sizeof candidate, "%s/%s", root_real, rel) >=
		    sizeof candidate ||
	    !realpath(candidate, real) || !path_is_within(root_real, real) || stat(real, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return iiifd_error_set(err, 404, "no such folder");
	return (*out = strdup(real)) ? 0 : iiifd_error_set(err, 500, "out of memory");
}

int path_resolve(const char *root_real, const char *identifier, const char *const *extensions,
		 char **out, struct iiifd_error *err)
{
	struct stat st;
	return path_resolve_stat(root_real, identifier, extensions, out, &st, err);
}

int path_resolve_stat(const char *root_real, const char *identifier,
		      const char *const *extensions, char **out, struct stat *st,
		      struct iiifd_error *err)
{
	*out = NULL;
	if (path_check_text(identifier) < 0)
		return iiifd_error_set(err, 404, "no image with that identifier");
	char candidate[PATH_MAX];
	if ((size_t)snprintf(candidate, sizeof candidate, "%s/%s", root_real, identifier) >=
	    sizeof candidate)
		return iiifd_error_set(err, 404, "no image with that identifier");
	if (lstat(candidate, st) < 0 && path_infer_extension(candidate, extensions) < 0)
		return iiifd_error_set(err, 404, "no image with that identifier");
	char real[PATH_MAX];
	if (!realpath(candidate, real) || !path_is_within(root_real, real))
		return iiifd_error_set(err, 404, "no image with that identifier");
	if (stat(real, st) < 0 || !S_ISREG(st->st_mode))
		return iiifd_error_set(err, 404, "no image with that identifier");
	*out = strdup(real);
	if (!*out)
		return iiifd_error_set(err, 500, "out of memory");
	return 0;
}
