/*
 * cli.h: what the one-shot commands (convert, tiles) share: flag parsing with the same
 * `--key value` / `--key=value` rules as `serve`, whole numbers in a range, libvips start-up.
 */
#ifndef IIIFD_TOOLS_CLI_H
#define IIIFD_TOOLS_CLI_H

#include <stdbool.h>

#include "core/error.h"
#include "image/source.h"

/*
 * One flag a command takes; the parser stores a pointer into argv (borrowed) in *value, or, for
 * a switch (value NULL, on set), sets *on: a switch takes no value.
 */
struct tools_cli_flag {
	const char *name; /* without the leading "--" */
	const char **value;
	bool *on;
};

/*
 * Splits argv (the arguments after the command name) into the flags listed in flags (ending
 * with a { NULL } entry) and exactly npos positional arguments, stored in pos[0..npos-1].
 * Flags may come anywhere; "--" ends them. Returns 0, 1 for -h/--help, or -1 with a usage
 * message in err (unknown flag, missing value, wrong number of positional arguments).
 */
int tools_cli_parse(int argc, char **argv, const struct tools_cli_flag *flags, const char **pos,
		    int npos, struct iiifd_error *err);

/*
 * For commands that take the server's settings (--config, --root, ...) plus arguments of their
 * own: copies every "--key value" / "--key=value" into settings (for iiifd_config_parse_args)
 * and every other word into positional. A flag named switch_name (may be NULL) takes no value
 * and sets *switch_on instead. Arrays must hold argc entries.
 */
void tools_cli_split_settings(int argc, char **argv, char **settings, int *nsettings,
			      char **positional, int *npositional, const char *switch_name,
			      bool *switch_on);

/*
 * Removes every "--NAME" before a "--" from argv (shifting the rest down, *argc updated) and
 * returns whether there was one: for a switch like --quiet in commands whose other arguments
 * are parsed by someone else (the server's settings).
 */
bool tools_cli_take_switch(int *argc, char **argv, const char *name);

/*
 * Removes every "--NAME VALUE" / "--NAME=VALUE" before a "--" from argv like
 * tools_cli_take_switch() and returns the last VALUE (borrowed from argv), NULL when absent;
 * *missing is set when the flag is last and has no value.
 */
const char *tools_cli_take_value(int *argc, char **argv, const char *name, bool *missing);

/* Parses text as a whole number in [min, max] for flag name; -1 with a message otherwise. */
int tools_cli_int(const char *name, const char *text, int min, int max, int *out,
		  struct iiifd_error *err);

/*
 * Probes path like the server does (same loaders, first page) with errors for a person:
 * "PATH: No such file or directory", "PATH: not an image iiifd can read". Release src with
 * image_source_release() on success.
 */
int tools_cli_open_source(const char *path, struct image_source *src, struct iiifd_error *err);

/*
 * Starts libvips for a one-shot command (no operation cache: every call is different).
 * Returns 0, or -1 after printing why to stderr. Pair with tools_cli_vips_stop().
 */
int tools_cli_vips_start(const char *command);
void tools_cli_vips_stop(void);

struct iiifd_config;

/*
 * For commands that read a ROOT the way `serve` opens it (a folder or a bucket prefix): the one
 * positional word as the root, and the server's settings (--config, --public-url, --s3-endpoint
 * ...) into cfg (initialised by the caller). Take the command's own flags out of argv first
 * (tools_cli_take_switch, tools_cli_take_value). -1 with a message in err.
 */
int tools_cli_root_settings(int argc, char **argv, struct iiifd_config *cfg,
			    struct iiifd_error *err);

#endif
