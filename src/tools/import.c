/*
 * import.c: reads the same settings as `serve` (--config, --root, --data-dir), walks the given
 * files and folders, and imports every annotation file through ingest_file(), one transaction
 * per file, import-workers files at once (ingest_workers()): the walk queues each file to a
 * thread pool whose jobs share the counts and the progress line under run->lock.
 */
#include "tools/import.h"

#include <glib.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "annotation/ingest.h"
#include "core/config.h"
#include "db/db.h"
#include "storage/root.h"
#include "tools/cli.h"
#include "tools/progress.h"

struct import_run {
	struct pres_context c;
	struct db *db;
	bool force;
	const struct ingest_options *opts;
	int files, records, failed;
	bool counting; /* the first walk only sizes the work up for the progress */
	struct tools_progress progress;
	GThreadPool *pool;    /* imports the files the second walk finds (jobs: their paths) */
	pthread_mutex_t lock; /* files, records, failed and progress, once the pool runs */
};

static int64_t import_size(const char *path)
{
	struct storage_stat st; /* a file, or an object of a bucket root */
	return storage_stat(path, &st, NULL) == 0 ? st.size : 0;
}

/* A pool job: imports abs (below the root; freed here). */
static void import_job(gpointer data, gpointer user)
{
	struct import_run *run = user;
	char *abs = data;
	struct iiifd_error err = { 0 };
	int64_t size = import_size(abs);
	const char *rel = abs + strlen(run->c.root_real) + 1;
	int n = ingest_file_with(run->db, &run->c, rel, run->force, run->opts, &err);
	pthread_mutex_lock(&run->lock);
	run->files++;
	if (n < 0) {
		tools_progress_print(&run->progress, stderr, "iiifd import: %s\n", err.msg);
		run->failed++;
	} else {
		tools_progress_print(&run->progress, stdout, "%s: %d annotations%s\n", rel, n,
				     n == 0 && !run->force ? " (unchanged)" : "");
		run->records += n;
	}
	tools_progress_add(&run->progress, 1, size, n < 0);
	pthread_mutex_unlock(&run->lock);
	g_free(abs);
}

static void import_one(struct import_run *run, const char *abs)
{
	size_t root_len = strlen(run->c.root_real);
	if (run->counting) {
		tools_progress_grow(&run->progress, 1, import_size(abs));
		return;
	}
	if (strncmp(abs, run->c.root_real, root_len) == 0 && abs[root_len] == '/') {
		g_thread_pool_push(run->pool, g_strdup(abs), NULL);
		return;
	}
	pthread_mutex_lock(&run->lock);
	tools_progress_print(&run->progress, stderr, "iiifd import: %s: not below the root %s\n",
			     abs, run->c.root_real);
	run->failed++;
	tools_progress_add(&run->progress, 1, import_size(abs), 1);
	pthread_mutex_unlock(&run->lock);
}

static void import_path(struct import_run *run, const char *path, int depth);

/*
 * A PATH of a bucket root (storage/root.h): a location ("s3://bkt/pre/ocr") or a key below the
 * root ("ocr"); a folder is listed (one level per listing), files are imported.
 */
static void import_remote(struct import_run *run, const char *path, int depth)
{
	const char *root = run->c.root_real;
	size_t n = strlen(root);
	bool located = !strncmp(path, root, n) && (path[n] == '/' || !path[n]);
	char *loc = located ? g_strdup(path) : g_strdup_printf("%s/%s", root, path);
	struct storage_stat st;
	struct storage_listing l;
	struct iiifd_error err = { 0 };
	if (storage_stat(loc, &st, &err) < 0) {
		if (!run->counting) {
			tools_progress_print(&run->progress, stderr, "iiifd import: %s: %s\n", loc,
					     err.msg);
			run->failed++;
		}
	} else if (!st.is_dir) {
		import_one(run, loc);
	} else if (depth < 64 && storage_list(loc, 0, &l, &err) == 0) {
		for (size_t i = 0; i < l.count; i++) {
			const struct storage_entry *e = &l.entries[i];
			if (e->st.is_dir || ingest_format_of(e->name) != INGEST_NONE) {
				char *child = g_strdup_printf("%s/%s", loc, e->name);
				import_path(run, child, depth + 1);
				g_free(child);
			}
		}
		storage_listing_release(&l);
	}
	g_free(loc);
}

static void import_path(struct import_run *run, const char *path, int depth)
{
	if (storage_spec_is_remote(run->c.root_real))
		return import_remote(run, path, depth);
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		if (!run->counting) {
			tools_progress_print(&run->progress, stderr,
					     "iiifd import: %s: no such file or folder\n", path);
			run->failed++;
		}
		return;
	}
	if (!g_file_test(real, G_FILE_TEST_IS_DIR)) {
		import_one(run, real);
		return;
	}
	GDir *dir = depth < 64 ? g_dir_open(real, 0, NULL) : NULL;
	for (const char *name; dir && (name = g_dir_read_name(dir));) {
		char *child = g_build_filename(real, name, NULL);
		if (name[0] != '.' && (g_file_test(child, G_FILE_TEST_IS_DIR) ||
				       ingest_format_of(name) != INGEST_NONE))
			import_path(run, child, depth + 1);
		g_free(child);
	}
	if (dir)
		g_dir_close(dir);
}

