/*
 * access_file.h: the file the access-file setting names: access.yml settings for the root at
 * its top and, under `folders:`, access.yml settings for folders below the root, each as if
 * that folder held them in an access.yml (docs/access.md). Read at start and on each reload.
 */
#ifndef IIIFD_AUTH_ACCESS_FILE_H
#define IIIFD_AUTH_ACCESS_FILE_H

#include <stddef.h>

#include "auth/policy.h"

/* The policies of one reading of the file. Owns them (one reference each). */
struct auth_access_file;

/*
 * Reads the file at path. NULL when it is missing or has any problem (they go to problems with
 * their lines): a broken file is never half applied.
 */
struct auth_access_file *auth_access_file_load(const char *path,
					       struct sidecar_problems *problems);
void auth_access_file_free(struct auth_access_file *f);

/* The policy the file gives the folder rel ("" = the root; no slashes at the ends), borrowed
 * from f; NULL when it gives none. */
struct auth_policy *auth_access_file_policy(const struct auth_access_file *f, const char *rel);

/* The folders the file gives a policy ("" for the root among them), in f's order; borrowed. */
size_t auth_access_file_count(const struct auth_access_file *f);
const char *auth_access_file_folder(const struct auth_access_file *f, size_t i);

#endif
