/*
 * coco.c: COCO object detection JSON to "tagging" records: category names on boxes scaled from
 * each COCO image's size to its Canvas, with detector scores and the generator from "info".
 * Streamed with yajl in two passes, because the keys of a COCO file come in any order: the
 * first checks the syntax and keeps info, images and categories (small); the second turns each
 * element of "annotations" into a record as soon as it ends. Memory does not grow with the file.
 */
#include "annotation/importers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_parse.h>

#include "annotation/coco_seg.h"
#include "annotation/import.h"

/* A policy limit on what one file may hold (the import itself streams). */
#define COCO_MAX_BYTES (256 * 1024 * 1024)
/* Real files nest 5 deep (segmentation polygons); yajl itself has no limit. */
#define COCO_MAX_DEPTH 512

/* A scalar member of an element, as far as the checks need it. */
enum coco_type { CV_NONE, CV_NULL, CV_INT, CV_REAL, CV_STR, CV_OTHER };

struct coco_val {
	enum coco_type type;
	long long i;
	double d;
	char *s; /* owned, for CV_STR */
};

struct coco_image {
	long long id;
	size_t index;          /* in "images" */
	double width, height;  /* the size the boxes refer to */
	struct anno_target target;
};

struct coco_category {
	long long id;
	size_t index;
	const char *name;      /* the raw element's */
};

/* What the first pass keeps of an element of images or categories (unchecked). */
struct coco_raw {
	struct coco_val v[4]; /* images: id, file_name, width, height; categories: id, name */
};

enum coco_top { TOP_OTHER, TOP_INFO, TOP_IMAGES, TOP_CATEGORIES, TOP_ANNOTATIONS };

/* The members of one annotation that matter. */
struct coco_ann {
	struct coco_val image_id, category_id, score;
	enum { BB_ABSENT, BB_NULL, BB_ARRAY, BB_OTHER } bbox;
	int n_box;
	bool box_bad;
	double box[4];
};

struct coco {
	struct import_state *st;
	anno_resolve_fn resolve;
	void *ctx;
	int pass;                 /* 1 or 2 */
	/* where the parser is */
	int depth;                /* containers open */
	enum coco_top top;        /* the member of the top-level object being read */
	int field;                /* member of the element being read (-1: none that matters) */
	bool in_bbox;
	/* pass 1 */
	struct coco_raw *raw[2];  /* images, categories */
	size_t n_raw[2], cap_raw[2];
	bool is_array[3];         /* images, categories, annotations are arrays */
	char *generator;
	int generator_rank;       /* description 0, contributor 1, model 2; 3: none yet */
	/* after pass 1 */
	struct coco_image *images;
	size_t n_images;
	struct coco_category *categories;
	size_t n_categories;
	/* pass 2 */
	size_t n_ann;             /* annotations started */
	struct coco_ann ann;
	bool in_seg;              /* inside the annotation's "segmentation" */
	struct coco_seg seg;
	/* syntax error positions */
	int line;                 /* newlines in the chunks before this one, + 1 */
	bool fail_here;           /* a callback failed: give it the line of the parser */
	yajl_handle h;
};

static const char *const coco_image_keys[] = {"id", "file_name", "width", "height"};
static const char *const coco_category_keys[] = {"id", "name"};
static const char *const coco_info_keys[] = {"description", "contributor", "model"};

static void coco_val_clear(struct coco_val *v)
{
	free(v->s);
	memset(v, 0, sizeof *v);
}

static int coco_key_index(const char *const *keys, int n, const unsigned char *key, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(keys[i]) == len && memcmp(keys[i], key, len) == 0)
			return i;
	return -1;
}

/* The element of images or categories being read (pass 1), or NULL. */
static struct coco_raw *coco_raw_current(struct coco *c)
{
	int k = c->top == TOP_IMAGES ? 0 : c->top == TOP_CATEGORIES ? 1 : -1;
	return k < 0 || c->pass != 1 || !c->n_raw[k] ? NULL : &c->raw[k][c->n_raw[k] - 1];
}

