/*
 * activity.c: `iiifd activity`: reads or rebuilds the activity log in data-dir, with the same
 * settings as `serve` (--config, --root or ROOT, --data-dir). Safe while a server runs: both
 * take the log's lock for a sync.
 */
#include "tools/activity.h"

#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "db/activity.h"
#include "db/db.h"
#include "discovery/log.h"
#include "discovery/service.h"
#include "discovery/stream.h"
#include "storage/root.h"
#include "tools/cli.h"

#define ACTIVITY_BATCH 1000

static void activity_print_line(const struct db_activity *a)
{
	printf("%" G_GINT64_FORMAT "\t%s\t%s", a->index, a->end_time ? a->end_time : a->start_time,
	       a->type);
	if (a->path)
		printf("\t%s\tv%d\t/%s", a->object_type, a->version, a->path);
	if (a->target_path)
		printf("\t-> /%s", a->target_path);
	putchar('\n');
}

/* Every activity, oldest first: as lines, or as JSON Lines of the stream's activities. */
static int activity_print(struct db *db, bool json, const char *base)
{
	struct iiifd_error err = { 0 };
	int64_t total = 0;
	if (db_activity_count(db, &total, &err) < 0)
		goto fail;
	for (int64_t from = 0; from < total; from += ACTIVITY_BATCH) {
		struct db_activity *items;
		size_t n;
		if (db_activity_range(db, from, ACTIVITY_BATCH, &items, &n, &err) < 0)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			if (!json) {
				activity_print_line(&items[i]);
				continue;
			}
			json_t *a = discovery_stream_activity(base, &items[i]);
			json_dumpf(a, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(a);
		}
		db_activity_list_free(items, n);
	}
	return 0;
fail:
	fprintf(stderr, "iiifd activity: %s\n", err.msg);
	return 1;
}

static int activity_rebuild(struct db *db, const struct iiifd_config *cfg, const char *root_real)
{
	struct iiifd_error err = { 0 };
	struct discovery_sync_result res;
	char *lock = g_build_filename(cfg->data_dir, "activity.lock", NULL);
	int rc = discovery_log_sync(db, root_real, lock, true, &res, &err);
	g_free(lock);
	if (rc < 0) {
		fprintf(stderr, "iiifd activity: %s\n", err.msg);
		return 1;
	}
	printf("Refresh appended: %zu resources re-issued (%zu created, %zu updated, %zu deleted, "
	       "%zu moved)\n", res.resources, res.created, res.updated, res.deleted, res.moved);
	return 0;
}

static int activity_run(const struct iiifd_config *cfg, bool rebuild, bool json)
{
	struct iiifd_error err = { 0 };
	struct db *db = NULL;
	struct storage_root *root = NULL; /* a folder or an s3:// prefix, as serve opens it */
	if (storage_root_open_config(cfg, &root, &err) < 0) {
		fprintf(stderr, "iiifd activity: root '%s': %s\n", cfg->root, err.msg);
		return 1;
	}
	/* the shared store (database) when set, else data-dir's file, as the server uses */
	char *path = db_location(cfg->database, cfg->data_dir, &err);
	if (!path || db_open(path, &db, &err) < 0) {
		fprintf(stderr, "iiifd activity: %s\n", *err.msg ? err.msg : path);
		g_free(path);
		storage_root_close(root);
		return 1;
	}
	g_free(path);
	/* without public-url, ids are relative to the server's own origin */
	int rc = rebuild ? activity_rebuild(db, cfg, storage_root_name(root))
			 : activity_print(db, json, cfg->public_url);
	db_close(db);
	storage_root_close(root);
	return rc;
}

int tools_activity_main(int argc, char **argv)
{
	static const char usage[] = "usage: iiifd activity [--config FILE] [--root ROOT] "
				    "[--data-dir DIR] [--database URI] [--public-url URL] [--json] "
				    "[--rebuild] [ROOT]\n";
	struct iiifd_config cfg;
	struct iiifd_error err = { 0 };
	bool json = tools_cli_take_switch(&argc, argv, "json");
	bool rebuild = tools_cli_take_switch(&argc, argv, "rebuild");
	char **flags = calloc((size_t)argc + 2, sizeof *flags);
	char **words = calloc((size_t)argc + 1, sizeof *words);
	int nflags = 0, nwords = 0, rc = 2;
	iiifd_config_init(&cfg);
	if (flags && words)
		tools_cli_split_settings(argc, argv, flags, &nflags, words, &nwords, NULL, NULL);
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		printf("%s", usage);
		rc = 0;
	} else if (!flags || !words || nwords > 1) {
		fprintf(stderr, "%s", usage);
	} else {
		if (nwords == 1)
			flags[nflags++] = words[0]; /* the positional ROOT, as serve takes it */
		if (iiifd_config_parse_args(&cfg, nflags, flags, &err) < 0)
			fprintf(stderr, "iiifd activity: %s\n%s", err.msg, usage);
		else
			rc = activity_run(&cfg, rebuild, json);
	}
	free(flags);
	free(words);
	iiifd_config_release(&cfg);
	return rc;
}
