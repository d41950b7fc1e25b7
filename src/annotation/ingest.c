/*
 * ingest.c: target resolution goes through path_resolve() like every other file access, sizes
 * through the shared image source cache, and storage through db_import_*(): records stream
 * from the parser into one transaction in batches (memory stays bounded whatever the file's
 * size), committed with the file's fingerprint, so each import is all or nothing.
 */
#include "annotation/ingest.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "annotation/importers.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/path.h"
#include "discovery/discovery.h"
#include "image/source.h"
#include "maps/load.h"
#include "media/probe.h"
#include "presentation/canvas_index.h"
#include "storage/root.h"

enum ingest_format ingest_format_of(const char *name)
{
	static const struct {
		const char *ext;
		enum ingest_format format;
	} formats[] = { { "xml", INGEST_ALTO }, { "hocr", INGEST_HOCR }, { "vtt", INGEST_VTT },
			{ "json", INGEST_COCO }, { "csv", INGEST_CSV }, { "txt", INGEST_YOLO } };
	char ext[16];
	const char *base = strrchr(name, '/');
	if (strcmp(base ? base + 1 : name, "classes.txt") == 0)
		return INGEST_NONE; /* the class list of YOLO labels */
	if (maps_file_kind_of(name) != MAPS_FILE_NONE)
		return INGEST_NONE; /* georeferencing: served by maps/, not stored */
	path_extension(name, ext, sizeof ext);
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(ext, formats[i].ext) == 0)
			return formats[i].format;
	return INGEST_NONE;
}

/* What a resolver needs: the context, the source's folder, and the strings it hands out. */
struct ingest_resolver {
	const struct pres_context *c;
	char *folder;      /* folder of the source file, "" for the root */
	GPtrArray *owned;  /* strings given to importers, freed after the import */
	GHashTable *known; /* image name -> struct anno_target: each resolved once per import */
};

/* Finds an image below the resolver's folder, with its size. */
static int ingest_resolve_image(void *ctx, const char *name, struct anno_target *t)
{
	struct ingest_resolver *r = ctx;
	const struct anno_target *known = g_hash_table_lookup(r->known, name);
	if (known) {
		*t = *known;
		return 0;
	}
	char *rel = *r->folder ? g_strdup_printf("%s/%s", r->folder, name) : g_strdup(name);
	char *abs = NULL;
	struct iiifd_error err = { 0 };
	int rc = -1;
	if (pres_resolve(r->c->root_real, rel, image_source_extensions, false, &abs, &err) == 0) {
		const struct image_source *src = image_source_cache_get(r->c->sources, abs, 0, &err);
		if (src) {
			t->file = g_strdup(abs + strlen(r->c->root_real) + 1);
			g_ptr_array_add(r->owned, (gpointer)t->file);
			t->page = 0;
			t->width = src->width;
			t->height = src->height;
			image_source_cache_put(r->c->sources, src);
			g_hash_table_insert(r->known, g_strdup(name), g_memdup2(t, sizeof *t));
			rc = 0;
		}
	}
	free(abs);
	g_free(rel);
	return rc;
}

/*
 * "talk.en.vtt" -> the media file "talk.*" and language "en"; "talk.vtt" (or talk.json,
 * talk.csv) -> "talk.*".
 */
static int ingest_resolve_media(struct ingest_resolver *r, const char *name, struct anno_target *t,
				char **language)
{
	const char *ext = strrchr(name, '.');
	char *stem = g_strndup(name, ext ? (gsize)(ext - name) : strlen(name));
	char *dot = strrchr(stem, '.'), *abs = NULL;
	char *rel = *r->folder ? g_strdup_printf("%s/%s", r->folder, stem) : g_strdup(stem);
	*language = NULL;
	int rc = pres_resolve(r->c->root_real, rel, media_extensions, false, &abs, NULL);
	if (rc < 0 && dot) {
		*language = g_strdup(dot + 1);
		rel[strlen(rel) - strlen(dot)] = '\0';
		rc = pres_resolve(r->c->root_real, rel, media_extensions, false, &abs, NULL);
	}
	if (rc == 0) {
		t->file = g_strdup(abs + strlen(r->c->root_real) + 1);
		g_ptr_array_add(r->owned, (gpointer)t->file);
		t->page = 0;
	}
	free(abs);
	g_free(rel);
	g_free(stem);
	return rc;
}

