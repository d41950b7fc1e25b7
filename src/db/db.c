/*
 * db.c: the backend-neutral side of the annotation store: picks the backend in db_open(), checks
 * arguments (400s), assigns ids and creation times, then forwards each call through struct db_ops.
 */
#include "db/backend.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/*
 * Tried in order; the first whose accepts() says yes opens the store. A PostgreSQL backend
 * (db_pg_ops) takes "postgresql://" URIs; SQLite takes plain file paths.
 */
static const struct db_ops *const db_backends[] = {
	&db_pg_ops,
	&db_sqlite_ops,
};

/* Limits on a search's q: enough for any person's query, small enough to bound the SQL. */
#define DB_Q_MAX_BYTES 1024
#define DB_Q_MAX_PARTS 32

int db_open(const char *location, struct db **out, struct iiifd_error *err)
{
	*out = NULL;
	if (!location || !*location)
		return iiifd_error_set(err, 500, "annotation store: no location given");
	for (size_t i = 0; i < sizeof db_backends / sizeof db_backends[0]; i++)
		if (db_backends[i]->accepts(location))
			return db_backends[i]->open(location, out, err);
	return iiifd_error_set(err, 500, "%s: no store backend in this build takes this location"
				    " (SQLite takes a file path)", location);
}

char *db_location(const char *database, const char *data_dir, struct iiifd_error *err)
{
	if (database && *database)
		return g_strdup(database);
	if (g_mkdir_with_parents(data_dir, 0755) < 0) {
		iiifd_error_set(err, 500, "data-dir '%s' cannot be created", data_dir);
		return NULL;
	}
	return g_build_filename(data_dir, "annotations.sqlite", NULL);
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

char *db_stamp(struct db *db)
{
	struct iiifd_error err;
	char *stamp = NULL;
	if (!db || !db->ops->stamp)
		return NULL;
	/* unreachable: a stamp no state has, so nothing cached is trusted */
	return db->ops->stamp(db, &stamp, &err) == 0 ? stamp : strdup("unreachable");
}

bool db_is_shared(const struct db *db)
{
	return db && db->ops->stamp;
}

int db_source_lock(struct db *db, const char *source, void **lock, struct iiifd_error *err)
{
	*lock = NULL;
	return db->ops->source_lock ? db->ops->source_lock(db, source, lock, err) : 0;
}

void db_source_unlock(struct db *db, void *lock)
{
	if (lock && db->ops->source_unlock)
		db->ops->source_unlock(db, lock);
}

int db_claim(struct db *db, const char *key, void **lock, struct iiifd_error *err)
{
	*lock = NULL;
	if (!db || !db->ops->claim)
		return iiifd_error_set(err, 500, "annotation store: no cluster-wide claims");
	return db->ops->claim(db, key, lock, err);
}

void db_pool_limit(struct db *db, int max)
{
	if (db && db->ops->pool_limit && max > 0)
		db->ops->pool_limit(db, max);
}

int db_after_bulk_load(struct db *db, struct iiifd_error *err)
{
	return db->ops->after_bulk_load ? db->ops->after_bulk_load(db, err) : 0;
}

bool db_is_word(const struct anno_record *rec)
{
	return rec->granularity && strcmp(rec->granularity, "word") == 0;
}

void db_now(char *buf, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Two digits at s, between lo and hi. */
static bool db_two_digits(const char *s, int lo, int hi)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	int v = (s[0] - '0') * 10 + (s[1] - '0');
	return v >= lo && v <= hi;
}

bool db_is_timestamp(const char *s, size_t len)
{
	/* 0123456789012345678 9 */
	/* YYYY-MM-DDThh:mm:ssZ  */
	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return false;
	return db_two_digits(s, 0, 99) && db_two_digits(s + 2, 0, 99) &&
	       db_two_digits(s + 5, 1, 12) && db_two_digits(s + 8, 1, 31) &&
	       db_two_digits(s + 11, 0, 23) && db_two_digits(s + 14, 0, 59) &&
	       db_two_digits(s + 17, 0, 60);
}

/* "start/end", both timestamps, start not after end. */
static int db_check_date_range(const char *range, struct iiifd_error *err)
{
	const char *slash = strchr(range, '/');
	if (!slash || !db_is_timestamp(range, (size_t)(slash - range)) ||
	    !db_is_timestamp(slash + 1, strlen(slash + 1)))
		return iiifd_error_set(err, 400, "date: '%.80s' is not "
					    "YYYY-MM-DDThh:mm:ssZ/YYYY-MM-DDThh:mm:ssZ", range);
	if (strncmp(range, slash + 1, 20) > 0)
		return iiifd_error_set(err, 400, "date: '%.80s' ends before it starts", range);
	return 0;
}

static int db_check_record(const struct anno_record *rec, struct iiifd_error *err)
{
	if (!rec->target_file || !*rec->target_file)
		return iiifd_error_set(err, 400, "annotation: no target file");
	if (!rec->motivation || !*rec->motivation)
		return iiifd_error_set(err, 400, "annotation: no motivation");
	if (rec->page < 0)
		return iiifd_error_set(err, 400, "annotation: negative page %d", rec->page);
	if (rec->created && !db_is_timestamp(rec->created, strlen(rec->created)))
		return iiifd_error_set(err, 400, "annotation: created '%.40s' is not "
					    "YYYY-MM-DDThh:mm:ssZ", rec->created);
	return 0;
}

static int db_random(unsigned char *buf, size_t n, struct iiifd_error *err)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno != EINTR)
			return iiifd_error_set(err, 500, "getrandom: %s", strerror(errno));
		if (r > 0)
			got += (size_t)r;
	}
	return 0;
}

