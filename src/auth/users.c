/*
 * users.c: the users file (users.h): read line by line, rewritten whole on change.
 */
#include "auth/users.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/token.h"

#define USERS_LINE_MAX 1024
/* the hash checked for unknown users, so that they take as long as known ones */
#define USERS_DUMMY_HASH "$y$j9T$PM1lDt3eBwA5yIJnl5vbN.$jOExmvW.aT7o6xpW0Z8x/DvSCSR.BCG3Ozw8cHqpt/7"

bool auth_user_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > AUTH_USER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._@-", name[i]))
			return false;
	return true;
}

/* Splits "name:hash:roles" in place; false for comments, blank and malformed lines. */
static bool users_split(char *line, char **name, char **hash, char **roles)
{
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0')
		return false;
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2)
		return false;
	*c1 = *c2 = '\0';
	*name = line, *hash = c1 + 1, *roles = c2 + 1;
	return true;
}

static bool users_hash_matches(const char *password, const char *hash)
{
	struct crypt_data *data = calloc(1, sizeof *data);
	if (!data)
		return false;
	const char *got = crypt_r(password, hash, data);
	bool ok = got && got[0] != '*' && auth_equal(got, hash);
	free(data);
	return ok;
}

bool auth_users_check(const char *path, const char *name, const char *password, char *roles,
		      size_t n)
{
	char line[USERS_LINE_MAX], hash[256] = USERS_DUMMY_HASH, found_roles[256] = "";
	bool known = false;
	FILE *f = path && *path ? fopen(path, "r") : NULL;
	while (f && fgets(line, sizeof line, f)) {
		char *u, *h, *r;
		if (!users_split(line, &u, &h, &r) || strcmp(u, name) != 0 || strlen(h) >= sizeof hash)
			continue;
		strcpy(hash, h);
		snprintf(found_roles, sizeof found_roles, "%s", r);
		known = true;
		break;
	}
	if (f)
		fclose(f);
	bool ok = users_hash_matches(password, hash) && known;
	if (ok)
		snprintf(roles, n, "%s", found_roles);
	return ok;
}

static int users_new_hash(const char *password, char *out, size_t n, struct iiifd_error *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt))
		return iiifd_error_set(err, 500, "no yescrypt salt: %s", strerror(errno));
	struct crypt_data *data = calloc(1, sizeof *data);
	const char *h = data ? crypt_r(password, salt, data) : NULL;
	int rc = h && h[0] != '*' && strlen(h) < n ? 0 : -1;
	if (rc == 0)
		strcpy(out, h);
	free(data);
	return rc < 0 ? iiifd_error_set(err, 500, "crypt failed") : 0;
}

static bool users_roles_valid(const char *roles)
{
	for (const char *p = roles; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-,", *p))
			return false;
	return strlen(roles) < 256;
}

/*
 * Copies the file to path.tmp, replacing (or dropping, when line is NULL) the line of name,
 * appending line when name was not there. *found tells whether it was.
 */
static int users_rewrite(const char *path, const char *name, const char *line, bool *found,
			 char *old_roles, struct iiifd_error *err)
{
	char tmp[4096], buf[USERS_LINE_MAX], copy[USERS_LINE_MAX];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *in = fopen(path, "r");
	if (!in && errno != ENOENT)
		return iiifd_error_set(err, 500, "%s: %s", path, strerror(errno));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		if (in)
			fclose(in);
		return iiifd_error_set(err, 500, "%s: %s", tmp, strerror(errno));
	}
	*found = false;
	for (int lineno = 1; in && fgets(buf, sizeof buf, in); lineno++) {
		char *u, *h, *r;
		memcpy(copy, buf, sizeof buf);
		if (users_split(copy, &u, &h, &r) && strcmp(u, name) == 0) {
			*found = true;
			snprintf(old_roles, 256, "%s", r);
			continue;
		}
		fputs(buf, out);
		if (!strchr(buf, '\n'))
			fputc('\n', out);
	}
	if (line && *line)
		fputs(line, out);
	if (in)
		fclose(in);
	if (fclose(out) != 0)
		return unlink(tmp), iiifd_error_set(err, 500, "%s: %s", tmp, strerror(errno));
	return 0;
}

int auth_users_set(const char *path, const char *name, const char *password, const char *roles,
		   bool replace, struct iiifd_error *err)
{
	if (!auth_user_name_valid(name))
		return iiifd_error_set(err, 400, "'%s' is not a user name (1-63 of A-Z a-z 0-9 . _ @ -)",
				       name);
	if (roles && !users_roles_valid(roles))
		return iiifd_error_set(err, 400, "roles are comma-separated names of A-Z a-z 0-9 . _ -");
	if (!password || !*password)
		return iiifd_error_set(err, 400, "the password is empty");
	char hash[256], old_roles[256] = "", line[USERS_LINE_MAX], tmp[4096];
	if (users_new_hash(password, hash, sizeof hash, err) < 0)
		return -1;
	bool found;
	/* first pass learns the old roles; the line is written once they are known */
	if (users_rewrite(path, name, NULL, &found, old_roles, err) < 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (found != replace) {
		unlink(tmp);
		return iiifd_error_set(err, replace ? 404 : 409, "%s: user '%s' %s", path, name,
				       replace ? "does not exist" : "exists already");
	}
	snprintf(line, sizeof line, "%s:%s:%s\n", name, hash, roles ? roles : old_roles);
	if (users_rewrite(path, name, line, &found, old_roles, err) < 0)
		return -1;
	if (rename(tmp, path) < 0)
		return iiifd_error_set(err, 500, "%s: %s", path, strerror(errno));
	return 0;
}

int auth_users_remove(const char *path, const char *name, struct iiifd_error *err)
{
	char old_roles[256], tmp[4096];
	bool found;
	if (users_rewrite(path, name, NULL, &found, old_roles, err) < 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (!found) {
		unlink(tmp);
		return iiifd_error_set(err, 404, "%s: no user '%s'", path, name);
	}
	if (rename(tmp, path) < 0)
		return iiifd_error_set(err, 500, "%s: %s", path, strerror(errno));
	return 0;
}
