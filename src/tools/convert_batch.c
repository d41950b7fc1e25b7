/*
 * convert_batch.c: `iiifd convert DIR OUTDIR`: lists the images below DIR, leaves out those whose
 * output is already newer, converts the rest on worker threads (each through a temporary file
 * and a rename, so an interrupted run never leaves a half-written output that a later run would
 * take for done) and lists every failure at the end.
 */
#include "tools/convert.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/path.h"
#include "image/source.h"
#include "tools/cli.h"
#include "tools/progress.h"

#define BATCH_MAX_DEPTH 64

struct batch_file {
	char *rel;       /* source path below DIR */
	char *out;       /* absolute output path */
	int64_t size;
	char *error;     /* why it failed, or NULL */
};

struct batch {
	char src_root[PATH_MAX], out_root[PATH_MAX];
	int tile, quality;
	GPtrArray *files;     /* struct batch_file *: everything found, in name order */
	GPtrArray *todo;      /* borrowed entries of files still to convert */
	GHashTable *outputs;  /* output path -> rel of the source that claimed it */
	GHashTable *folders;  /* output folders already swept for leftovers */
	int up_to_date, leftovers;
	pthread_mutex_t lock;
	size_t next;          /* index into todo of the next file a worker takes */
	struct tools_progress progress;
};

static void batch_file_free(gpointer p)
{
	struct batch_file *f = p;
	g_free(f->rel);
	g_free(f->out);
	g_free(f->error);
	g_free(f);
}

static bool batch_is_image(const char *name)
{
	char ext[16];
	path_extension(name, ext, sizeof ext);
	for (const char *const *e = image_source_extensions; *e; e++)
		if (strcmp(ext, *e) == 0)
			return true;
	return false;
}

/* OUTDIR/rel with the extension replaced by .tif. */
static char *batch_output_name(const struct batch *b, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	const char *dot = strrchr(slash ? slash + 1 : rel, '.');
	int stem = dot && dot != (slash ? slash + 1 : rel) ? (int)(dot - rel) : (int)strlen(rel);
	return g_strdup_printf("%s/%.*s.tif", b->out_root, stem, rel);
}

/*
 * Removes "NAME.tmp-PID" files left in folder by a run that was killed (its process is gone),
 * once per folder. Those of live processes (another run at work) are left alone.
 */
static void batch_sweep(struct batch *b, const char *folder)
{
	if (g_hash_table_contains(b->folders, folder))
		return;
	g_hash_table_add(b->folders, g_strdup(folder));
	DIR *d = opendir(folder);
	for (struct dirent *e; d && (e = readdir(d));) {
		const char *tmp = strstr(e->d_name, ".tmp-");
		char *end;
		long pid = tmp ? strtol(tmp + 5, &end, 10) : 0;
		if (!tmp || pid <= 0 || *end || end == tmp + 5 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *path = g_build_filename(folder, e->d_name, NULL);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0)
			b->leftovers++;
		g_free(path);
	}
	if (d)
		closedir(d);
}

static void batch_fail(struct batch_file *f, const char *fmt, const char *arg)
{
	g_free(f->error);
	f->error = g_strdup_printf(fmt, arg);
}

/* Decides what to do with one source: convert, skip (output newer), or fail (name clash). */
static void batch_plan(struct batch *b, const char *rel, const struct stat *src)
{
	struct batch_file *f = g_new0(struct batch_file, 1);
	f->rel = g_strdup(rel);
	f->out = batch_output_name(b, rel);
	f->size = (int64_t)src->st_size;
	g_ptr_array_add(b->files, f);
	char *folder = g_path_get_dirname(f->out);
	batch_sweep(b, folder);
	g_free(folder);
	const char *owner = g_hash_table_lookup(b->outputs, f->out);
	if (owner)
		return batch_fail(f, "same output name as %s; rename one of them", owner);
	g_hash_table_insert(b->outputs, g_strdup(f->out), g_strdup(rel));
	struct stat out;
	bool newer = stat(f->out, &out) == 0 &&
		     (out.st_mtim.tv_sec > src->st_mtim.tv_sec ||
		      (out.st_mtim.tv_sec == src->st_mtim.tv_sec &&
		       out.st_mtim.tv_nsec >= src->st_mtim.tv_nsec));
	if (newer)
		b->up_to_date++;
	else
		g_ptr_array_add(b->todo, f);
}