/*
 * Ids are 128 bits, 32 hex digits: 64 bits that grow with time (milliseconds since 1970 times
 * 2^22, plus the record's index in its batch) and 64 random bits. Uniqueness rests on the random
 * half; the growing half makes a batch's ids sort after existing ones, so an import appends to
 * the id index instead of splitting pages all over it (imports into a large store stay fast).
 */
static int db_assign_ids(struct anno_record *recs, size_t n, uint64_t *next,
			 struct iiifd_error *err)
{
	enum { BATCH = 256 };
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[8 * BATCH];
	char now[32];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* the batches of one import continue its order (*next), so its ids keep growing */
	uint64_t base = ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000) << 22;
	if (next && *next > base)
		base = *next;
	if (next)
		*next = base + n;
	db_now(now, sizeof now);
	for (size_t i = 0; i < n; i += BATCH) {
		size_t k = n - i < BATCH ? n - i : BATCH;
		if (db_random(raw, 8 * k, err))
			return -1;
		for (size_t j = 0; j < k; j++) {
			struct anno_record *rec = &recs[i + j];
			char *id = malloc(33);
			if (!id || (!rec->created && !(rec->created = anno_strdup(now)))) {
				free(id);
				return iiifd_error_set(err, 500, "annotation store: out of memory");
			}
			uint64_t order = base + i + j;
			for (int b = 0; b < 16; b++)
				id[b] = hex[(order >> (60 - 4 * b)) & 0xf];
			for (int b = 0; b < 8; b++) {
				id[16 + 2 * b] = hex[raw[8 * j + b] >> 4];
				id[17 + 2 * b] = hex[raw[8 * j + b] & 0xf];
			}
			id[32] = '\0';
			free(rec->id);
			rec->id = id;
		}
	}
	return 0;
}

/* Index N of a "#N" line reference, or -1 when line_id is not one. */
static long long db_line_ref(const char *line_id)
{
	if (!line_id || line_id[0] != '#' || line_id[1] < '0' || line_id[1] > '9')
		return -1;
	char *end;
	errno = 0;
	long long n = strtoll(line_id + 1, &end, 10);
	return *end || errno ? -1 : n;
}

static int db_check_list(const struct anno_list *list, struct iiifd_error *err)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct anno_record *rec = &list->items[i];
		if (db_check_record(rec, err))
			return -1;
		long long n = db_line_ref(rec->line_id);
		if (rec->line_id && rec->line_id[0] == '#' &&
		    (n < 0 || (size_t)n >= list->count || (size_t)n == i))
			return iiifd_error_set(err, 400, "annotation %zu: line_id '%.40s' names no "
						    "other record of the list", i, rec->line_id);
	}
	return 0;
}

/*
 * A word of an import's line gets the id "LINE.K" (its line's id, then its place K among that
 * line's words in the list), so a store may keep a line's words together without an index
 * entry per word and still find each word by its id (the PostgreSQL store does: pg_runs.c).
 */
