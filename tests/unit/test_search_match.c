/*
 * test_search_match.c: finding every occurrence of a search term (folded, at word boundaries)
 * and the word boxes an occurrence covers.
 */
#include <stdlib.h>
#include <string.h>

#include "annotation/search_match.h"
#include "unit.h"

static void test_locate_every_occurrence(void)
{
	static const struct {
		const char *text, *q;
		size_t n;
		const char *first, *last;
	} cases[] = {
		{ "The quick brown fox jumps over the dog", "the", 2, "The", "the" },
		{ "Café naïve résumé, CAFE", "cafe", 2, "Café", "CAFE" },
		{ "theme thesis the", "the", 1, "the", "the" },
		{ "aaa aaa aaa", "\"aaa aaa\"", 1, "aaa aaa", "aaa aaa" }, /* no overlaps */
		{ "nothing here", "zebra", 0, NULL, NULL },
		{ "", "x", 0, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		gchar **terms = search_terms(cases[i].q);
		struct search_folded f;
		struct search_match m[8];
		search_fold(cases[i].text, &f);
		size_t n = search_locate(cases[i].text, &f, terms[0], m, 8);
		CHECK_INT(n, cases[i].n, cases[i].text);
		if (n && cases[i].first) {
			CHECK_STR(m[0].exact, cases[i].first, cases[i].text);
			CHECK_STR(m[n - 1].exact, cases[i].last, cases[i].text);
			CHECK(strncmp(cases[i].text + m[0].start, m[0].exact,
				      m[0].end - m[0].start) == 0, "%s: offsets", cases[i].text);
		}
		for (size_t j = 0; j < n; j++)
			search_match_release(&m[j]);
		search_folded_release(&f);
		g_strfreev(terms);
	}
	/* at most max are stored */
	struct search_folded f;
	struct search_match m[2];
	search_fold("a a a a", &f);
	CHECK_INT(search_locate("a a a a", &f, "a", m, 2), 2, "capped");
	search_match_release(&m[0]);
	search_match_release(&m[1]);
	search_folded_release(&f);
}

static void add_word(struct anno_list *l, const char *text, double x, bool boxed)
{
	struct anno_record *w = anno_list_add(l);
	w->text = strdup(text);
	w->has_xywh = boxed;
	w->x = x, w->y = 10, w->w = 5 * (double)strlen(text), w->h = 8;
}

static void test_words_box(void)
{
	const char *line = "The quick brown the fox";
	struct anno_list words = { 0 };
	add_word(&words, "The", 0, true);
	add_word(&words, "quick", 20, true);
	add_word(&words, "brown", 50, false); /* outside the Canvas: in the text, no box */
	add_word(&words, "the", 80, true);
	add_word(&words, "fox", 100, true);
	double box[4];
	CHECK(search_words_box(line, &words, 4, 9, box), "quick");
	CHECK(box[0] == 20 && box[1] == 10 && box[2] == 25 && box[3] == 8, "quick: %g,%g,%g,%g",
	      box[0], box[1], box[2], box[3]);
	CHECK(search_words_box(line, &words, 16, 19, box) && box[0] == 80, "the second 'the' (%g)",
	      box[0]);
	CHECK(search_words_box(line, &words, 4, 23, box), "quick .. fox");
	CHECK(box[0] == 20 && box[2] == 95, "union: %g +%g", box[0], box[2]);
	CHECK(!search_words_box(line, &words, 10, 15, box), "brown has no box");
	CHECK(!search_words_box(line, &(struct anno_list){ 0 }, 0, 3, box), "no words");
	anno_list_release(&words);
}

int main(void)
{
	UNIT_RUN(test_locate_every_occurrence);
	UNIT_RUN(test_words_box);
	return unit_report("search_match");
}
