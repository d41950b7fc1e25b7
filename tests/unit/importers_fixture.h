/*
 * importers_fixture.h: what the importer tests share: fixture files in a temporary folder, and
 * checks of every field of a record and of a failed import's line and message.
 */
#ifndef IIIFD_TESTS_IMPORTERS_FIXTURE_H
#define IIIFD_TESTS_IMPORTERS_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annotation/importers.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_importers.XXXXXX";

static const char *fx_len(const char *name, const char *text, size_t len)
{
	static char path[sizeof tmpdir + 64];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
	return path;
}

static const char *fx(const char *name, const char *text)
{
	return fx_len(name, text, strlen(text));
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

#define CHECK_S(got, want, ctx) \
	CHECK(str_eq((got), (want)), "%s: got '%s', want '%s'", (ctx), (got) ? (got) : "(null)", \
	      (want) ? (want) : "(null)")
#define CHECK_D(got, want, ctx) \
	CHECK((got) - (want) < 1e-9 && (want) - (got) < 1e-9, "%s: got %.10g, want %.10g", (ctx), \
	      (double)(got), (double)(want))

/* Every field of an imported record (times are checked by the VTT tests). */
struct want {
	const char *file;
	int page;
	const char *motivation, *granularity, *text, *language;
	bool has_xywh;
	double x, y, w, h;
	bool has_score;
	double score;
	const char *generator;
	int64_t seq;
	const char *line_id;
};

static inline void check_rec(const struct anno_list *l, size_t i, const struct want *w,
			     const char *name)
{
	char ctx[128];
	snprintf(ctx, sizeof ctx, "%s[%zu]", name, i);
	CHECK(i < l->count, "%s: only %zu records", ctx, l->count);
	if (i >= l->count)
		return;
	const struct anno_record *r = &l->items[i];
	CHECK_S(r->target_file, w->file, ctx);
	CHECK_INT(r->page, w->page, ctx);
	CHECK_S(r->motivation, w->motivation, ctx);
	CHECK_S(r->granularity, w->granularity, ctx);
	CHECK_S(r->text, w->text, ctx);
	CHECK_S(r->language, w->language, ctx);
	CHECK_INT(r->has_xywh, w->has_xywh, ctx);
	CHECK_D(r->x, w->x, ctx);
	CHECK_D(r->y, w->y, ctx);
	CHECK_D(r->w, w->w, ctx);
	CHECK_D(r->h, w->h, ctx);
	CHECK_INT(r->has_score, w->has_score, ctx);
	CHECK_D(r->score, w->score, ctx);
	CHECK_S(r->generator, w->generator, ctx);
	CHECK_INT(r->seq, w->seq, ctx);
	CHECK_S(r->line_id, w->line_id, ctx);
	CHECK(!r->id && !r->manifest && !r->creator && !r->source && !r->created,
	      "%s: store fields set", ctx);
}

/* An import that must fail on line with msg (a substring), leaving out untouched. */
static inline void check_fails(int rc, const struct anno_list *out, size_t count_before,
			const struct anno_import_error *err, int line, const char *msg,
			const char *name)
{
	CHECK_INT(rc, -1, name);
	CHECK_INT(out->count, count_before, name);
	CHECK_INT(err->line, line, name);
	CHECK(strstr(err->msg, msg) != NULL, "%s: message '%s' lacks '%s'", name, err->msg, msg);
}

struct bad_case {
	const char *name, *text;
	int line;
	const char *msg;
};

/* Makes tmpdir; false (after perror) when it cannot. */
static bool fixture_dir_make(void)
{
	if (mkdtemp(tmpdir))
		return true;
	perror("mkdtemp");
	return false;
}

static void fixture_dir_remove(void)
{
	char cmd[sizeof tmpdir + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

#endif
