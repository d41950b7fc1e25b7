/*
 * manifest.c: the static export walks Collections from the root (a folder, or a bucket prefix
 * opened as serve opens it: storage/root.h) through their members, using the same builders as
 * the server, and writes each document where its id says it lives.
 */
#include "tools/manifest.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/strings.h"
#include "presentation/manifest.h"
#include "storage/root.h"
#include "tools/cli.h"
#include "tools/progress.h"

struct export_state {
	struct pres_context ctx;
	const char *out;
	int written;
	int failed;
	struct tools_progress progress; /* documents; the total grows as Collections list members */
};

/* The decoded path below the root that a Presentation URL names, up to its keyword. */
static char *export_rel(const struct export_state *st, const char *url, const char *keyword)
{
	/* url is BASE/iiif/presentation/ENCODED-PATH/KEYWORD, or BASE/iiif/presentation/KEYWORD */
	const char *p = url + strlen(st->ctx.base) + strlen("/iiif/presentation/");
	size_t n = strlen(p), k = strlen(keyword);
	size_t enc_len = n > k ? n - k - 1 : 0;
	char *dec = g_malloc(enc_len + 1);
	if (strings_url_decode(p, enc_len, dec, enc_len + 1) < 0)
		dec[0] = '\0';
	return dec;
}

/* Writes doc to OUT + its URL path, through a temporary file and a rename. */
static int export_write(struct export_state *st, const json_t *doc)
{
	const char *id = json_string_value(json_object_get(doc, "id"));
	char *path = g_strconcat(st->out, id + strlen(st->ctx.base), NULL);
	char *dir = g_path_get_dirname(path), *tmp = g_strdup_printf("%s.tmp-%d", path, getpid());
	int rc = g_mkdir_with_parents(dir, 0755) == 0 &&
				 json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) == 0 &&
				 rename(tmp, path) == 0
			 ? 0
			 : -1;
	if (rc < 0) {
		tools_progress_print(&st->progress, stderr, "iiifd manifest: %s: %s\n", path,
				     strerror(errno));
		unlink(tmp);
		st->failed++;
	} else {
		st->written++;
	}
	tools_progress_add(&st->progress, 1, 0, rc < 0);
	g_free(path);
	g_free(dir);
	g_free(tmp);
	return rc;
}

static void export_collection(struct export_state *st, const char *rel, int depth);

static void export_member(struct export_state *st, const json_t *member, int depth)
{
	const char *id = json_string_value(json_object_get(member, "id"));
	const char *type = json_string_value(json_object_get(member, "type"));
	bool collection = type && strcmp(type, "Collection") == 0;
	char *rel = export_rel(st, id, collection ? "collection" : "manifest");
	if (collection) {
		export_collection(st, rel, depth + 1);
	} else {
		struct iiifd_error err = { 0 };
		struct storage_stat what = { 0 };
		char *abs = g_strconcat(st->ctx.root_real, "/", rel, NULL);
		json_t *m = storage_stat(abs, &what, &err) == 0
				    ? pres_manifest_build(&st->ctx, rel, what.is_dir, &err)
				    : NULL;
		if (m) {
			export_write(st, m);
		} else {
			tools_progress_print(&st->progress, stderr, "iiifd manifest: %s: %s\n", rel,
					     err.msg);
			tools_progress_add(&st->progress, 1, 0, 1);
			st->failed++;
		}
		json_decref(m);
		g_free(abs);
	}
	g_free(rel);
}

static void export_collection(struct export_state *st, const char *rel, int depth)
{
	struct iiifd_error err = { 0 };
	json_t *coll = depth < 64 ? pres_collection_build(&st->ctx, rel, &err) : NULL;
	if (!coll) {
		tools_progress_print(&st->progress, stderr, "iiifd manifest: %s: %s\n",
				     *rel ? rel : "(root)",
				     depth < 64 ? err.msg : "folders nested too deeply");
		tools_progress_add(&st->progress, 1, 0, 1);
		st->failed++;
		return;
	}
	tools_progress_grow(&st->progress, (int64_t)json_array_size(json_object_get(coll, "items")),
			    0);
	export_write(st, coll);
	size_t i;
	json_t *member;
	json_array_foreach(json_object_get(coll, "items"), i, member)
		export_member(st, member, depth);
	json_decref(coll);
}

static int export_run(const struct iiifd_config *cfg, const char *out, bool quiet)
{
	struct storage_root *root = NULL;
	struct iiifd_error err = { 0 };
	if (storage_root_open_config(cfg, &root, &err) < 0) {
		fprintf(stderr, "iiifd manifest: %s\n", err.msg);
		return 1;
	}
	struct export_state st = { .out = out };
	char *base = g_strdup(cfg->public_url);
	while (*base && base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = '\0';
	st.ctx = (struct pres_context){ .root_real = storage_root_name(root), .base = base,
					.sources = image_source_cache_new(4096),
					.media = media_probe_cache_new(4096),
					.limits = { cfg->max_width, cfg->max_height, cfg->max_area,
						    cfg->max_upscale } };
	tools_progress_start(&st.progress, "manifest", "documents", 1, 0, false, quiet);
	export_collection(&st, "", 0);
	tools_progress_finish(&st.progress);
	printf("wrote %d documents to %s%s\n", st.written, out,
	       st.failed ? " (with errors, see above)" : "");
	image_source_cache_free(st.ctx.sources);
	media_probe_cache_free(st.ctx.media);
	g_free(base);
	storage_root_close(root);
	return st.failed ? 1 : 0;
}

int tools_manifest_main(int argc, char **argv)
{
	static const char usage[] = "usage: iiifd manifest ROOT --public-url URL --out OUTDIR "
				    "[--quiet] [--config FILE] [--s3-endpoint URL ...]\n";
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	bool quiet = tools_cli_take_switch(&argc, argv, "quiet"), no_out = false;
	const char *out = tools_cli_take_value(&argc, argv, "out", &no_out);
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		printf("%s", usage);
		return 0;
	}
	iiifd_config_init(&cfg);
	int rc = 2;
	if (tools_cli_root_settings(argc, argv, &cfg, &err) < 0)
		fprintf(stderr, "iiifd manifest: %s\n%s", err.msg, usage);
	else if (!cfg.public_url || !*cfg.public_url || !out || no_out)
		fprintf(stderr, "iiifd manifest: --public-url and --out are required\n%s", usage);
	else if (tools_cli_vips_start("manifest") < 0)
		rc = 1;
	else {
		rc = export_run(&cfg, out, quiet);
		tools_cli_vips_stop();
	}
	iiifd_config_release(&cfg);
	return rc;
}