static int coco_raw_add(struct coco *c)
{
	int k = c->top == TOP_IMAGES ? 0 : 1;
	if (c->n_raw[k] == c->cap_raw[k]) {
		size_t cap = c->cap_raw[k] ? 2 * c->cap_raw[k] : 64;
		struct coco_raw *r = realloc(c->raw[k], cap * sizeof *r);
		if (!r)
			return import_fail(c->st, 0, "out of memory");
		c->raw[k] = r;
		c->cap_raw[k] = cap;
	}
	memset(&c->raw[k][c->n_raw[k]++], 0, sizeof(struct coco_raw));
	return 0;
}

/* The slot that a scalar at the current position fills, or NULL when it does not matter. */
static struct coco_val *coco_slot(struct coco *c)
{
	if (c->depth != 3 || c->field < 0)
		return NULL;
	struct coco_raw *r = coco_raw_current(c);
	if (r)
		return &r->v[c->field];
	if (c->top != TOP_ANNOTATIONS || c->pass != 2)
		return NULL;
	struct coco_val *slots[] = {&c->ann.image_id, &c->ann.category_id, &c->ann.score};
	return c->field < 3 ? slots[c->field] : NULL;
}

static int coco_fail_here(struct coco *c, const char *msg)
{
	c->fail_here = true;
	import_fail(c->st, 0, "JSON: %s", msg);
	return 0;
}

static int coco_annotation_end(struct coco *c);

/* A value begins at the current position: type is its type (containers: CV_OTHER). */
static int coco_value(struct coco *c, enum coco_type type, bool container)
{
	if (c->depth == 0 && !container)
		return coco_fail_here(c, "the top level is not an object");
	if (c->depth == 1 && c->top >= TOP_IMAGES)
		c->is_array[c->top - TOP_IMAGES] = false; /* set again by a start_array */
	if (c->depth == 2 && (c->top == TOP_IMAGES || c->top == TOP_CATEGORIES) && c->pass == 1)
		return coco_raw_add(c) == 0; /* an element that is not an object: no members */
	if (c->depth == 2 && c->top == TOP_ANNOTATIONS && c->pass == 2 && !container) {
		import_fail(c->st, 0, "annotations[%zu]: not an object", c->n_ann);
		return 0;
	}
	if (c->depth == 3 && c->top == TOP_ANNOTATIONS && c->pass == 2 && c->field == 3)
		c->ann.bbox = type == CV_NULL ? BB_NULL : BB_OTHER;
	if (c->depth == 4 && c->in_bbox) {
		c->ann.box_bad |= type != CV_INT && type != CV_REAL;
		c->ann.n_box++; /* coco_scalar stores the number */
	}
	return 1;
}

static int coco_scalar(struct coco *c, enum coco_type type, long long i, double d)
{
	if (!coco_value(c, type, false) || c->st->failed)
		return 0;
	if (c->in_seg)
		coco_seg_number(&c->seg, c->depth - 3, type == CV_INT || type == CV_REAL,
				type == CV_INT ? (double)i : d);
	if (c->depth == 4 && c->in_bbox && c->ann.n_box <= 4 && (type == CV_INT || type == CV_REAL))
		c->ann.box[c->ann.n_box - 1] = type == CV_INT ? (double)i : d;
	struct coco_val *v = coco_slot(c);
	if (v) {
		coco_val_clear(v);
		*v = (struct coco_val){type, i, d, NULL};
	}
	return 1;
}

static int coco_null(void *ctx)
{
	return coco_scalar(ctx, CV_NULL, 0, 0);
}

static int coco_boolean(void *ctx, int b)
{
	(void)b;
	return coco_scalar(ctx, CV_OTHER, 0, 0);
}

static int coco_integer(void *ctx, long long i)
{
	return coco_scalar(ctx, CV_INT, i, 0);
}

static int coco_double(void *ctx, double d)
{
	return coco_scalar(ctx, CV_REAL, 0, d);
}

/* info.description / contributor / model: the first non-empty one of that order wins. */
static void coco_info(struct coco *c, const unsigned char *s, size_t len)
{
	if (c->field < 0 || c->field >= c->generator_rank || !len || memchr(s, '\0', len))
		return;
	char *g = import_strndup((const char *)s, len);
	if (!g)
		return;
	free(c->generator);
	c->generator = g;
	c->generator_rank = c->field;
}