/*
 * Where parsed records go: each batch is labelled (source, language, Manifest) and, with a
 * store, written into the import's transaction, opened by the first batch or at the end.
 */
struct ingest_sink {
	const struct pres_context *c;
	const char *rel;
	char *language;        /* of every record without one (WebVTT "talk.en.vtt") */
	GHashTable *manifests; /* target file -> its Manifest */
	struct db *db;         /* NULL: parse only */
	const struct ingest_options *opts; /* may be NULL */
	struct db_import *imp;
	size_t count;
	struct iiifd_error err;
};

/* Sets what every record of an import shares: its source, language, and Manifest. */
static int ingest_label(struct ingest_sink *s, struct anno_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		struct anno_record *r = &list->items[i];
		char *m = g_hash_table_lookup(s->manifests, r->target_file);
		if (!m) {
			bool folder;
			m = pres_manifest_of_file(s->c->root_real, r->target_file, &folder);
			g_hash_table_insert(s->manifests, g_strdup(r->target_file), m);
		}
		free(r->manifest);
		r->manifest = strdup(m);
		free(r->source);
		r->source = strdup(s->rel);
		if (s->language && !r->language)
			r->language = strdup(s->language);
		if (!r->manifest || !r->source || (s->language && !r->language))
			return iiifd_error_set(&s->err, 500, "out of memory");
	}
	return 0;
}

/*
 * Leaves out records scored below the minimum, and the words of lines left out; words name
 * their line by its index in the batch ("#N"), renumbered here.
 */
static void ingest_filter(struct anno_list *batch, double min)
{
	size_t kept = 0, *moved = g_new(size_t, batch->count + 1);
	for (size_t i = 0; i < batch->count; i++) {
		struct anno_record *r = &batch->items[i];
		size_t line = r->line_id && r->line_id[0] == '#' ? strtoull(r->line_id + 1, NULL, 10)
								 : SIZE_MAX;
		bool lost_line = line < i && moved[line] == SIZE_MAX;
		moved[i] = SIZE_MAX;
		if ((r->has_score && r->score < min) || lost_line) {
			anno_record_release(r);
			continue;
		}
		if (line < i)
			snprintf(r->line_id, strlen(r->line_id) + 1, "#%zu", moved[line]);
		moved[i] = kept;
		if (kept != i)
			batch->items[kept] = *r;
		kept++;
	}
	batch->count = kept;
	g_free(moved);
}

/* The command line's generator for records whose file named none. */
static int ingest_generator(struct anno_list *batch, const char *generator)
{
	for (size_t i = 0; i < batch->count; i++)
		if (!batch->items[i].generator && !(batch->items[i].generator = strdup(generator)))
			return -1;
	return 0;
}

static int ingest_put(void *ctx, struct anno_list *batch, char *msg, size_t size)
{
	struct ingest_sink *s = ctx;
	if (s->opts && s->opts->has_min_score)
		ingest_filter(batch, s->opts->min_score);
	if (s->opts && s->opts->generator && ingest_generator(batch, s->opts->generator) < 0)
		return snprintf(msg, size, "out of memory"), -1;
	int rc = ingest_label(s, batch);
	if (!rc && s->db && !s->imp)
		rc = db_import_begin(s->db, s->rel, &s->imp, &s->err);
	if (!rc && s->db)
		rc = db_import_add(s->imp, batch, &s->err);
	if (rc)
		snprintf(msg, size, "%s", s->err.msg);
	else
		s->count += batch->count;
	return rc;
}

