/*
 * import.h: what the annotation importers share: the all-or-nothing import state, records
 * added with their target, boxes clamped to the Canvas, numbers, capped buffers and line reading.
 */
#ifndef IIIFD_ANNOTATION_IMPORT_H
#define IIIFD_ANNOTATION_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "annotation/importers.h"

/* Far above any real page or data set; keeps a hostile file from eating all memory. */
#define IMPORT_MAX_RECORDS 4000000
#define IMPORT_MAX_TEXT (1 << 20) /* bytes of one record's text */
#define IMPORT_MAX_DEPTH 512      /* element nesting tracked by the XML importers */
#define IMPORT_BATCH 4096         /* records handed to a sink at a time */

/*
 * One import in progress. Records are appended to out: the caller's list, where on failure
 * import_finish() releases the ones added since import_begin() (out is as it was before the
 * call), or with a sink an own batch, handed to the sink whenever it is full and nothing holds
 * it (an OCR line being read: its record changes until the line ends).
 */
struct import_state {
	struct anno_list *out;
	size_t base;                 /* out->count when the import began (0 with a sink) */
	const struct anno_sink *sink; /* NULL: everything stays in out */
	struct anno_list batch;      /* out, with a sink */
	size_t flushed;              /* records handed to the sink so far */
	bool hold;                   /* no flush now */
	struct anno_import_error *err;
	bool failed;
	int dropped;                 /* boxes that clamped to nothing */
	int first_drop_line;
};

/* Exactly one of out and sink is given. */
void import_begin(struct import_state *st, struct anno_list *out, const struct anno_sink *sink,
		  struct anno_import_error *err);