static int coco_string(void *ctx, const unsigned char *s, size_t len)
{
	struct coco *c = ctx;
	if (!coco_value(c, CV_STR, false) || c->st->failed)
		return 0;
	if (c->depth == 2 && c->top == TOP_INFO && c->pass == 1)
		coco_info(c, s, len);
	if (c->in_seg)
		coco_seg_string(&c->seg, c->depth - 3, s, len);
	struct coco_val *v = coco_slot(c);
	if (!v)
		return 1;
	coco_val_clear(v);
	if (memchr(s, '\0', len)) /* names with NUL name nothing */
		return coco_fail_here(c, "\\u0000 in a string");
	if (!(v->s = import_strndup((const char *)s, len)))
		return import_fail(c->st, 0, "out of memory"), 0;
	v->type = CV_STR;
	return 1;
}

static int coco_open(struct coco *c, bool map)
{
	if (c->depth == 0 && !map)
		return coco_fail_here(c, "the top level is not an object");
	if (c->depth >= COCO_MAX_DEPTH)
		return coco_fail_here(c, "nested deeper than the depth limit");
	if (!coco_value(c, CV_OTHER, true) || c->st->failed)
		return 0;
	if (c->depth == 1 && !map && c->top >= TOP_IMAGES)
		c->is_array[c->top - TOP_IMAGES] = true;
	if (c->depth == 2 && c->top == TOP_ANNOTATIONS && c->pass == 2) {
		if (!map) {
			import_fail(c->st, 0, "annotations[%zu]: not an object", c->n_ann);
			return 0;
		}
		memset(&c->ann, 0, sizeof c->ann);
		coco_seg_reset(&c->seg);
	}
	if (c->depth == 3 && c->top == TOP_ANNOTATIONS && c->pass == 2 && c->field == 4)
		c->in_seg = true;
	if (c->in_seg)
		coco_seg_open(&c->seg, c->depth - 3, map);
	if (c->depth == 3 && c->top == TOP_ANNOTATIONS && c->pass == 2 && c->field == 3 && !map) {
		c->ann.bbox = BB_ARRAY;
		c->in_bbox = true;
	}
	struct coco_val *v = coco_slot(c);
	if (v) {
		coco_val_clear(v);
		v->type = CV_OTHER;
	}
	c->depth++;
	c->field = -1;
	return 1;
}

static int coco_start_map(void *ctx)
{
	return coco_open(ctx, true);
}

static int coco_start_array(void *ctx)
{
	return coco_open(ctx, false);
}

static int coco_close(void *ctx)
{
	struct coco *c = ctx;
	c->depth--;
	if (c->depth == 3 && c->in_bbox)
		c->in_bbox = false;
	if (c->depth == 3)
		c->in_seg = false;
	if (c->depth == 2 && c->top == TOP_ANNOTATIONS && c->pass == 2) {
		int rc = coco_annotation_end(c);
		c->n_ann++;
		return rc == 0;
	}
	if (c->depth == 1)
		c->top = TOP_OTHER;
	c->field = -1;
	return 1;
}

static int coco_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct coco *c = ctx;
	static const char *const tops[] = {"info", "images", "categories", "annotations"};
	static const char *const ann_keys[] = {"image_id", "category_id", "score", "bbox",
					       "segmentation"};
	if (c->depth == 1) {
		int k = coco_key_index(tops, 4, key, len);
		c->top = k < 0 ? TOP_OTHER : (enum coco_top)(k + 1);
	} else if (c->depth == 2 && c->top == TOP_INFO) {
		c->field = coco_key_index(coco_info_keys, 3, key, len);
	} else if (c->depth == 3 && c->top == TOP_IMAGES) {
		c->field = coco_key_index(coco_image_keys, 4, key, len);
	} else if (c->depth == 3 && c->top == TOP_CATEGORIES) {
		c->field = coco_key_index(coco_category_keys, 2, key, len);
	} else if (c->in_seg) {
		coco_seg_key(&c->seg, c->depth - 3, key, len);
	} else if (c->depth == 3 && c->top == TOP_ANNOTATIONS) {
		c->field = coco_key_index(ann_keys, 5, key, len);
		if (c->field == 3 && c->pass == 2) /* a later bbox member replaces an earlier one */
			c->ann.bbox = BB_ABSENT, c->ann.n_box = 0, c->ann.box_bad = false;
	}
	return 1;
}