static bool ingest_is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The first byte of a file (or of the bytes in memory) that is not white space (0: none). */
static int ingest_first_char(const struct anno_input *in)
{
	if (!in->path) {
		size_t i = 0;
		while (i < in->len && ingest_is_blank((unsigned char)in->data[i]))
			i++;
		return i < in->len ? (unsigned char)in->data[i] : 0;
	}
	FILE *f = fopen(in->path, "rb");
	int c = 0;
	while (f && (c = getc(f)) != EOF && ingest_is_blank(c))
		;
	if (f)
		fclose(f);
	return c == EOF ? 0 : c;
}

/* YOLO labels: the image of the same name, and the class list next to them. */
static int ingest_yolo(struct ingest_resolver *r, const struct anno_input *in, const char *stem,
		       const struct anno_sink *sink, struct anno_import_error *ierr)
{
	struct anno_target t = { 0 };
	char *list = g_build_filename(r->c->root_real, r->folder, "classes.txt", NULL);
	struct anno_input cin = { "classes.txt", list, NULL, 0 };
	char **classes = NULL, *remote_list = NULL;
	size_t n = 0;
	int rc = -1;
	struct storage_stat lst;
	bool has_list = storage_stat(list, &lst, NULL) == 0 && !lst.is_dir;
	if (has_list && storage_spec_is_remote(list)) { /* in a bucket: read whole, it is one name a line */
		has_list = storage_read_file(list, INGEST_REMOTE_MAX_BYTES, &remote_list, &cin.len,
					     NULL) == 0;
		cin = (struct anno_input){ "classes.txt", NULL, remote_list, cin.len };
	}
	if (ingest_resolve_image(r, stem, &t) < 0 && !has_list) {
		rc = 0; /* a text file of its own (notes.txt): no YOLO labels, nothing to import */
	} else if (!t.file) {
		snprintf(ierr->msg, sizeof ierr->msg, "no image '%s.*' next to it", stem);
	} else if (!has_list) {
		snprintf(ierr->msg, sizeof ierr->msg, "no classes.txt (the class list) next to it");
	} else if (anno_yolo_classes(&cin, &classes, &n, ierr) < 0) {
		char why[200];
		snprintf(why, sizeof why, "%.199s", ierr->msg);
		snprintf(ierr->msg, sizeof ierr->msg, "classes.txt:%d: %.200s", ierr->line, why);
		ierr->line = 0;
	} else {
		rc = anno_parse_yolo(in, &t, classes, n, sink, ierr);
	}
	anno_yolo_classes_free(classes, n);
	free(remote_list);
	g_free(list);
	return rc;
}

/* .json: timed output of a recording of the same name, a Label Studio list, or COCO. */
static int ingest_json(struct ingest_resolver *r, const struct anno_input *in, const char *name,
		       struct ingest_sink *s, const struct anno_sink *sink,
		       struct anno_import_error *ierr)
{
	struct anno_target t = { 0 };
	if (ingest_resolve_media(r, name, &t, &s->language) == 0)
		return anno_parse_timed_json(in, &t, sink, ierr);
	if (ingest_first_char(in) == '[')
		return anno_parse_label_studio(in, ingest_resolve_image, r, sink, ierr);
	return anno_parse_coco(in, ingest_resolve_image, r, sink, ierr);
}

static int ingest_csv(struct ingest_resolver *r, const struct anno_input *in, const char *name,
		      struct ingest_sink *s, const struct anno_sink *sink,
		      struct anno_import_error *ierr)
{
	struct anno_target t = { 0 };
	if (!anno_is_timed_csv(in))
		return anno_parse_csv(in, ingest_resolve_image, r, sink, ierr);
	if (ingest_resolve_media(r, name, &t, &s->language) == 0)
		return anno_parse_timed_csv(in, &t, sink, ierr);
	snprintf(ierr->msg, sizeof ierr->msg, "timed segments, but no audio or video file for it");
	return -1;
}

/* The object at location into memory for the parsers (*data: free); -1 with ierr. */
static int ingest_read_remote(const char *location, char **data, struct anno_input *in,
			      struct anno_import_error *ierr)
{
	struct iiifd_error err = { 0 };
	if (storage_read_file(location, INGEST_REMOTE_MAX_BYTES, data, &in->len, &err) < 0) {
		snprintf(ierr->msg, sizeof ierr->msg, "cannot read the object: %.200s", err.msg);
		return -1;
	}
	in->path = NULL;
	in->data = *data;
	return 0;
}