static int batch_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists folder rel below DIR in name order: images are planned, folders walked. */
static void batch_walk(struct batch *b, const char *rel, int depth)
{
	char *dir = *rel ? g_build_filename(b->src_root, rel, NULL) : g_strdup(b->src_root);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	DIR *d = depth < BATCH_MAX_DEPTH ? opendir(dir) : NULL;
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.')
			g_ptr_array_add(names, g_strdup(e->d_name));
	if (d)
		closedir(d);
	qsort(names->pdata, names->len, sizeof(char *), batch_name_cmp);
	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		char *abs = g_build_filename(dir, name, NULL);
		char *child = *rel ? g_strconcat(rel, "/", name, NULL) : g_strdup(name);
		struct stat st, lst;
		bool ok = stat(abs, &st) == 0 && lstat(abs, &lst) == 0;
		/* folders are walked unless they are symlinks (loops) or the output tree itself */
		if (ok && S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode) &&
		    strcmp(abs, b->out_root) != 0)
			batch_walk(b, child, depth + 1);
		else if (ok && S_ISREG(st.st_mode) && batch_is_image(name))
			batch_plan(b, child, &st);
		g_free(child);
		g_free(abs);
	}
	g_ptr_array_free(names, TRUE);
	g_free(dir);
}

/* Creates the folders of path (an output file below out_root). */
static int batch_mkdirs(const char *path, struct iiifd_error *err)
{
	char *folder = g_path_get_dirname(path);
	int rc = g_mkdir_with_parents(folder, 0777) == 0
			 ? 0
			 : iiifd_error_set(err, 500, "cannot create %s: %s", folder, strerror(errno));
	g_free(folder);
	return rc;
}

struct batch_worker {
	struct batch *b;
	int slot;
};

/* Messages name the file by its full path; the list at the end names it by rel already. */
static const char *batch_reason(const char *msg, const char *src_root, const char *rel)
{
	size_t n = strlen(src_root);
	if (strncmp(msg, src_root, n) == 0 && msg[n] == '/' &&
	    strncmp(msg + n + 1, rel, strlen(rel)) == 0 && strncmp(msg + n + 1 + strlen(rel), ": ", 2) == 0)
		return msg + n + 1 + strlen(rel) + 2;
	return msg;
}

static void *batch_work(void *arg)
{
	struct batch_worker *w = arg;
	struct batch *b = w->b;
	for (;;) {
		pthread_mutex_lock(&b->lock);
		struct batch_file *f = b->next < b->todo->len ? b->todo->pdata[b->next++] : NULL;
		pthread_mutex_unlock(&b->lock);
		if (!f)
			return NULL;
		struct iiifd_error err = { 0 };
		char *in = g_build_filename(b->src_root, f->rel, NULL);
		int64_t width, height;
		int rc = batch_mkdirs(f->out, &err);
		if (rc == 0)
			rc = tools_convert_file(in, f->out, b->tile, b->quality, w->slot, &width,
						&height, &err);
		if (rc < 0)
			batch_fail(f, "%s", batch_reason(err.msg, b->src_root, f->rel));
		tools_progress_add(&b->progress, 1, f->size, rc < 0);
		g_free(in);
	}
}