static const yajl_callbacks coco_callbacks = {
	.yajl_null = coco_null,
	.yajl_boolean = coco_boolean,
	.yajl_integer = coco_integer,
	.yajl_double = coco_double,
	.yajl_string = coco_string,
	.yajl_start_map = coco_start_map,
	.yajl_map_key = coco_map_key,
	.yajl_end_map = coco_close,
	.yajl_start_array = coco_start_array,
	.yajl_end_array = coco_close,
};

/* The line of the parser's position in chunk. */
static int coco_line(struct coco *c, const char *chunk, int len)
{
	size_t used = yajl_get_bytes_consumed(c->h);
	int line = c->line;
	for (size_t i = 0; i < used && i < (size_t)len; i++)
		line += chunk[i] == '\n';
	return line;
}

static int coco_feed(void *ctx, const char *chunk, int len, int last)
{
	struct coco *c = ctx;
	yajl_status s = len ? yajl_parse(c->h, (const unsigned char *)chunk, (size_t)len)
			    : yajl_status_ok;
	if (s == yajl_status_ok && last)
		s = yajl_complete_parse(c->h);
	if (s == yajl_status_error && !c->st->failed) {
		unsigned char *e = yajl_get_error(c->h, 0, NULL, 0);
		size_t n = e ? strcspn((const char *)e, "\n") : 0;
		import_fail(c->st, coco_line(c, chunk, len), "JSON: %.*s", (int)(n > 200 ? 200 : n),
			    e ? (const char *)e : "syntax error");
		yajl_free_error(c->h, e);
	} else if (c->fail_here) {
		c->st->err->line = coco_line(c, chunk, len);
		c->fail_here = false;
	}
	for (int i = 0; i < len; i++)
		c->line += chunk[i] == '\n';
	return c->st->failed ? -1 : 0;
}

static int coco_pass(struct coco *c, const struct anno_input *in, int pass)
{
	c->pass = pass;
	c->depth = 0;
	c->top = TOP_OTHER;
	c->field = -1;
	c->line = 1;
	c->h = yajl_alloc(&coco_callbacks, NULL, c);
	if (!c->h)
		return import_fail(c->st, 0, "out of memory");
	int rc = import_feed(in, c->st, coco_feed, c);
	yajl_free(c->h);
	c->h = NULL;
	return rc;
}

/* ---- after the first pass: images and categories checked, as the annotations need them --- */

static int coco_by_image_id(const void *a, const void *b)
{
	long long x = ((const struct coco_image *)a)->id, y = ((const struct coco_image *)b)->id;
	return x < y ? -1 : x > y;
}

static int coco_by_category_id(const void *a, const void *b)
{
	long long x = ((const struct coco_category *)a)->id;
	long long y = ((const struct coco_category *)b)->id;
	return x < y ? -1 : x > y;
}

static bool coco_is_number(const struct coco_val *v, double *d)
{
	*d = v->type == CV_INT ? (double)v->i : v->type == CV_REAL ? v->d : 0;
	return v->type == CV_INT || v->type == CV_REAL;
}

static int coco_image(struct coco *c, const struct coco_raw *r, size_t i, struct coco_image *im)
{
	const char *name = r->v[1].s;
	if (r->v[0].type != CV_INT)
		return import_fail(c->st, 0, "images[%zu].id: not an integer", i);
	if (r->v[1].type != CV_STR)
		return import_fail(c->st, 0, "images[%zu].file_name: not a string", i);
	im->id = r->v[0].i;
	im->index = i;
	if (!coco_is_number(&r->v[2], &im->width) || !(im->width > 0))
		return import_fail(c->st, 0, "images[%zu].width: not a positive number", i);
	if (!coco_is_number(&r->v[3], &im->height) || !(im->height > 0))
		return import_fail(c->st, 0, "images[%zu].height: not a positive number", i);
	if (c->resolve(c->ctx, name, &im->target) != 0)
		return import_fail(c->st, 0,
				   "images[%zu].file_name '%.80s': no such image next to the file",
				   i, name);
	if (!im->target.file || im->target.width <= 0 || im->target.height <= 0)
		return import_fail(c->st, 0, "images[%zu].file_name '%.80s': the image has no size",
				   i, name);
	return 0;
}