static int ingest_parse(struct ingest_resolver *r, const char *rel, const char *abs,
			struct ingest_sink *s, struct anno_import_error *ierr)
{
	enum ingest_format format = ingest_format_of(rel);
	struct anno_target t = { 0 };
	struct anno_input in = { rel, abs, NULL, 0 };
	char *remote = NULL; /* an object of a bucket, read whole within INGEST_REMOTE_MAX_BYTES */
	if (storage_spec_is_remote(abs) && ingest_read_remote(abs, &remote, &in, ierr) < 0)
		return -1;
	struct anno_sink sink = { ingest_put, s };
	char *name = g_path_get_basename(rel), *dot = strrchr(name, '.');
	char *stem = g_strndup(name, dot ? (gsize)(dot - name) : strlen(name));
	int rc = -1;
	if (format == INGEST_ALTO || format == INGEST_HOCR) {
		if (ingest_resolve_image(r, stem, &t) < 0)
			snprintf(ierr->msg, sizeof ierr->msg, "no image '%s.*' next to it", stem);
		else
			rc = format == INGEST_HOCR  ? anno_parse_hocr(&in, &t, &sink, ierr)
			     : anno_is_page_xml(&in) ? anno_parse_page(&in, &t, &sink, ierr)
						     : anno_parse_alto(&in, &t, &sink, ierr);
	} else if (format == INGEST_VTT) {
		if (ingest_resolve_media(r, name, &t, &s->language) < 0)
			snprintf(ierr->msg, sizeof ierr->msg, "no audio or video file for it");
		else
			rc = anno_parse_vtt(&in, &t, &sink, ierr);
	} else if (format == INGEST_COCO) {
		rc = ingest_json(r, &in, name, s, &sink, ierr);
	} else if (format == INGEST_CSV) {
		rc = ingest_csv(r, &in, name, s, &sink, ierr);
	} else if (format == INGEST_YOLO) {
		rc = ingest_yolo(r, &in, stem, &sink, ierr);
	}
	free(remote);
	g_free(name);
	g_free(stem);
	return rc;
}

/* "MTIME.NSEC|SIZE" of a local file, "MTIME.0|SIZE|ETAG" of an object (storage/root.h). */
static char *ingest_fingerprint(const char *abs)
{
	struct storage_stat st;
	char version[160];
	if (storage_stat(abs, &st, NULL) < 0 || st.is_dir)
		return NULL;
	return g_strdup(storage_stat_version(&st, version, sizeof version));
}

/* Whether the file at abs (a path or a location) is there. */
static bool ingest_exists(const char *abs)
{
	struct storage_stat st;
	return storage_stat(abs, &st, NULL) == 0;
}

/*
 * Parses rel, and with db stores it with fingerprint in one transaction: the number of
 * records, or -1 with err naming the file (and line for malformed files).
 */
static int ingest_run(struct db *db, const struct pres_context *c, const char *rel,
		      const char *abs, const char *fingerprint, const struct ingest_options *opts,
		      struct iiifd_error *err)
{
	struct anno_import_error ierr = { 0, "" };
	struct ingest_resolver r = { c, g_path_get_dirname(rel),
				     g_ptr_array_new_with_free_func(g_free),
				     g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free) };
	struct ingest_sink s = { .c = c, .rel = rel, .db = db, .opts = opts };
	s.manifests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (strcmp(r.folder, ".") == 0)
		r.folder[0] = '\0';
	int rc = ingest_parse(&r, rel, abs, &s, &ierr);
	if (rc == 0 && db && !s.imp && db_import_begin(db, rel, &s.imp, &s.err) < 0)
		rc = iiifd_error_set(err, s.err.http_status, "%s: %s", rel, s.err.msg);
	else if (rc < 0 && ierr.line > 0)
		iiifd_error_set(err, 400, "%s:%d: %s", rel, ierr.line, ierr.msg);
	else if (rc < 0)
		iiifd_error_set(err, 400, "%s: %s", rel, ierr.msg);
	if (s.imp && db_import_end(s.imp, rc == 0, fingerprint, &s.err) < 0 && rc == 0)
		rc = iiifd_error_set(err, s.err.http_status, "%s: %s", rel, s.err.msg);
	if (rc == 0 && db)
		discovery_note_import(); /* its transaction marked what it changed */
	g_hash_table_destroy(s.manifests);
	g_free(s.language);
	g_free(r.folder);
	g_ptr_array_free(r.owned, TRUE);
	g_hash_table_destroy(r.known);
	return rc < 0 ? -1 : (int)s.count;
}

