/*
 * fuzz_search.c: a Content Search query as the store sees it (src/db/sqlite_read.c, db_search()
 * and db_autocomplete(), over the folding of src/db/fold.c): words and "quoted phrases" turned
 * into a full-text MATCH, motivation/user lists, date ranges and an autocomplete prefix, all
 * from the query string, and the score range (db_score_range_parse()). Input: up to six lines:
 * q, motivations, users, dates (each list space-separated, as search.c splits them), prefix,
 * score ("MIN" or "MIN/MAX"); against a small store made once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"

#define MAX_ITEMS 8

static char db_path[96];

static void remove_store(void)
{
	const char *ext[] = { "", "-wal", "-shm" };
	char p[128];
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", db_path, ext[i]);
		unlink(p);
	}
}

static struct db *open_store(void)
{
	static const char *texts[][3] = {
		{ "book", "supplementing", "Über die Wölfe im \"Schnee\" von Köln" },
		{ "book", "commenting", "a note: 50% off, (see) p. 3 -- NEAR AND OR NOT*" },
		{ "talk", "tagging", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 dog" },
	};
	snprintf(db_path, sizeof db_path, "/tmp/iiifd-fuzz-search-%d.sqlite", (int)getpid());
	remove_store();
	atexit(remove_store);
	struct db *db = NULL;
	struct iiifd_error err = { 0 };
	if (db_open(db_path, &db, &err) < 0)
		abort();
	for (int i = 0; i < 3; i++) {
		struct anno_record rec = { 0 };
		rec.manifest = strdup(texts[i][0]);
		rec.target_file = strdup("p1.jpg");
		rec.motivation = strdup(texts[i][1]);
		rec.text = strdup(texts[i][2]);
		rec.creator = strdup(i ? "alice" : "http://example.org/bob");
		if (db_insert(db, &rec, &err) < 0)
			abort();
		anno_record_release(&rec);
	}
	return db;
}

/* Splits s in place on ' ' into at most MAX_ITEMS non-empty items; NULL when there are none. */
static const char *const *split(char *s, const char **items)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(s, " ", &save); t && n < MAX_ITEMS;
	     t = strtok_r(NULL, " ", &save))
		items[n++] = t;
	items[n] = NULL;
	return n ? items : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct db *db;
	if (!db)
		db = open_store();
	if (size > 4096)
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *field[6] = { buf, NULL, NULL, NULL, NULL, NULL };
	for (int i = 1; i < 6 && field[i - 1]; i++) {
		char *nl = strchr(field[i - 1], '\n');
		if (nl)
			*nl = '\0', field[i] = nl + 1;
	}
	const char *mot[MAX_ITEMS + 1], *users[MAX_ITEMS + 1], *dates[MAX_ITEMS + 1];
	struct db_query q = { .scope = "", .q = *field[0] ? field[0] : NULL, .limit = 10 };
	q.motivations = field[1] ? split(field[1], mot) : NULL;
	q.users = field[2] ? split(field[2], users) : NULL;
	q.dates = field[3] ? split(field[3], dates) : NULL;
	struct anno_list out = { 0 };
	int64_t total = 0;
	struct iiifd_error err = { 0 };
	if (field[5] && db_score_range_parse("score", field[5], &q, &err) < 0) {
		if (err.http_status != 400 || q.has_score)
			abort(); /* a bad range is the client's error and filters nothing */
		free(buf);
		return 0;
	}
	if (q.has_score && !(q.score_min >= 0 && q.score_min <= q.score_max && q.score_max <= 1))
		abort();
	/* bad queries are 400s; a 500 means user text reached SQL or FTS5 syntax */
	int rc = db_search(db, &q, &out, &total, &err);
	if ((rc == 0 && (int64_t)out.count > total) || (rc < 0 && err.http_status >= 500))
		abort(); /* also: a page never holds more than the total */
	anno_list_release(&out);
	struct db_terms terms = { 0 };
	err = (struct iiifd_error){ 0 };
	if (field[4] && *field[4] && db_autocomplete(db, &q, field[4], 1, 10, &terms, &err) < 0 &&
	    err.http_status >= 500)
		abort();
	db_terms_release(&terms);
	free(buf);
	return 0;
}
