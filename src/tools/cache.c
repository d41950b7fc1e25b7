/*
 * cache.c: the cache command reads the same settings as `serve` (--config, --cache-dir, --root)
 * so that it finds the folder and identifiers exactly as the server does.
 */
#include "tools/cache.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/path.h"
#include "core/strings.h"
#include "image/derivative_cache.h"
#include "image/source.h"
#include "tools/cli.h"

static void cache_usage(FILE *out)
{
	fprintf(out, "usage: iiifd cache purge [--config FILE] [--cache-dir DIR] [--root ROOT] "
		     "[IDENTIFIER]\n"
		     "  without IDENTIFIER every cached file (rendered images, pyramids, media "
		     "stills) is removed;\n  with it, those of that source image\n");
}

/* The source file an identifier names (a ";N" page suffix is ignored: pages share a folder). */
static int cache_resolve(const struct iiifd_config *cfg, const char *identifier, char **file,
			 struct iiifd_error *err)
{
	char root[PATH_MAX], decoded[PATH_IDENTIFIER_MAX * 3 + 1];
	if (!realpath(cfg->root, root))
		return iiifd_error_set(err, 400, "root '%s' does not exist", cfg->root);
	if (strings_url_decode(identifier, strlen(identifier), decoded, sizeof decoded) < 0)
		return iiifd_error_set(err, 400, "'%s' is not a valid identifier", identifier);
	if (path_resolve(root, decoded, image_source_extensions, file, err) == 0)
		return 0;
	char *semi = strrchr(decoded, ';');
	if (semi)
		*semi = '\0';
	if (semi && path_resolve(root, decoded, image_source_extensions, file, err) == 0)
		return 0;
	return iiifd_error_set(err, 404, "no image '%s' below %s", identifier, root);
}

static int cache_purge(int argc, char **argv)
{
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	char **flags = calloc((size_t)argc + 1, sizeof *flags);
	char **words = calloc((size_t)argc + 1, sizeof *words);
	const char *identifier = NULL;
	char *file = NULL;
	int nflags = 0, nwords = 0, rc = 2;
	iiifd_config_init(&cfg);
	if (flags && words)
		tools_cli_split_settings(argc, argv, flags, &nflags, words, &nwords, NULL, NULL);
	if (!flags || !words || nwords > 1) {
		cache_usage(stderr);
		goto out;
	}
	identifier = nwords ? words[0] : NULL;
	if (iiifd_config_parse_args(&cfg, nflags, flags, &err) < 0) {
		fprintf(stderr, "iiifd cache: %s\n", err.msg);
		goto out;
	}
	rc = 1;
	if (identifier && cache_resolve(&cfg, identifier, &file, &err) < 0) {
		fprintf(stderr, "iiifd cache: %s\n", err.msg);
		goto out;
	}
	int removed = derivative_cache_purge(cfg.cache_dir, file, &err);
	if (removed < 0) {
		fprintf(stderr, "iiifd cache: %s\n", err.msg);
		goto out;
	}
	if (cfg.pyramid_dir && *cfg.pyramid_dir)
		removed += derivative_cache_purge_pyramids(cfg.pyramid_dir, file);
	printf("removed %d cached file%s from %s\n", removed, removed == 1 ? "" : "s",
	       cfg.cache_dir);
	rc = 0;
out:
	free(file);
	free(flags);
	free(words);
	iiifd_config_release(&cfg);
	return rc;
}

int tools_cache_main(int argc, char **argv)
{
	if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		cache_usage(stdout);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "purge") != 0) {
		cache_usage(stderr);
		return 2;
	}
	return cache_purge(argc - 1, argv + 1);
}