int ingest_validate(const struct pres_context *c, const char *rel, struct iiifd_error *err)
{
	char *abs = g_build_filename(c->root_real, rel, NULL);
	int rc = ingest_run(NULL, c, rel, abs, NULL, NULL, err);
	g_free(abs);
	return rc < 0 ? -1 : 0;
}

int ingest_file(struct db *db, const struct pres_context *c, const char *rel, bool force,
		struct iiifd_error *err)
{
	return ingest_file_with(db, c, rel, force, NULL, err);
}

/*
 * ingest_run(), again up to twice when the store answers "try again" (503: a deadlock between
 * two imports of one Manifest updating its term counts in different orders, or a lost
 * connection); each attempt is a transaction of its own, rolled back when it fails.
 */
static int ingest_run_retrying(struct db *db, const struct pres_context *c, const char *rel,
			       const char *abs, const char *fingerprint,
			       const struct ingest_options *opts, struct iiifd_error *err)
{
	int rc = -1;
	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt)
			g_usleep((gulong)(50000 + g_random_int_range(0, 100000)) * (gulong)attempt);
		rc = ingest_run(db, c, rel, abs, fingerprint, opts, err);
		if (rc >= 0 || !err || err->http_status != 503)
			break;
	}
	return rc;
}

int ingest_file_with(struct db *db, const struct pres_context *c, const char *rel, bool force,
		     const struct ingest_options *opts, struct iiifd_error *err)
{
	char *abs = NULL;
	if (maps_file_kind_of(rel) != MAPS_FILE_NONE)
		return iiifd_error_set(err, 400, "%s: georeferencing is served from the file next to "
						 "its image, nothing to import (`iiifd check` reads it; "
						 "to keep it in the store instead, POST it to the "
						 "annotation API)", rel);
	if (ingest_format_of(rel) == INGEST_NONE)
		return iiifd_error_set(err, 400, "%s: not ALTO or PAGE (.xml), hOCR (.hocr), WebVTT "
						 "(.vtt), COCO, Label Studio or timed JSON (.json), "
						 "CSV (.csv) or YOLO (.txt)", rel);
	if (pres_resolve(c->root_real, rel, NULL, false, &abs, err) < 0)
		return iiifd_error_set(err, 404, "%s: no such file below the root", rel);
	char *fingerprint = ingest_fingerprint(abs);
	int rc = 0;
	gint64 start = g_get_monotonic_time();
	enum metrics_import_result result = METRICS_IMPORT_UNCHANGED;
	void *claim = NULL;
	/*
	 * A shared store: one node imports a changed file while the others wait on its claim,
	 * then find it current; no file is imported twice for one change.
	 */
	bool stale = force || !fingerprint || !db_source_is_current(db, rel, fingerprint);
	if (stale && (rc = db_source_lock(db, rel, &claim, err)) < 0)
		result = METRICS_IMPORT_FAILED;
	else if (stale && (!claim || force || !db_source_is_current(db, rel, fingerprint))) {
		rc = ingest_run_retrying(db, c, rel, abs, fingerprint ? fingerprint : "", opts, err);
		result = rc < 0 ? METRICS_IMPORT_FAILED : METRICS_IMPORT_OK;
	}
	db_source_unlock(db, claim);
	metrics_import_done(result, rc, (double)(g_get_monotonic_time() - start) / 1e6);
	g_free(fingerprint);
	free(abs);
	return rc;
}

