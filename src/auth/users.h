/*
 * users.h: the users file, one "name:hash:role,role" line per user, hash made by crypt(3)
 * (libxcrypt, yescrypt). Lines starting with '#' and blank lines are ignored.
 */
#ifndef IIIFD_AUTH_USERS_H
#define IIIFD_AUTH_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define AUTH_USER_NAME_MAX 63

/* Whether name may be a user name: 1-63 of [A-Za-z0-9._@-]. */
bool auth_user_name_valid(const char *name);

/*
 * Checks name and password against the file at path: true with roles (n bytes) filled when they
 * match. Takes the same time for unknown users as for wrong passwords (a hash is computed either
 * way).
 */
bool auth_users_check(const char *path, const char *name, const char *password, char *roles,
		      size_t n);

/*
 * Adds or replaces (replace = true, the user must exist; false, the user must not) name with a
 * new yescrypt hash of password and roles (NULL keeps the old roles on replace). The file is
 * rewritten whole and renamed into place, mode 0600. -1 with err (file and line named).
 */
int auth_users_set(const char *path, const char *name, const char *password, const char *roles,
		   bool replace, struct iiifd_error *err);

/* Removes name; -1 with err (404 when there is no such user). */
int auth_users_remove(const char *path, const char *name, struct iiifd_error *err);

#endif