/* Records the first error (later ones are ignored) and returns -1. */
int import_fail(struct import_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Ends the import: rc < 0 (or an earlier import_fail) rolls out back and returns -1; otherwise
 * err is cleared, or notes how many boxes were dropped (msg, line of the first one), returns 0.
 */
int import_finish(struct import_state *st, int rc);

/*
 * Appends a record for file/page with motivation and granularity (may be NULL) copied and seq
 * set to its position in this import (1-based), first handing a full batch to the sink (so
 * indexes into out taken before the call are stale). Returns NULL after import_fail on out of
 * memory, too many records or a sink error. The pointer is valid until the next import_add.
 */
struct anno_record *import_add(struct import_state *st, int line, const char *file, int page,
			       const char *motivation, const char *granularity);

/* Releases the records from index keep on (keep >= st->base). */
void import_truncate(struct import_state *st, size_t keep);

/* Counts a dropped box (see import_finish). */
void import_drop(struct import_state *st, int line);

/*
 * Clamps the box (x, y, w, h) to 0..cw x 0..ch in place. Returns false when nothing is left
 * (the box lies outside, or has no area).
 */
bool import_clamp(double *x, double *y, double *w, double *h, double cw, double ch);

/* Sets rec's region, or returns false (and counts a drop) when it clamps to nothing. */
bool import_set_box(struct import_state *st, int line, struct anno_record *rec, const double box[4],
		    double cw, double ch);

/*
 * The detection record of the box-and-label formats (CSV, COCO, YOLO, Label Studio): a
 * "tagging" record on target t with text label, region box (x y w h, NULL: none; clamped to
 * the Canvas, and when nothing is left no record but a drop is counted), outline polygon (taken
 * over: owned by the record, or freed), score (< 0: none) and generator (copied, may be NULL).
 * Returns 0, or -1 after import_fail.
 */
int import_add_detection(struct import_state *st, int line, const struct anno_target *t,
			 const char *label, const double *box, char *polygon, double score,
			 const char *generator);

/*
 * The first bytes of in (at most size - 1, NUL-terminated) for telling formats apart: the
 * count read, 0 when it cannot be read.
 */
size_t import_head(const struct anno_input *in, char *head, size_t size);

/*
 * Parses a plain decimal number ("12", "-3.5", "1e3"; surrounding blanks allowed) from s[0..len)
 * without depending on the locale. Returns 0, or -1 for anything else or a non-finite value.
 */
int import_number(const char *s, size_t len, double *out);

/* strndup that returns NULL on out of memory only. */
char *import_strndup(const char *s, size_t len);

/* A growable, NUL-terminated byte buffer that refuses to grow past max. */
struct import_buf {
	char *data; /* owned; NULL until the first append */
	size_t len, cap, max;
};

/* Appends n bytes; -1 when out of memory or over max (contents unchanged). */
int import_buf_add(struct import_buf *b, const char *s, size_t n);
/* Appends s with whitespace runs collapsed to single spaces (no leading space when empty). */
int import_buf_add_collapsed(struct import_buf *b, const char *s, size_t n);
/* Appends s, preceded by one space unless the buffer is empty. */
int import_buf_add_word(struct import_buf *b, const char *s, size_t n);
void import_buf_reset(struct import_buf *b);
void import_buf_release(struct import_buf *b);

/*
 * The xml:lang / LANG in effect at each element depth of an XML importer: push one per start
 * tag (NULL inherits the parent's), pop one per end tag.
 */
struct import_langs {
	char *at[IMPORT_MAX_DEPTH]; /* at[d] is owned when own[d] */
	bool own[IMPORT_MAX_DEPTH];
	int depth;
};

/* Returns -1 when nested deeper than IMPORT_MAX_DEPTH or out of memory (nothing pushed). */
int import_langs_push(struct import_langs *l, const char *lang, size_t len);
void import_langs_pop(struct import_langs *l);
/* The language in effect (NULL: none), valid until the matching pop. */
const char *import_langs_top(const struct import_langs *l);
void import_langs_release(struct import_langs *l);

/* Lines of a text file or buffer (\n, \r\n or \r), each at most max bytes and UTF-8. */
struct import_lines {
	FILE *f;               /* NULL when reading a buffer */
	const char *data;
	size_t len, pos;
	struct import_buf buf; /* the current line, without its end */
	int line;              /* 1-based number of the current line */
};

/* Opens in; -1 after import_fail (naming the file) when it cannot be opened. */
int import_lines_open(struct import_lines *r, const struct anno_input *in, size_t max,
		      struct import_state *st);
/*
 * Reads the next line into r->buf: 1, 0 at end of file, -1 after import_fail (too long, not
 * UTF-8, I/O).
 */
int import_lines_next(struct import_lines *r, struct import_state *st);
void import_lines_close(struct import_lines *r);

/*
 * CSV rows (RFC 4180 quoting: commas, newlines and "" inside quoted fields) read from r: the
 * first max_cols fields of a row go to field[] unquoted and trimmed, cols counts them all.
 */
struct import_csv {
	struct import_state *st;
	struct import_lines r;
	struct import_buf *field; /* max_cols buffers, not owned */
	int max_cols;
	int cols, start;          /* the row's column count and first line */
};

/* Splits the row starting on the current line of r. -1 after import_fail. */
int import_csv_row(struct import_csv *c);
/* Drops a UTF-8 byte order mark from the current line (call it on the first). */
void import_csv_skip_bom(struct import_csv *c);
/* Whether a line holds nothing but blanks. */
bool import_csv_blank(const char *s);

/*
 * Calls feed(ctx, chunk, len, last) with the bytes of in in chunks (last = 1 for the final,
 * possibly empty, call) until feed returns non-zero. Returns -1 after import_fail when the
 * file cannot be read, else feed's last result.
 */
int import_feed(const struct anno_input *in, struct import_state *st,
		int (*feed)(void *ctx, const char *chunk, int len, int last), void *ctx);

/*
 * The line and word records of OCR formats (ALTO, hOCR), which share their rules: a word's
 * region is its box clamped to the Canvas (none without a box; dropped outside the Canvas);
 * a line's region is its own box, else the union of its placed words, else none when it had
 * no box; a line whose box lies outside the Canvas and that has no placed word is dropped.
 */
struct import_ocr {
	struct import_state *st;
	const struct anno_target *target;
	const char *generator;  /* for every record; not owned */
	/* the line being read */
	bool in_line, has_box, has_union;
	size_t index;           /* of its record in out */
	int start;              /* the line it starts on in the source */
	double box[4];          /* its own box in Canvas pixels, not yet clamped */
	double uni[4];          /* x0 y0 x1 y1 of its placed words */
	struct import_buf text; /* its words joined by spaces */
};

/* Starts a line record (box NULL: none) in language lang. -1 after import_fail. */
int import_ocr_line_start(struct import_ocr *o, int line, const double *box, const char *lang);

/*
 * Adds a word record (box NULL: none; score < 0: none) and its text to the line being read,
 * if any. -1 after import_fail.
 */
int import_ocr_word(struct import_ocr *o, int line, const char *text, size_t len,
		    const double *box, double score, const char *lang);

/*
 * Ends the line, using text instead of its words' when text is not NULL: sets its text and
 * region, or removes it when it has no text. -1 after import_fail.
 */
int import_ocr_line_end(struct import_ocr *o, const struct import_buf *text);

/* Initializes libxml2 once, safely from any thread. */
void import_xml_init(void);

#endif