static void batch_run_workers(struct batch *b, int jobs)
{
	pthread_t threads[TOOLS_CONVERT_MAX_JOBS];
	struct batch_worker workers[TOOLS_CONVERT_MAX_JOBS];
	int started = 0;
	if ((guint)jobs > b->todo->len)
		jobs = b->todo->len ? (int)b->todo->len : 1;
	tools_convert_signals(true);
	for (int i = 0; i < jobs; i++) {
		workers[i] = (struct batch_worker){ b, i };
		if (i > 0 && pthread_create(&threads[i], NULL, batch_work, &workers[i]) != 0)
			break;
		started = i + 1;
	}
	batch_work(&workers[0]); /* the main thread is worker 0 */
	for (int i = 1; i < started; i++)
		pthread_join(threads[i], NULL);
	tools_convert_signals(false);
}

/* The list of failures on stderr, and the counts on stdout. Returns the exit status. */
static int batch_report(const struct batch *b)
{
	int failed = 0, converted = 0;
	for (guint i = 0; i < b->files->len; i++) {
		const struct batch_file *f = b->files->pdata[i];
		failed += f->error != NULL;
	}
	converted = (int)b->files->len - failed - b->up_to_date;
	if (failed)
		fprintf(stderr, "iiifd convert: %d file%s failed:\n", failed, failed == 1 ? "" : "s");
	for (guint i = 0; i < b->files->len; i++) {
		const struct batch_file *f = b->files->pdata[i];
		if (f->error)
			fprintf(stderr, "  %s: %s\n", f->rel, f->error);
	}
	printf("iiifd convert: %s -> %s: %d converted, %d up to date, %d failed", b->src_root,
	       b->out_root, converted, b->up_to_date, failed);
	if (b->leftovers)
		printf("; removed %d temporary file%s of an interrupted run", b->leftovers,
		       b->leftovers == 1 ? "" : "s");
	printf("\n");
	return failed ? 1 : 0;
}

static int batch_roots(struct batch *b, const char *dir, const char *outdir)
{
	if (!realpath(dir, b->src_root)) {
		fprintf(stderr, "iiifd convert: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (g_mkdir_with_parents(outdir, 0777) < 0 || !realpath(outdir, b->out_root)) {
		fprintf(stderr, "iiifd convert: cannot create %s: %s\n", outdir, strerror(errno));
		return -1;
	}
	if (strcmp(b->src_root, b->out_root) == 0) {
		fprintf(stderr, "iiifd convert: the output folder must not be the input folder\n");
		return -1;
	}
	return 0;
}

static int batch_jobs(int jobs)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		cores = 1;
	if (jobs <= 0)
		jobs = cores < TOOLS_CONVERT_MAX_JOBS ? (int)cores : TOOLS_CONVERT_MAX_JOBS;
	/* files in parallel rather than threads within one file: share the cores between them */
	vips_concurrency_set(cores / jobs > 1 ? (int)(cores / jobs) : 1);
	return jobs;
}

int tools_convert_batch(const char *dir, const char *outdir, int tile, int quality, int jobs,
			bool quiet)
{
	struct batch *b = g_new0(struct batch, 1);
	int rc = 1;
	b->tile = tile;
	b->quality = quality;
	b->files = g_ptr_array_new_with_free_func(batch_file_free);
	b->todo = g_ptr_array_new();
	b->outputs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	b->folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pthread_mutex_init(&b->lock, NULL);
	if (batch_roots(b, dir, outdir) == 0 && tools_cli_vips_start("convert") == 0) {
		jobs = batch_jobs(jobs);
		batch_walk(b, "", 0);
		int64_t bytes = 0;
		for (guint i = 0; i < b->todo->len; i++)
			bytes += ((struct batch_file *)b->todo->pdata[i])->size;
		tools_progress_start(&b->progress, "convert", "files", b->todo->len, bytes, true,
				     quiet);
		batch_run_workers(b, jobs);
		tools_progress_finish(&b->progress);
		rc = batch_report(b);
		tools_cli_vips_stop();
	}
	pthread_mutex_destroy(&b->lock);
	g_hash_table_destroy(b->folders);
	g_hash_table_destroy(b->outputs);
	g_ptr_array_free(b->todo, TRUE);
	g_ptr_array_free(b->files, TRUE);
	g_free(b);
	return rc;
}