/* ---- the background queue ------------------------------------------------------------ */

struct ingest_queue {
	struct db *db;
	struct pres_context c; /* a copy; its strings and caches are borrowed */
	GThreadPool *pool;
	pthread_mutex_t lock;
	GHashTable *pending; /* sources queued and not yet done */
	pthread_cond_t done; /* broadcast each time a source is done */
	GHashTable *seen;    /* folders whose files were checked once (by ingest_queue_folder) */
	int64_t max_bytes;   /* larger files are skipped; 0: no limit */
	GHashTable *skipped; /* source -> fingerprint of the version skipped for its size */
};

#define INGEST_GONE "gone" /* the fingerprint of a source whose file was deleted */

/* The file of an imported source is gone: so are its annotations. */
static int ingest_forget(struct db *db, const char *rel, struct iiifd_error *err)
{
	struct db_import *imp;
	if (db_import_begin(db, rel, &imp, err) < 0 ||
	    db_import_end(imp, true, INGEST_GONE, err) < 0)
		return -1;
	log_info("annotation import: %s is gone; its annotations were removed", rel);
	return 0;
}

static void ingest_job(gpointer data, gpointer user)
{
	struct ingest_queue *q = user;
	char *rel = data;
	struct iiifd_error err = { 0 };
	char *abs = g_build_filename(q->c.root_real, rel, NULL);
	bool gone = !ingest_exists(abs);
	g_free(abs);
	int n = gone ? ingest_forget(q->db, rel, &err) : ingest_file(q->db, &q->c, rel, false, &err);
	if (n < 0)
		log_warn("annotation import: %s", err.msg);
	else if (n > 0)
		log_info("annotation import: %s: %d annotations", rel, n);
	pthread_mutex_lock(&q->lock);
	g_hash_table_remove(q->pending, rel);
	pthread_cond_broadcast(&q->done);
	pthread_mutex_unlock(&q->lock);
	metrics_import_queued(-1);
	g_free(rel);
}

/* Whether a queued source lies directly in folder rel ("" = the root). Under q->lock. */
static bool ingest_pending_in_locked(struct ingest_queue *q, const char *rel)
{
	size_t n = strlen(rel);
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, q->pending);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const char *src = key;
		if (n && (strncmp(src, rel, n) != 0 || src[n] != '/'))
			continue;
		if (!strchr(src + (n ? n + 1 : 0), '/'))
			return true;
	}
	return false;
}

bool ingest_queue_wait(struct ingest_queue *q, const char *rel, int timeout_ms)
{
	if (!q)
		return true;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	bool pending;
	while ((pending = ingest_pending_in_locked(q, rel)) &&
	       pthread_cond_timedwait(&q->done, &q->lock, &until) == 0)
		;
	pending = pending && ingest_pending_in_locked(q, rel);
	pthread_mutex_unlock(&q->lock);
	return !pending;
}

bool ingest_queue_pending(struct ingest_queue *q, const char *src)
{
	if (!q)
		return false;
	pthread_mutex_lock(&q->lock);
	bool pending = g_hash_table_contains(q->pending, src);
	pthread_mutex_unlock(&q->lock);
	return pending;
}

bool ingest_queue_seen(struct ingest_queue *q, const char *rel)
{
	if (!q)
		return true;
	pthread_mutex_lock(&q->lock);
	bool seen = g_hash_table_contains(q->seen, rel);
	pthread_mutex_unlock(&q->lock);
	return seen;
}

int ingest_workers(const struct db *db, int configured, int pool)
{
	if (!db_is_shared(db))
		return 1; /* one writer at a time: more workers would only wait for it */
	int cores = (int)g_get_num_processors();
	int n = configured > 0 ? configured : MIN(4, MAX(1, cores));
	return MAX(1, MIN(n, pool / 4)); /* two connections each; half the pool for the rest */
}

struct ingest_queue *ingest_queue_new(struct db *db, const struct pres_context *c,
				      int64_t max_bytes, int workers)
{
	struct ingest_queue *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->db = db;
	q->c = *c;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->done, &attr);
	pthread_condattr_destroy(&attr);
	q->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	q->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	q->max_bytes = max_bytes;
	q->skipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	q->pool = g_thread_pool_new(ingest_job, q, MAX(1, workers), FALSE, NULL);
	return q;
}