static int coco_images(struct coco *c)
{
	size_t n = c->n_raw[0];
	if (!c->is_array[0])
		return import_fail(c->st, 0, "no \"images\" array");
	if (n && !(c->images = calloc(n, sizeof *c->images)))
		return import_fail(c->st, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (coco_image(c, &c->raw[0][i], i, &c->images[i]) < 0)
			return -1;
	c->n_images = n;
	if (n)
		qsort(c->images, n, sizeof *c->images, coco_by_image_id);
	for (size_t i = 1; i < n; i++)
		if (c->images[i].id == c->images[i - 1].id)
			return import_fail(c->st, 0, "images[%zu].id %lld: used twice",
					   c->images[i].index, c->images[i].id);
	return 0;
}

static int coco_categories(struct coco *c)
{
	size_t n = c->n_raw[1];
	if (!c->is_array[1])
		return import_fail(c->st, 0, "no \"categories\" array");
	if (n && !(c->categories = calloc(n, sizeof *c->categories)))
		return import_fail(c->st, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct coco_raw *r = &c->raw[1][i];
		if (r->v[0].type != CV_INT)
			return import_fail(c->st, 0, "categories[%zu].id: not an integer", i);
		if (r->v[1].type != CV_STR || !*r->v[1].s)
			return import_fail(c->st, 0, "categories[%zu].name: not a string", i);
		c->categories[i] = (struct coco_category){r->v[0].i, i, r->v[1].s};
	}
	c->n_categories = n;
	if (n)
		qsort(c->categories, n, sizeof *c->categories, coco_by_category_id);
	for (size_t i = 1; i < n; i++)
		if (c->categories[i].id == c->categories[i - 1].id)
			return import_fail(c->st, 0, "categories[%zu].id %lld: used twice",
					   c->categories[i].index, c->categories[i].id);
	return 0;
}

static int coco_checks(struct coco *c)
{
	if (coco_images(c) < 0 || coco_categories(c) < 0)
		return -1;
	if (!c->is_array[2])
		return import_fail(c->st, 0, "no \"annotations\" array");
	return 0;
}

/* ---- the second pass: one record per annotation ------------------------------------------- */

/* The bbox scaled to the Canvas: 1, 0 for none (whole Canvas), -1 after import_fail. */
static int coco_bbox(struct coco *c, const struct coco_image *im, double box[4])
{
	const struct coco_ann *a = &c->ann;
	size_t i = c->n_ann;
	if (a->bbox == BB_ABSENT || a->bbox == BB_NULL)
		return 0;
	if (a->bbox != BB_ARRAY || a->n_box != 4 || a->box_bad)
		return import_fail(c->st, 0, "annotations[%zu].bbox: not 4 numbers", i);
	memcpy(box, a->box, sizeof a->box);
	if (box[2] < 0 || box[3] < 0)
		return import_fail(c->st, 0, "annotations[%zu].bbox: negative width or height", i);
	double sx = (double)im->target.width / im->width;
	double sy = (double)im->target.height / im->height;
	box[0] *= sx, box[2] *= sx, box[1] *= sy, box[3] *= sy;
	return 1;
}

/* The score: 0..1, -1 for none, -2 after import_fail. */
static double coco_score(struct coco *c)
{
	double v;
	if (c->ann.score.type == CV_NONE || c->ann.score.type == CV_NULL)
		return -1;
	if (!coco_is_number(&c->ann.score, &v) || !(v >= 0 && v <= 1)) {
		import_fail(c->st, 0, "annotations[%zu].score: not a number from 0 to 1", c->n_ann);
		return -2;
	}
	return v;
}

/* Finds the image and category of the annotation; -1 after import_fail. */
static int coco_refs(struct coco *c, const struct coco_image **im,
		     const struct coco_category **cat)
{
	size_t i = c->n_ann;
	if (c->ann.image_id.type != CV_INT)
		return import_fail(c->st, 0, "annotations[%zu].image_id: not an integer", i);
	if (c->ann.category_id.type != CV_INT)
		return import_fail(c->st, 0, "annotations[%zu].category_id: not an integer", i);
	struct coco_image ikey = {.id = c->ann.image_id.i};
	struct coco_category ckey = {.id = c->ann.category_id.i};
	*im = c->n_images ? bsearch(&ikey, c->images, c->n_images, sizeof ikey, coco_by_image_id)
			  : NULL;
	if (!*im)
		return import_fail(c->st, 0, "annotations[%zu].image_id %lld: no such image", i,
				   ikey.id);
	*cat = c->n_categories ? bsearch(&ckey, c->categories, c->n_categories, sizeof ckey,
					 coco_by_category_id)
			       : NULL;
	if (!*cat)
		return import_fail(c->st, 0, "annotations[%zu].category_id %lld: no such category",
				   i, ckey.id);
	return 0;
}

static int coco_annotation_end(struct coco *c)
{
	const struct coco_image *im = NULL;
	const struct coco_category *cat = NULL;
	double box[4];
	if (coco_refs(c, &im, &cat) < 0)
		return -1;
	int has_box = coco_bbox(c, im, box);
	double score = has_box < 0 ? -2 : coco_score(c);
	if (score < -1)
		return -1;
	char *polygon = NULL;
	double pbox[4];
	const char *why = NULL;
	double cw = (double)im->target.width, ch = (double)im->target.height;
	int outlined = coco_seg_outline(&c->seg, im->width, im->height, cw, ch, &polygon, pbox, &why);
	if (outlined < 0)
		return import_fail(c->st, 0, "annotations[%zu].segmentation: %s", c->n_ann, why);
	if (outlined && !has_box) {
		box[0] = pbox[0], box[1] = pbox[1], box[2] = pbox[2] - pbox[0];
		box[3] = pbox[3] - pbox[1];
		has_box = 1;
	}
	return import_add_detection(c->st, 0, &im->target, cat->name, has_box ? box : NULL, polygon,
				    score, c->generator);
}

static void coco_release(struct coco *c)
{
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < c->n_raw[k]; i++)
			for (int f = 0; f < 4; f++)
				coco_val_clear(&c->raw[k][i].v[f]);
		free(c->raw[k]);
	}
	coco_val_clear(&c->ann.image_id);
	coco_val_clear(&c->ann.category_id);
	coco_val_clear(&c->ann.score);
	coco_seg_release(&c->seg);
	free(c->images);
	free(c->categories);
	free(c->generator);
}

