/*
 * check.c: `iiifd check ROOT` walks the whole tree (a folder, or a bucket prefix) the way the
 * Presentation API sees it and lists every problem a user can fix: unservable or unreadable
 * files and sidecar errors.
 */
#include "tools/check.h"

#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/ingest.h"
#include "auth/policy.h"
#include "core/config.h"
#include "image/source.h"
#include "maps/check.h"
#include "maps/load.h"
#include "media/probe.h"
#include "presentation/sidecar.h"
#include "presentation/tree.h"
#include "storage/root.h"
#include "tools/cli.h"
#include "tools/progress.h"

struct check_state {
	const char *root;
	int problems;
	int warnings; /* doubtful, still served (georeferencing) */
	int files;
	struct pres_context ctx; /* for parsing annotation files as the server would */
	struct tools_progress progress; /* files; the total grows with each folder listed */
};

static void check_report(struct check_state *st, const char *path, int line, const char *msg)
{
	const char *rel = path + strlen(st->root) + (path[strlen(st->root)] == '/');
	if (line > 0)
		tools_progress_print(&st->progress, stdout, "%s:%d: %s\n", rel, line, msg);
	else
		tools_progress_print(&st->progress, stdout, "%s: %s\n", rel, msg);
	st->problems++;
}

static bool check_listed(const struct tree_listing *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->entries[i].name, name) == 0)
			return true;
	return false;
}

static void check_name(struct check_state *st, const char *path, const struct tree_listing *l,
		       const char *name, const char *where)
{
	if (check_listed(l, name))
		return;
	char *msg = g_strdup_printf("%s names '%s', which is not a file shown in this folder",
				    where, name);
	check_report(st, path, 0, msg);
	g_free(msg);
}

/* Table-of-contents entries name files; each must be one the Manifest shows. */
static void check_toc(struct check_state *st, const char *path, const struct tree_listing *l,
		      const json_t *nodes, int depth)
{
	size_t i, j;
	json_t *node, *name;
	json_array_foreach(nodes, i, node) {
		json_array_foreach(json_object_get(node, "canvases"), j, name)
			check_name(st, path, l, json_string_value(name), "toc");
		if (depth < 16)
			check_toc(st, path, l, json_object_get(node, "items"), depth + 1);
	}
}

/* access.yml (docs/access.md): a broken one admits nobody, so it is worth a look first. */
static void check_policy(struct check_state *st, const char *path)
{
	struct sidecar_problems problems = { 0 };
	auth_policy_free(auth_policy_load(path, "", &problems));
	for (int i = 0; i < problems.count && i < SIDECAR_MAX_PROBLEMS; i++)
		check_report(st, path, problems.items[i].line, problems.items[i].msg);
}

static void check_sidecar(struct check_state *st, const char *path, const struct tree_listing *l)
{
	struct sidecar sc;
	struct sidecar_problems problems = { 0 };
	sidecar_load(path, &sc, &problems);
	for (int i = 0; i < problems.count && i < SIDECAR_MAX_PROBLEMS; i++)
		check_report(st, path, problems.items[i].line, problems.items[i].msg);
	if (problems.count > SIDECAR_MAX_PROBLEMS)
		check_report(st, path, 0, "more problems not shown");
	const char *key;
	json_t *value;
	json_object_foreach(sc.canvases, key, value)
		check_name(st, path, l, key, "canvases");
	check_toc(st, path, l, sc.toc, 0);
	sidecar_release(&sc);
}

/* A georeference file is read for the image named like it; without one it is never used. */
static void check_georef_file(struct check_state *st, const char *path,
			      const struct tree_listing *l, const char *name)
{
	char *stem = maps_file_stem(name);
	bool found = false;
	for (size_t i = 0; i < l->count && !found; i++) {
		const char *e = l->entries[i].name, *dot = strrchr(e, '.');
		found = l->entries[i].kind == TREE_IMAGE && dot &&
			(size_t)(dot - e) == strlen(stem) && !strncmp(e, stem, strlen(stem));
	}
	if (!found) {
		char *msg = g_strdup_printf("georeferencing for '%s.*', which is not an image in "
					    "this folder: not used", stem);
		check_report(st, path, 0, msg);
		g_free(msg);
	}
	g_free(stem);
}

/* An annotation file (ALTO, hOCR, WebVTT, COCO, CSV): parsed as an import would, not stored. */
static void check_annotations(struct check_state *st, const char *path)
{
	struct iiifd_error err = { 0 };
	const char *rel = path + strlen(st->root) + 1;
	if (ingest_validate(&st->ctx, rel, &err) < 0) {
		/* already "file:line: problem" */
		tools_progress_print(&st->progress, stdout, "%s\n", err.msg);
		st->problems++;
	}
}

/* The image at the path being checked, for the georeferencing reports. */
struct check_image {
	struct check_state *st;
	const char *path;
};

static void check_georef_error(void *ctx, const char *msg)
{
	struct check_image *ci = ctx;
	check_report(ci->st, ci->path, 0, msg);
}

