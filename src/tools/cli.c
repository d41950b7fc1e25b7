/*
 * cli.c: argument splitting and libvips start-up for the one-shot commands. Kept apart from
 * config.c because these flags are per command, not server settings.
 */
#include "tools/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <vips/vips.h>
#include <vips/vector.h> /* after vips.h, which it needs */

#include "core/config.h"

static const struct tools_cli_flag *cli_find(const struct tools_cli_flag *flags, const char *name,
					     size_t len)
{
	for (; flags->name; flags++)
		if (strlen(flags->name) == len && strncmp(flags->name, name, len) == 0)
			return flags;
	return NULL;
}

/* Handles argv[*i], a "--name" or "--name=value" argument; advances *i past a separate value. */
static int cli_flag(int argc, char **argv, int *i, const struct tools_cli_flag *flags,
		    struct iiifd_error *err)
{
	const char *name = argv[*i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct tools_cli_flag *f = cli_find(flags, name, len);
	if (!f)
		return iiifd_error_set(err, 400, "unknown option '--%.*s'", (int)len, name);
	if (!f->value) {
		if (eq)
			return iiifd_error_set(err, 400, "option '--%s' takes no value", f->name);
		*f->on = true;
		return 0;
	}
	if (eq) {
		*f->value = eq + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return iiifd_error_set(err, 400, "option '--%s' needs a value", f->name);
	*f->value = argv[++*i];
	return 0;
}

int tools_cli_parse(int argc, char **argv, const struct tools_cli_flag *flags, const char **pos,
		    int npos, struct iiifd_error *err)
{
	int n = 0, flags_done = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!flags_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0))
			return 1;
		if (!flags_done && strcmp(a, "--") == 0) {
			flags_done = 1;
		} else if (!flags_done && a[0] == '-' && a[1] == '-') {
			if (cli_flag(argc, argv, &i, flags, err) < 0)
				return -1;
		} else if (!flags_done && a[0] == '-' && a[1] != '\0') {
			return iiifd_error_set(err, 400, "unknown option '%s'", a);
		} else if (n < npos) {
			pos[n++] = a;
		} else {
			return iiifd_error_set(err, 400, "unexpected argument '%s'", a);
		}
	}
	if (n < npos)
		return iiifd_error_set(err, 400, "expected %d arguments, got %d", npos, n);
	return 0;
}

bool tools_cli_take_switch(int *argc, char **argv, const char *name)
{
	bool found = false;
	int kept = 0, i = 0;
	for (; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
			found = true;
		else
			argv[kept++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[kept++] = argv[i];
	*argc = kept;
	return found;
}

const char *tools_cli_take_value(int *argc, char **argv, const char *name, bool *missing)
{
	const char *value = NULL;
	size_t len = strlen(name);
	int kept = 0, i = 0;
	*missing = false;
	for (; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, len) != 0) {
			argv[kept++] = argv[i];
		} else if (a[2 + len] == '=') {
			value = a + 3 + len;
		} else if (a[2 + len] != '\0') {
			argv[kept++] = argv[i];
		} else if (i + 1 < *argc) {
			value = argv[++i];
		} else {
			*missing = true;
		}
	}
	for (; i < *argc; i++)
		argv[kept++] = argv[i];
	*argc = kept;
	return value;
}

int tools_cli_int(const char *name, const char *text, int min, int max, int *out,
		  struct iiifd_error *err)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return iiifd_error_set(err, 400, "--%s: '%s' is not a whole number from %d to %d",
				       name, text, min, max);
	*out = (int)v;
	return 0;
}

int tools_cli_open_source(const char *path, struct image_source *src, struct iiifd_error *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return iiifd_error_set(err, 404, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return iiifd_error_set(err, 404, "%s: not a regular file", path);
	if (image_source_open(path, 0, src, err) == 0)
		return 0;
	/* the probe speaks HTTP: 404 there means an extension that is not an image's */
	if (err->http_status == 404 || err->http_status == 415)
		return iiifd_error_set(err, 415, "%s: not an image iiifd can read", path);
	char why[sizeof err->msg];
	snprintf(why, sizeof why, "%s", err->msg);
	return iiifd_error_set(err, 500, "%s: %s", path, why);
}

int tools_cli_vips_start(const char *command)
{
	if (VIPS_INIT("iiifd")) {
		fprintf(stderr, "iiifd %s: libvips failed to start: %s\n", command,
			vips_error_buffer());
		return -1;
	}
	vips_cache_set_max(0); /* every operation is different; caching them only costs memory */
	vips_vector_set_enabled(FALSE); /* liborc can crash freeing code from several threads */
	return 0;
}

void tools_cli_vips_stop(void)
{
	vips_shutdown();
}

void tools_cli_split_settings(int argc, char **argv, char **settings, int *nsettings,
			      char **positional, int *npositional, const char *switch_name,
			      bool *switch_on)
{
	*nsettings = *npositional = 0;
	for (int i = 0; i < argc; i++) {
		if (switch_name && strncmp(argv[i], "--", 2) == 0 &&
		    strcmp(argv[i] + 2, switch_name) == 0) {
			*switch_on = true;
		} else if (strncmp(argv[i], "--", 2) == 0) {
			settings[(*nsettings)++] = argv[i];
			if (!strchr(argv[i], '=') && i + 1 < argc)
				settings[(*nsettings)++] = argv[++i];
		} else {
			positional[(*npositional)++] = argv[i];
		}
	}
}

int tools_cli_root_settings(int argc, char **argv, struct iiifd_config *cfg,
			    struct iiifd_error *err)
{
	char **flags = calloc((size_t)argc + 2, sizeof *flags);
	char **words = calloc((size_t)argc + 1, sizeof *words);
	int nflags = 0, nwords = 0, rc = -1;
	if (!flags || !words) {
		iiifd_error_set(err, 500, "out of memory");
	} else {
		tools_cli_split_settings(argc, argv, flags, &nflags, words, &nwords, NULL, NULL);
		if (nwords != 1) {
			iiifd_error_set(err, 400, "one ROOT is needed");
		} else {
			flags[nflags++] = words[0]; /* the positional ROOT, as serve takes it */
			rc = iiifd_config_parse_args(cfg, nflags, flags, err);
		}
	}
	free(flags);
	free(words);
	return rc < 0 ? -1 : 0;
}