static int coco_run(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
		    struct anno_list *out, const struct anno_sink *sink,
		    struct anno_import_error *err)
{
	struct import_state st;
	struct coco c = {.st = &st, .resolve = resolve, .ctx = ctx, .generator_rank = 3};
	import_begin(&st, out, sink, err);
	struct stat sb;
	int rc = 0;
	if ((in->path && stat(in->path, &sb) == 0 && sb.st_size > COCO_MAX_BYTES) ||
	    (!in->path && in->len > COCO_MAX_BYTES))
		rc = import_fail(&st, 0, "COCO file larger than %d MiB", COCO_MAX_BYTES >> 20);
	if (rc == 0)
		rc = coco_pass(&c, in, 1);
	if (rc == 0)
		rc = coco_checks(&c);
	if (rc == 0)
		rc = coco_pass(&c, in, 2);
	coco_release(&c);
	return import_finish(&st, rc);
}

int anno_import_coco(const char *path, anno_resolve_fn resolve, void *ctx,
		     struct anno_list *out, struct anno_import_error *err)
{
	struct anno_input in = {.name = path, .path = path};
	return coco_run(&in, resolve, ctx, out, NULL, err);
}

int anno_parse_coco(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
		    const struct anno_sink *sink, struct anno_import_error *err)
{
	return coco_run(in, resolve, ctx, NULL, sink, err);
}