void ingest_queue_free(struct ingest_queue *q)
{
	if (!q)
		return;
	g_thread_pool_free(q->pool, TRUE, TRUE);
	g_hash_table_destroy(q->pending);
	g_hash_table_destroy(q->seen);
	g_hash_table_destroy(q->skipped);
	pthread_cond_destroy(&q->done);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Queues src (a path below the root) unless it is queued already. */
static void ingest_queue_push(struct ingest_queue *q, const char *src)
{
	pthread_mutex_lock(&q->lock);
	bool queue = !g_hash_table_contains(q->pending, src);
	if (queue)
		g_hash_table_add(q->pending, g_strdup(src));
	pthread_mutex_unlock(&q->lock);
	if (queue) {
		metrics_import_queued(1);
		g_thread_pool_push(q->pool, g_strdup(src), NULL);
	}
}

/* Sources imported from this folder whose file has since been deleted. */
static void ingest_queue_vanished(struct ingest_queue *q, const char *rel)
{
	char **sources = NULL;
	size_t n = 0;
	if (db_sources_below(q->db, rel, &sources, &n, NULL) < 0)
		return;
	size_t prefix = *rel ? strlen(rel) + 1 : 0;
	for (size_t i = 0; i < n; i++) {
		char *abs = g_build_filename(q->c.root_real, sources[i], NULL);
		bool direct = !strchr(sources[i] + prefix, '/');
		if (direct && !ingest_exists(abs) &&
		    !db_source_is_current(q->db, sources[i], INGEST_GONE))
			ingest_queue_push(q, sources[i]);
		g_free(abs);
		free(sources[i]);
	}
	free(sources);
}

/*
 * Whether src is over the size limit; logs so once per version of the file (folders are listed
 * again and again).
 */
static bool ingest_queue_too_big(struct ingest_queue *q, const char *src, const char *abs,
				 const char *fingerprint)
{
	struct storage_stat sb;
	if (!q->max_bytes || storage_stat(abs, &sb, NULL) < 0 || sb.size <= q->max_bytes)
		return false;
	pthread_mutex_lock(&q->lock);
	const char *logged = g_hash_table_lookup(q->skipped, src);
	bool log = !logged || !fingerprint || strcmp(logged, fingerprint) != 0;
	if (log)
		g_hash_table_insert(q->skipped, g_strdup(src),
				    g_strdup(fingerprint ? fingerprint : ""));
	pthread_mutex_unlock(&q->lock);
	if (log)
		log_warn("annotation import: %s skipped: %lld bytes, larger than "
			 "auto-import-max-mb = %lld (`iiifd import` imports it)", src,
			 (long long)sb.size, (long long)(q->max_bytes >> 20));
	return true;
}

void ingest_queue_folder(struct ingest_queue *q, const char *rel, char *const *companions,
			 size_t count)
{
	for (size_t i = 0; q && i < count; i++) {
		if (ingest_format_of(companions[i]) == INGEST_NONE)
			continue;
		char *src = *rel ? g_strdup_printf("%s/%s", rel, companions[i])
				 : g_strdup(companions[i]);
		char *abs = g_build_filename(q->c.root_real, src, NULL);
		char *fingerprint = ingest_fingerprint(abs);
		if (!ingest_queue_too_big(q, src, abs, fingerprint) &&
		    (!fingerprint || !db_source_is_current(q->db, src, fingerprint)))
			ingest_queue_push(q, src);
		g_free(fingerprint);
		g_free(abs);
		g_free(src);
	}
	if (!q)
		return;
	ingest_queue_vanished(q, rel);
	pthread_mutex_lock(&q->lock);
	if (g_hash_table_size(q->seen) < 100000) /* a bound; forgetting only costs a re-check */
		g_hash_table_add(q->seen, g_strdup(rel));
	pthread_mutex_unlock(&q->lock);
}