static void check_georef_warning(void *ctx, const char *msg)
{
	struct check_image *ci = ctx;
	check_report(ci->st, ci->path, 0, msg);
	ci->st->problems--; /* counted apart: a warning does not fail the check */
	ci->st->warnings++;
}

static void check_file(struct check_state *st, const char *path, enum tree_kind kind,
		       const struct tree_listing *l)
{
	struct iiifd_error err = { 0 };
	st->files++;
	if (kind == TREE_IMAGE) {
		struct image_source src;
		struct check_image ci = { .st = st, .path = path };
		if (image_source_open(path, 0, &src, &err) == 0) {
			maps_check_image(path, l->companions, l->companion_count, src.width,
					 src.height, check_georef_error, check_georef_warning, &ci);
			image_source_release(&src);
		} else
			check_report(st, path, 0, err.msg);
	} else if (kind == TREE_MEDIA) {
		struct media_info m;
		if (media_probe(path, &m, &err) < 0)
			check_report(st, path, 0, err.msg);
	}
	tools_progress_add(&st->progress, 1, 0, 0);
}

static void check_folder(struct check_state *st, const char *dir, int depth)
{
	struct tree_listing l;
	struct iiifd_error err = { 0 };
	if (depth > 64 || tree_list(st->root, dir, &l, &err) < 0) {
		check_report(st, dir, 0, depth > 64 ? "folders nested too deeply" : err.msg);
		return;
	}
	int64_t files = (int64_t)l.companion_count;
	for (size_t i = 0; i < l.count; i++)
		files += l.entries[i].kind != TREE_FOLDER;
	tools_progress_grow(&st->progress, files, 0);
	for (size_t i = 0; i < l.unservable_count; i++) {
		char *path = g_build_filename(dir, l.unservable[i], NULL);
		check_report(st, path, 0, "skipped: not an image, audio or video file iiifd serves");
		g_free(path);
	}
	for (size_t i = 0; i < l.companion_count; i++) {
		char *path = g_build_filename(dir, l.companions[i], NULL);
		if (strcmp(l.companions[i], AUTH_POLICY_FILE) == 0)
			check_policy(st, path);
		else if (g_str_has_suffix(path, ".yml") || g_str_has_suffix(path, ".yaml"))
			check_sidecar(st, path, &l);
		else if (ingest_format_of(path) != INGEST_NONE)
			check_annotations(st, path);
		else if (maps_file_kind_of(l.companions[i]) != MAPS_FILE_NONE)
			check_georef_file(st, path, &l, l.companions[i]);
		tools_progress_add(&st->progress, 1, 0, 0);
		g_free(path);
	}
	for (size_t i = 0; i < l.count; i++) {
		char *path = g_build_filename(dir, l.entries[i].name, NULL);
		if (l.entries[i].kind == TREE_FOLDER)
			check_folder(st, path, depth + 1);
		else
			check_file(st, path, l.entries[i].kind, &l);
		g_free(path);
	}
	tree_listing_release(&l);
}

static int check_run(const struct iiifd_config *cfg, bool quiet)
{
	struct storage_root *opened = NULL; /* a folder, or a bucket prefix as serve opens it */
	struct iiifd_error err = { 0 };
	if (storage_root_open_config(cfg, &opened, &err) < 0) {
		fprintf(stderr, "iiifd check: %s\n", err.msg);
		return 1;
	}
	const char *root = storage_root_name(opened);
	struct check_state st = { .root = root,
				  .ctx = { .root_real = root, .base = "",
					   .sources = image_source_cache_new(1024),
					   .media = media_probe_cache_new(1024),
					   .limits = { cfg->max_width, cfg->max_height, cfg->max_area,
						       cfg->max_upscale } } };
	tools_progress_start(&st.progress, "check", "files", 0, 0, false, quiet);
	check_folder(&st, root, 0);
	tools_progress_finish(&st.progress);
	image_source_cache_free(st.ctx.sources);
	media_probe_cache_free(st.ctx.media);
	printf("%d problem%s in %s (%d files checked)\n", st.problems, st.problems == 1 ? "" : "s",
	       root, st.files);
	if (st.warnings)
		printf("%d warning%s (served anyway)\n", st.warnings, st.warnings == 1 ? "" : "s");
	storage_root_close(opened);
	return st.problems ? 1 : 0;
}

int tools_check_main(int argc, char **argv)
{
	static const char usage[] = "usage: iiifd check ROOT [--quiet] [--config FILE] "
				    "[--s3-endpoint URL ...]\n";
	struct iiifd_error err = { 0 };
	bool quiet = tools_cli_take_switch(&argc, argv, "quiet");
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		printf("%s", usage);
		return 0;
	}
	struct iiifd_config cfg;
	iiifd_config_init(&cfg);
	int rc = 2;
	if (tools_cli_root_settings(argc, argv, &cfg, &err) < 0) {
		fprintf(stderr, "iiifd check: %s\n%s", err.msg, usage);
	} else if (tools_cli_vips_start("check") < 0) {
		rc = 1;
	} else {
		rc = check_run(&cfg, quiet);
		tools_cli_vips_stop();
	}
	iiifd_config_release(&cfg);
	return rc;
}
