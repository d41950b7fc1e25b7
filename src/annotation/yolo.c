/*
 * yolo.c: YOLO label files (one per image, "class cx cy w h [score]" with coordinates relative
 * to the image, or "class x1 y1 x2 y2 ... [score]" for segmentation outlines) to "tagging"
 * records, class numbers named by the class list (classes.txt / obj.names: one name a line).
 */
#include "annotation/importers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/import.h"
#include "annotation/polygon.h"

#define YOLO_MAX_VALUES (2 * 10000 + 2)
#define YOLO_MAX_CLASSES 100000

int anno_yolo_classes(const struct anno_input *in, char ***names, size_t *n,
		      struct anno_import_error *err)
{
	struct import_state st;
	struct import_lines r;
	struct anno_list none = {0};
	import_begin(&st, &none, NULL, err);
	*names = NULL;
	*n = 0;
	size_t cap = 0;
	int rc = import_lines_open(&r, in, 4096, &st);
	while (rc == 0 && (rc = import_lines_next(&r, &st)) == 1) {
		const char *s = r.buf.data;
		size_t len = r.buf.len;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		if (!len) { /* blank lines end the list (some tools write one at the end) */
			rc = 0;
			continue;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			char **g = cap <= YOLO_MAX_CLASSES ? realloc(*names, cap * sizeof *g) : NULL;
			if (!g) {
				rc = import_fail(&st, r.line, "more than %d classes", YOLO_MAX_CLASSES);
				break;
			}
			*names = g;
		}
		if (!((*names)[*n] = import_strndup(s, len))) {
			rc = import_fail(&st, r.line, "out of memory");
			break;
		}
		(*n)++;
		rc = 0;
	}
	import_lines_close(&r);
	if (rc < 0 || st.failed) {
		anno_yolo_classes_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return import_finish(&st, rc < 0 ? -1 : 0);
}

void anno_yolo_classes_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Splits a line into numbers; -1 after import_fail. */
static int yolo_numbers(struct import_state *st, int line, const char *s, double *v, int *n)
{
	*n = 0;
	while (*s) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		size_t len = strcspn(s, " \t");
		if (*n == YOLO_MAX_VALUES)
			return import_fail(st, line, "more than %d values", YOLO_MAX_VALUES);
		if (import_number(s, len, &v[*n]) < 0)
			return import_fail(st, line, "value %d: '%.*s' is not a number", *n + 1,
					   (int)(len > 40 ? 40 : len), s);
		(*n)++;
		s += len;
	}
	return 0;
}

static int yolo_relative(struct import_state *st, int line, const double *v, int from, int to)
{
	for (int i = from; i < to; i++)
		if (v[i] < -0.01 || v[i] > 1.01)
			return import_fail(st, line, "value %d: %g is not relative to the image (0..1)",
					   i + 1, v[i]);
	return 0;
}

/* The outline of "x1 y1 x2 y2 ..." relative coordinates: 1, 0 when nothing is left. */
static int yolo_outline(struct import_state *st, int line, const double *v, int n,
			const struct anno_target *t, char **polygon, double box[4])
{
	struct polygon_builder b = {0};
	double cw = (double)t->width, ch = (double)t->height;
	polygon_ring_start(&b);
	for (int i = 0; i + 1 < n; i += 2)
		if (polygon_point(&b, v[i] * cw, v[i + 1] * ch, cw, ch) < 0) {
			polygon_builder_release(&b);
			return import_fail(st, line, "outline too long");
		}
	*polygon = polygon_finish(&b, box);
	return *polygon != NULL;
}

static int yolo_line(struct import_state *st, int line, const double *v, int n,
		     const struct anno_target *t, char *const *classes, size_t n_classes,
		     const char *generator)
{
	if (n != 5 && n != 6 && n < 7)
		return import_fail(st, line, "%d values: expected class cx cy w h [score], or class "
					     "and x y pairs of an outline [score]", n);
	/* range first: converting a double past what size_t holds is undefined */
	if (!(v[0] >= 0 && v[0] < (double)n_classes) || v[0] != floor(v[0]))
		return import_fail(st, line, "class %g is not in the class list (%zu classes)", v[0],
				   n_classes);
	bool outline = n >= 7, scored = outline ? n % 2 == 0 : n == 6;
	int coords = scored ? n - 1 : n;
	double score = scored ? v[n - 1] : -1;
	if (scored && !(score >= 0 && score <= 1))
		return import_fail(st, line, "score %g is not from 0 to 1", score);
	if (yolo_relative(st, line, v, 1, coords) < 0)
		return -1;
	double box[4], cw = (double)t->width, ch = (double)t->height;
	char *polygon = NULL;
	if (outline) {
		if (!yolo_outline(st, line, v + 1, coords - 1, t, &polygon, box))
			return st->failed ? -1 : (import_drop(st, line), 0);
		box[2] -= box[0], box[3] -= box[1];
	} else {
		box[0] = (v[1] - v[3] / 2) * cw, box[1] = (v[2] - v[4] / 2) * ch;
		box[2] = v[3] * cw, box[3] = v[4] * ch;
	}
	return import_add_detection(st, line, t, classes[(size_t)v[0]], box, polygon, score,
				    generator);
}

int anno_parse_yolo(const struct anno_input *in, const struct anno_target *target,
		    char *const *classes, size_t n_classes, const struct anno_sink *sink,
		    struct anno_import_error *err)
{
	struct import_state st;
	struct import_lines r = {0};
	import_begin(&st, NULL, sink, err);
	double *v = malloc(YOLO_MAX_VALUES * sizeof *v);
	int rc = -1;
	if (!v || !target->file || target->width <= 0 || target->height <= 0)
		import_fail(&st, 0, v ? "the target has no file or no Canvas size" : "out of memory");
	else
		rc = import_lines_open(&r, in, 1 << 20, &st);
	while (rc == 0 && (rc = import_lines_next(&r, &st)) == 1) {
		int n;
		rc = yolo_numbers(&st, r.line, r.buf.data, v, &n);
		if (rc == 0 && n)
			rc = yolo_line(&st, r.line, v, n, target, classes, n_classes, NULL);
	}
	import_lines_close(&r);
	free(v);
	return import_finish(&st, rc < 0 ? -1 : 0);
}