static char *db_word_id(const struct anno_record *line, size_t *words_so_far)
{
	return g_strdup_printf("%s.%zu", line->id, (*words_so_far)++);
}

/* Record i's line reference "#N" as the line's id (and a word's id from it); -1 out of memory. */
static int db_resolve_line(struct anno_list *list, size_t i, size_t *words)
{
	struct anno_record *rec = &list->items[i];
	long long n = db_line_ref(rec->line_id);
	if (n < 0)
		return 0;
	char *id = anno_strdup(list->items[n].id);
	if (!id)
		return -1;
	free(rec->line_id);
	rec->line_id = id;
	if (!db_is_word(rec))
		return 0;
	char *word_id = db_word_id(&list->items[n], &words[n]);
	free(rec->id);
	rec->id = anno_strdup(word_id);
	g_free(word_id);
	return rec->id ? 0 : -1;
}

/* After ids are assigned: "#N" becomes the id of record N, and source the one given. */
static int db_resolve_list(struct anno_list *list, const char *source, struct iiifd_error *err)
{
	size_t *words = calloc(list->count + 1, sizeof *words); /* per line index: words so far */
	int rc = words ? 0 : -1;
	for (size_t i = 0; !rc && i < list->count; i++) {
		struct anno_record *rec = &list->items[i];
		rc = db_resolve_line(list, i, words);
		if (!rc && (!rec->source || strcmp(rec->source, source) != 0)) {
			free(rec->source);
			rc = (rec->source = anno_strdup(source)) ? 0 : -1;
		}
	}
	free(words);
	return rc ? iiifd_error_set(err, 500, "annotation store: out of memory") : 0;
}

struct db_import {
	struct db *db;
	void *backend;
	char *source;
	uint64_t next; /* the order part of the next id */
};

int db_import_begin(struct db *db, const char *source, struct db_import **out,
		    struct iiifd_error *err)
{
	*out = NULL;
	if (!source || !*source)
		return iiifd_error_set(err, 400, "import: no source");
	struct db_import *imp = calloc(1, sizeof *imp);
	if (!imp || !(imp->source = strdup(source))) {
		free(imp);
		return iiifd_error_set(err, 500, "annotation store: out of memory");
	}
	imp->db = db;
	if (!(imp->backend = db->ops->import_begin(db, source, err))) {
		free(imp->source);
		free(imp);
		return -1;
	}
	*out = imp;
	return 0;
}

int db_import_add(struct db_import *imp, struct anno_list *batch, struct iiifd_error *err)
{
	if (db_check_list(batch, err) ||
	    db_assign_ids(batch->items, batch->count, &imp->next, err) ||
	    db_resolve_list(batch, imp->source, err))
		return -1;
	return imp->db->ops->import_add(imp->backend, batch, err);
}

int db_import_end(struct db_import *imp, bool ok, const char *fingerprint,
		  struct iiifd_error *err)
{
	int rc = imp->db->ops->import_end(imp->backend, ok ? 0 : -1, fingerprint, err);
	free(imp->source);
	free(imp);
	return ok ? rc : -1;
}

int db_replace_source(struct db *db, const char *source, struct anno_list *list,
		      struct iiifd_error *err)
{
	struct db_import *imp;
	if (db_import_begin(db, source, &imp, err))
		return -1;
	int rc = db_import_add(imp, list, err);
	return db_import_end(imp, rc == 0, NULL, err) || rc ? -1 : 0;
}

bool db_source_is_current(struct db *db, const char *source, const char *fingerprint)
{
	return source && fingerprint && db->ops->source_is_current(db, source, fingerprint);
}

int db_source_set_fingerprint(struct db *db, const char *source, const char *fingerprint,
			      struct iiifd_error *err)
{
	if (!source || !*source || !fingerprint)
		return iiifd_error_set(err, 400, "fingerprint: no source or fingerprint");
	return db->ops->source_set_fingerprint(db, source, fingerprint, err);
}

int db_insert(struct db *db, struct anno_record *rec, struct iiifd_error *err)
{
	if (db_check_record(rec, err))
		return -1;
	if (rec->line_id && rec->line_id[0] == '#')
		return iiifd_error_set(err, 400, "annotation: line_id '#N' only works in imports");
	if (db_assign_ids(rec, 1, NULL, err))
		return -1;
	return db->ops->insert(db, rec, err);
}