static int import_run_all(struct iiifd_config *cfg, char **paths, int npaths, bool force,
			  bool quiet, const struct ingest_options *opts)
{
	struct storage_root *opened = NULL; /* a folder, or a bucket root as serve opens it */
	struct iiifd_error err = { 0 };
	struct import_run run = { .force = force, .opts = opts };
	char *db_path = NULL, *root = NULL;
	int rc = 1;
	if (storage_root_open_config(cfg, &opened, &err) < 0) {
		fprintf(stderr, "iiifd import: root '%s': %s\n", cfg->root, err.msg);
	} else if (!(root = g_strdup(storage_root_name(opened)))) {
		fprintf(stderr, "iiifd import: out of memory\n");
	} else if (!(db_path = db_location(cfg->database, cfg->data_dir, &err)) ||
		   db_open(db_path, &run.db, &err) < 0) {
		fprintf(stderr, "iiifd import: %s\n", err.msg[0] ? err.msg : cfg->data_dir);
	} else {
		run.c = (struct pres_context){ .root_real = root, .base = "",
					       .sources = image_source_cache_new(4096),
					       .media = media_probe_cache_new(4096),
					       .limits = { cfg->max_width, cfg->max_height,
							   cfg->max_area, cfg->max_upscale },
					       .db = run.db };
		tools_progress_start(&run.progress, "import", "files", 0, 0, true, quiet);
		run.counting = true;
		for (int i = 0; i < npaths; i++)
			import_path(&run, paths[i], 0);
		run.counting = false;
		pthread_mutex_init(&run.lock, NULL);
		db_pool_limit(run.db, cfg->database_pool);
		run.pool = g_thread_pool_new(import_job, &run,
					     ingest_workers(run.db, cfg->import_workers,
							    cfg->database_pool),
					     FALSE, NULL);
		for (int i = 0; i < npaths; i++)
			import_path(&run, paths[i], 0);
		g_thread_pool_free(run.pool, FALSE, TRUE); /* after every queued file */
		pthread_mutex_destroy(&run.lock);
		tools_progress_finish(&run.progress);
		if (run.files && db_after_bulk_load(run.db, &err) < 0)
			fprintf(stderr, "iiifd import: updating the store's statistics: %s\n", err.msg);
		printf("%d annotations from %d files%s\n", run.records, run.files,
		       run.failed ? "; some failed (see above)" : "");
		image_source_cache_free(run.c.sources);
		media_probe_cache_free(run.c.media);
		db_close(run.db);
		rc = run.failed ? 1 : 0;
	}
	g_free(db_path);
	g_free(root);
	storage_root_close(opened);
	return rc;
}

int tools_import_main(int argc, char **argv)
{
	static const char usage[] = "usage: iiifd import [--config FILE] [--root ROOT] "
				    "[--data-dir DIR] [--force] [--quiet] [--min-score S] "
				    "[--generator NAME] PATH...\n";
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	char **flags = calloc((size_t)argc + 1, sizeof *flags);
	char **paths = calloc((size_t)argc + 1, sizeof *paths);
	int nflags = 0, npaths = 0, rc = 2;
	bool force = false, quiet = tools_cli_take_switch(&argc, argv, "quiet");
	bool no_score = false, no_generator = false;
	struct ingest_options opts = { 0 };
	const char *min_score = tools_cli_take_value(&argc, argv, "min-score", &no_score);
	opts.generator = tools_cli_take_value(&argc, argv, "generator", &no_generator);
	char *end = NULL;
	opts.has_min_score = min_score != NULL;
	opts.min_score = min_score ? strtod(min_score, &end) : 0;
	iiifd_config_init(&cfg);
	if (flags && paths)
		tools_cli_split_settings(argc, argv, flags, &nflags, paths, &npaths, "force",
					 &force);
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		printf("%s", usage);
		rc = 0;
	} else if (!flags || !paths || npaths == 0 || no_score || no_generator) {
		fprintf(stderr, "%s", usage);
	} else if (min_score && (end == min_score || *end || !(opts.min_score >= 0) ||
				 opts.min_score > 1)) {
		fprintf(stderr, "iiifd import: --min-score '%s' is not a number from 0 to 1\n%s",
			min_score, usage);
	} else if (opts.generator && !*opts.generator) {
		fprintf(stderr, "iiifd import: --generator is empty\n%s", usage);
	} else if (iiifd_config_parse_args(&cfg, nflags, flags, &err) < 0) {
		fprintf(stderr, "iiifd import: %s\n%s", err.msg, usage);
	} else if (tools_cli_vips_start("import") == 0) {
		rc = import_run_all(&cfg, paths, npaths, force, quiet, &opts);
		tools_cli_vips_stop();
	} else {
		rc = 1;
	}
	free(flags);
	free(paths);
	iiifd_config_release(&cfg);
	return rc;
}
