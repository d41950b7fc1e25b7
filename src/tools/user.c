/*
 * user.c: `iiifd user` manages the users file that the login access service checks. The file is
 * the serve setting auth-users (default data-dir/users), so the same --config works for both.
 * Passwords are read from standard input (one line), never from the command line.
 */
#include "tools/user.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/users.h"
#include "core/config.h"
#include "tools/cli.h"

static void user_usage(FILE *out)
{
	fprintf(out,
		"usage: iiifd user add NAME [--roles ROLE,ROLE] [--config FILE] [--auth-users FILE]\n"
		"       iiifd user passwd NAME [--roles ROLE,ROLE] [--config FILE] [--auth-users FILE]\n"
		"       iiifd user remove NAME [--config FILE] [--auth-users FILE]\n"
		"The password is read from standard input (one line). The users file is auth-users,\n"
		"or data-dir/users when that is empty.\n");
}

/* Takes "--roles X" / "--roles=X" out of argv; *roles points into argv. */
static void user_take_roles(int *argc, char **argv, const char **roles)
{
	for (int i = 0; i < *argc; i++) {
		int used = 0;
		if (strcmp(argv[i], "--roles") == 0 && i + 1 < *argc)
			*roles = argv[i + 1], used = 2;
		else if (strncmp(argv[i], "--roles=", 8) == 0)
			*roles = argv[i] + 8, used = 1;
		if (used) {
			memmove(argv + i, argv + i + used, sizeof *argv * (size_t)(*argc - i - used));
			*argc -= used;
			i--;
		}
	}
}

/* One line from standard input, without echo when it is a terminal. */
static int user_read_password(char *out, size_t n)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fprintf(stderr, "password: ");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	char *got = fgets(out, (int)n, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int user_run(const char *verb, const char *name, const char *roles, const char *path)
{
	struct iiifd_error err = { 0 };
	char password[512];
	int rc;
	if (strcmp(verb, "remove") == 0) {
		rc = auth_users_remove(path, name, &err);
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
		if (user_read_password(password, sizeof password) < 0) {
			fprintf(stderr, "iiifd user: no password on standard input\n");
			return 1;
		}
		rc = auth_users_set(path, name, password, roles ? roles : (verb[0] == 'a' ? "" : NULL),
				    verb[0] == 'p', &err);
		memset(password, 0, sizeof password);
	} else {
		user_usage(stderr);
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "iiifd user: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "iiifd user: %s %s in %s\n", name,
		verb[0] == 'r' ? "removed" : verb[0] == 'a' ? "added" : "updated", path);
	return 0;
}

int tools_user_main(int argc, char **argv)
{
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	const char *roles = NULL;
	char **flags = calloc((size_t)argc + 1, sizeof *flags);
	char **words = calloc((size_t)argc + 1, sizeof *words);
	char path[4096];
	int nflags = 0, nwords = 0, rc = 2;
	iiifd_config_init(&cfg);
	user_take_roles(&argc, argv, &roles);
	if (flags && words)
		tools_cli_split_settings(argc, argv, flags, &nflags, words, &nwords, NULL, NULL);
	if (!flags || !words || nwords != 2) {
		user_usage(nwords == 0 ? stdout : stderr);
		rc = nwords == 0 ? 0 : 2;
		goto out;
	}
	if (iiifd_config_parse_args(&cfg, nflags, flags, &err) < 0) {
		fprintf(stderr, "iiifd user: %s\n", err.msg);
		goto out;
	}
	if (*cfg.auth_users)
		snprintf(path, sizeof path, "%s", cfg.auth_users);
	else
		snprintf(path, sizeof path, "%s/users", cfg.data_dir);
	rc = user_run(words[0], words[1], roles, path);
out:
	iiifd_config_release(&cfg);
	free(flags);
	free(words);
	return rc;
}