int db_get(struct db *db, const char *id, struct anno_record *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (!id || !*id)
		return iiifd_error_set(err, 404, "annotation: no id");
	return db->ops->get(db, id, out, err);
}

int db_update(struct db *db, const struct anno_record *rec, struct iiifd_error *err)
{
	if (!rec->id || !*rec->id)
		return iiifd_error_set(err, 404, "annotation: no id");
	if (db_check_record(rec, err))
		return -1;
	return db->ops->update(db, rec, err);
}

int db_delete(struct db *db, const char *id, struct iiifd_error *err)
{
	if (!id || !*id)
		return iiifd_error_set(err, 404, "annotation: no id");
	return db->ops->delete(db, id, err);
}

int db_list_target_after(struct db *db, const char *target_file, int page,
			 const char *motivation, struct db_cursor *cursor, int64_t limit,
			 struct anno_list *out, struct iiifd_error *err)
{
	return db->ops->list_target_after(db, target_file, page, motivation, cursor, limit, out,
					  err);
}

int db_cursor_back(struct db *db, const char *target_file, int page, const char *motivation,
		   const struct db_cursor *from, int64_t n, struct db_cursor *out, bool *found,
		   struct iiifd_error *err)
{
	return db->ops->cursor_back(db, target_file, page, motivation, from, n, out, found, err);
}

int db_count_target(struct db *db, const char *target_file, int page, const char *motivation,
		    int64_t *count, struct iiifd_error *err)
{
	return db->ops->count_target(db, target_file, page, motivation, count, err);
}

int db_list_target(struct db *db, const char *target_file, int page, const char *motivation,
		   struct anno_list *out, struct iiifd_error *err)
{
	if (!target_file)
		return iiifd_error_set(err, 400, "annotations: no target file");
	return db->ops->list_target(db, target_file, page, motivation, out, err);
}

int db_sources_below(struct db *db, const char *folder, char ***out, size_t *count,
		     struct iiifd_error *err)
{
	*out = NULL;
	*count = 0;
	return db->ops->sources_below(db, folder, out, count, err);
}

int db_target_motivations(struct db *db, const char *target_file, int page, char ***out,
			  size_t *count, struct iiifd_error *err)
{
	*out = NULL;
	*count = 0;
	if (!target_file)
		return iiifd_error_set(err, 400, "annotations: no target file");
	return db->ops->target_motivations(db, target_file, page, out, count, err);
}

int db_line_words(struct db *db, const char *line_id, struct anno_list *out,
		  struct iiifd_error *err)
{
	if (!line_id || !*line_id)
		return iiifd_error_set(err, 400, "annotations: no line id");
	return db->ops->line_words(db, line_id, out, err);
}

/* Whether [s, end) (valid UTF-8) holds a letter or digit, i.e. something a tokenizer keeps. */
static bool db_has_alnum(const char *s, const char *end)
{
	for (; s < end; s = g_utf8_next_char(s))
		if (g_unichar_isalnum(g_utf8_get_char(s)))
			return true;
	return false;
}

static int db_query_add(struct db_query_parts *out, const char *s, const char *end,
			struct iiifd_error *err)
{
	if (out->count == DB_Q_MAX_PARTS)
		return iiifd_error_set(err, 400, "q: more than %d words and phrases",
				       DB_Q_MAX_PARTS);
	struct db_query_part *items = realloc(out->items, (out->count + 1) * sizeof *items);
	if (!items)
		return iiifd_error_set(err, 500, "q: out of memory");
	out->items = items;
	if (!(items[out->count].text = strndup(s, (size_t)(end - s))))
		return iiifd_error_set(err, 500, "q: out of memory");
	out->count++;
	return 0;
}

int db_query_parse(const char *q, struct db_query_parts *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (!q)
		return 0;
	size_t len = strlen(q);
	if (len > DB_Q_MAX_BYTES)
		return iiifd_error_set(err, 400, "q: longer than %d bytes", DB_Q_MAX_BYTES);
	if (!g_utf8_validate(q, (gssize)len, NULL))
		return iiifd_error_set(err, 400, "q: not valid UTF-8");
	bool wanted = false;
	for (const char *p = q; *p;) {
		const char *s = p, *end;
		if (g_ascii_isspace(*p)) {
			p++;
			continue;
		}
		if (*p == '"') {
			s = p + 1;
			end = strchr(s, '"');
			end = end ? end : s + strlen(s);
			p = *end ? end + 1 : end;
		} else {
			for (end = p; *end && !g_ascii_isspace(*end) && *end != '"'; end++)
				;
			p = end;
		}
		wanted |= end > s;
		if (db_has_alnum(s, end) && db_query_add(out, s, end, err)) {
			db_query_parts_release(out);
			return -1;
		}
	}
	out->unmatchable = wanted && out->count == 0;
	return 0;
}

