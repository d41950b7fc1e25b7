/*
 * test_importers_stream.c: the streaming side of the importers: records reach a sink in
 * bounded batches of complete lines (same records, same order as the whole-list import), a
 * sink's error stops the import, and buffers parse like files (invalid UTF-8 in them too).
 */
#include "importers_fixture.h"

#include "annotation/import.h" /* IMPORT_BATCH */

struct collect {
	struct anno_list all; /* every record received, line_id rewritten to absolute "#N" */
	size_t batches, largest;
	int bad_refs;
	int fail_after; /* batches to accept before failing; < 0: never */
};

static int collect_put(void *ctx, struct anno_list *batch, char *msg, size_t size)
{
	struct collect *c = ctx;
	if (c->fail_after >= 0 && c->batches >= (size_t)c->fail_after) {
		snprintf(msg, size, "store is full");
		return -1;
	}
	size_t base = c->all.count;
	c->batches++;
	c->largest = batch->count > c->largest ? batch->count : c->largest;
	for (size_t i = 0; i < batch->count; i++) {
		struct anno_record *r = anno_list_add(&c->all), *src = &batch->items[i];
		*r = *src;
		memset(src, 0, sizeof *src); /* taken over */
		if (r->line_id) {
			size_t k = strtoul(r->line_id + 1, NULL, 10);
			/* a word's line is in the same batch, before it */
			if (k >= i || !str_eq(c->all.items[base + k].granularity, "line"))
				c->bad_refs++;
			free(r->line_id);
			char id[32];
			snprintf(id, sizeof id, "#%zu", base + k);
			r->line_id = strdup(id);
		}
	}
	return 0;
}

/* An ALTO page of n lines of 3 words each (one of them outside the Canvas, so dropped). */
static char *alto_page(int n)
{
	size_t cap = (size_t)n * 400 + 400, len = 0;
	char *s = malloc(cap);
	len += (size_t)snprintf(s + len, cap - len,
				"<alto><Layout><Page WIDTH=\"1000\" HEIGHT=\"1000\"><TextBlock>\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(
			s + len, cap - len,
			"<TextLine HPOS=\"1\" VPOS=\"%d\" WIDTH=\"500\" HEIGHT=\"9\">"
			"<String CONTENT=\"a%d\" HPOS=\"1\" VPOS=\"%d\" WIDTH=\"9\" HEIGHT=\"9\"/>"
			"<String CONTENT=\"b\" HPOS=\"20\" VPOS=\"%d\" WIDTH=\"9\" HEIGHT=\"9\"/>"
			"<String CONTENT=\"out\" HPOS=\"5000\" VPOS=\"1\" WIDTH=\"9\" "
			"HEIGHT=\"9\"/>"
			"</TextLine>\n",
			i % 990, i, i % 990, i % 990);
	snprintf(s + len, cap - len, "</TextBlock></Page></Layout></alto>\n");
	return s;
}

static void test_alto_batches(void)
{
	const struct anno_target t = {"p.png", 0, 1000, 1000};
	char *page = alto_page(5000);
	struct anno_list whole = {0};
	struct anno_import_error err;
	CHECK_INT(anno_import_alto(fx("p.xml", page), &t, &whole, &err), 0, "whole list");
	CHECK_INT(whole.count, 15000, "whole: a line and 2 words per line");

	struct collect c = {.fail_after = -1};
	struct anno_sink sink = {collect_put, &c};
	struct anno_input in = {"p.xml", NULL, page, strlen(page)};
	int rc = anno_parse_alto(&in, &t, &sink, &err);
	CHECK(rc == 0, "streamed: %s", err.msg);
	CHECK(strstr(err.msg, "5000 boxes") != NULL, "drop note kept: %s", err.msg);
	CHECK_INT(c.all.count, whole.count, "same records");
	CHECK(c.batches >= 3, "batches: %zu", c.batches);
	CHECK(c.largest <= IMPORT_BATCH + 3, "batch of %zu records", c.largest);
	CHECK_INT(c.bad_refs, 0, "words refer to a line of their own batch");
	for (size_t i = 0; i < whole.count && i < c.all.count; i++) {
		const struct anno_record *a = &whole.items[i], *b = &c.all.items[i];
		if (a->seq != b->seq || !str_eq(a->text, b->text) ||
		    !str_eq(a->line_id, b->line_id) || a->x != b->x || a->y != b->y) {
			CHECK(false, "record %zu differs: seq %lld/%lld text %s/%s line %s/%s", i,
			      (long long)a->seq, (long long)b->seq, a->text, b->text, a->line_id,
			      b->line_id);
			break;
		}
	}
	anno_list_release(&whole);
	anno_list_release(&c.all);

	struct collect f = {.fail_after = 1};
	sink.ctx = &f;
	CHECK_INT(anno_parse_alto(&in, &t, &sink, &err), -1, "a sink error stops the import");
	CHECK(strstr(err.msg, "store is full") != NULL, "its message: %s", err.msg);
	CHECK_INT(f.batches, 1, "nothing after the error");
	anno_list_release(&f.all);
	free(page);
}

static void test_buffers(void)
{
	const struct anno_target t = {"talk.mp3", 0, 0, 0};
	static const char vtt[] = "WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n";
	struct collect c = {.fail_after = -1};
	struct anno_sink sink = {collect_put, &c};
	struct anno_input in = {"talk.vtt", NULL, vtt, sizeof vtt - 1};
	struct anno_import_error err;
	int rc = anno_parse_vtt(&in, &t, &sink, &err);
	CHECK(rc == 0, "vtt buffer: %s", err.msg);
	CHECK_INT(c.all.count, 1, "one cue");
	CHECK_S(c.all.count ? c.all.items[0].text : NULL, "hello", "cue text");
	anno_list_release(&c.all);
	/* a buffer holds bytes, not a string: what follows len is not read */
	in.len = 6;
	CHECK_INT(anno_parse_vtt(&in, &t, &sink, &err), 0, "header only");
	CHECK_INT(c.all.count, 0, "no cue");
	in.len = 0;
	CHECK_INT(anno_parse_vtt(&in, &t, &sink, &err), -1, "empty buffer");
	static const char hocr[] = "<div class='ocr_page' title='bbox 0 0 10 10'>\n"
				   "<span class='ocrx_word' title='bbox 1 1 2 2'>ok</span>\n"
				   "<span class='ocrx_word' title='bbox 1 1 2 2'>"
				   "b\xc3\x28</span>\n";
	const struct anno_target img = {"p.png", 0, 10, 10};
	struct anno_input h = {"p.hocr", NULL, hocr, sizeof hocr - 1};
	CHECK_INT(anno_parse_hocr(&h, &img, &sink, &err), -1, "hOCR with invalid UTF-8");
	CHECK_INT(err.line, 3, "its line");
	CHECK(strstr(err.msg, "UTF-8") != NULL, "message: %s", err.msg);
	CHECK_INT(c.all.count, 0, "nothing stored");
}

int main(void)
{
	if (!fixture_dir_make())
		return 1;
	UNIT_RUN(test_alto_batches);
	UNIT_RUN(test_buffers);
	fixture_dir_remove();
	return unit_report("importers_stream");
}