void db_query_parts_release(struct db_query_parts *parts)
{
	for (size_t i = 0; i < parts->count; i++)
		free(parts->items[i].text);
	free(parts->items);
	memset(parts, 0, sizeof *parts);
}

/* A number from 0 to 1 in [s, end), locale-free. */
static int db_score_number(const char *s, const char *end, double *v)
{
	char buf[32];
	size_t len = (size_t)(end - s);
	char *stop;
	if (!len || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*v = g_ascii_strtod(buf, &stop);
	return *stop || stop == buf || !(*v >= 0 && *v <= 1) ? -1 : 0;
}

int db_score_range_parse(const char *param, const char *text, struct db_query *q,
			 struct iiifd_error *err)
{
	const char *slash = strchr(text, '/'), *end = text + strlen(text);
	q->score_max = 1;
	if (db_score_number(text, slash ? slash : end, &q->score_min) < 0 ||
	    (slash && db_score_number(slash + 1, end, &q->score_max) < 0) ||
	    q->score_max < q->score_min)
		return iiifd_error_set(err, 400, "%s must be MIN or MIN/MAX, numbers from 0 to 1 "
						 "(MIN <= MAX)", param);
	q->has_score = true;
	return 0;
}

/* Checks q's date ranges and parses its words and phrases into parts (release them after). */
static int db_query_prepare(const struct db_query *q, struct db_query_parts *parts,
			    struct iiifd_error *err)
{
	for (const char *const *d = q->dates; d && *d; d++)
		if (db_check_date_range(*d, err))
			return -1;
	return db_query_parse(q->q, parts, err);
}

int db_search(struct db *db, const struct db_query *q, struct anno_list *out, int64_t *total,
	      struct iiifd_error *err)
{
	*total = q->keyset ? -1 : 0;
	if (q->next_after)
		*q->next_after = 0;
	if (q->offset < 0)
		return iiifd_error_set(err, 400, "search: negative offset");
	struct db_query_parts parts;
	if (db_query_prepare(q, &parts, err))
		return -1;
	int rc = parts.unmatchable ? 0 : db->ops->search(db, q, &parts, out, total, err);
	db_query_parts_release(&parts);
	return rc;
}

int db_search_count(struct db *db, const struct db_query *q, int64_t *total,
		    struct iiifd_error *err)
{
	*total = 0;
	struct db_query_parts parts;
	if (db_query_prepare(q, &parts, err))
		return -1;
	int rc = parts.unmatchable ? 0 : db->ops->search_count(db, q, &parts, total, err);
	db_query_parts_release(&parts);
	return rc;
}

int db_autocomplete(struct db *db, const struct db_query *scope, const char *prefix,
		    int64_t min, int64_t limit, struct db_terms *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	char *folded = db_fold(prefix ? prefix : "");
	if (!folded)
		return iiifd_error_set(err, 400, "autocomplete: q is not valid UTF-8");
	int rc = db->ops->autocomplete(db, scope, folded, min, limit, out, err);
	free(folded);
	return rc;
}

void db_terms_release(struct db_terms *terms)
{
	for (size_t i = 0; i < terms->count; i++) {
		free(terms->items[i].term);
		free(terms->items[i].label);
	}
	free(terms->items);
	memset(terms, 0, sizeof *terms);
}

int db_auth_revoke(struct db *db, const char *sid, int64_t expires, struct iiifd_error *err)
{
	if (!sid || !*sid || strlen(sid) > 64)
		return iiifd_error_set(err, 400, "a session id has 1 to 64 characters");
	return db->ops->auth_revoke(db, sid, expires, err);
}

int db_auth_is_revoked(struct db *db, const char *sid, int64_t now, bool *revoked,
		       struct iiifd_error *err)
{
	*revoked = false;
	if (!sid || !*sid || strlen(sid) > 64)
		return 0;
	return db->ops->auth_is_revoked(db, sid, now, revoked, err);
}
