/*
 * coco.c: COCO object detection JSON to "tagging" records: category names on boxes scaled from
 * each COCO image's size to its Canvas, with detector scores and the generator from "info".
 */
#include "annotation/importers.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "annotation/import.h"

/* The parsed tree takes several times the file's size; real detection files are far smaller. */
#define COCO_MAX_BYTES (256 * 1024 * 1024)

struct coco_image {
	json_int_t id;
	size_t index;          /* in "images" */
	double width, height;  /* the size the boxes refer to */
	struct anno_target target;
};

struct coco_category {
	json_int_t id;
	size_t index;
	const char *name;      /* in the JSON tree */
};

struct coco {
	struct import_state *st;
	anno_resolve_fn resolve;
	void *ctx;
	struct coco_image *images;
	size_t n_images;
	struct coco_category *categories;
	size_t n_categories;
	const char *generator; /* in the JSON tree */
};

static json_t *coco_load(struct import_state *st, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		import_fail(st, 0, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	json_t *root = NULL;
	json_error_t jerr;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		import_fail(st, 0, "%s is not a regular file", path);
	else if (sb.st_size > COCO_MAX_BYTES)
		import_fail(st, 0, "COCO file larger than %d MiB", COCO_MAX_BYTES >> 20);
	else if (!(root = json_loadfd(fd, 0, &jerr)))
		import_fail(st, jerr.line, "JSON: %s", jerr.text);
	else if (!json_is_object(root))
		import_fail(st, 1, "JSON: the top level is not an object");
	close(fd);
	if (st->failed && root) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

static int coco_by_image_id(const void *a, const void *b)
{
	json_int_t x = ((const struct coco_image *)a)->id, y = ((const struct coco_image *)b)->id;
	return x < y ? -1 : x > y;
}

static int coco_by_category_id(const void *a, const void *b)
{
	json_int_t x = ((const struct coco_category *)a)->id;
	json_int_t y = ((const struct coco_category *)b)->id;
	return x < y ? -1 : x > y;
}

/* A positive number member of an images[] entry; -1 after import_fail. */
static int coco_size(struct coco *c, json_t *img, size_t i, const char *key, double *v)
{
	json_t *n = json_object_get(img, key);
	*v = json_is_number(n) ? json_number_value(n) : 0;
	if (!(*v > 0))
		return import_fail(c->st, 0, "images[%zu].%s: not a positive number", i, key);
	return 0;
}

static int coco_image(struct coco *c, json_t *img, size_t i, struct coco_image *im)
{
	json_t *id = json_object_get(img, "id");
	const char *name = json_string_value(json_object_get(img, "file_name"));
	if (!json_is_integer(id))
		return import_fail(c->st, 0, "images[%zu].id: not an integer", i);
	if (!name)
		return import_fail(c->st, 0, "images[%zu].file_name: not a string", i);
	im->id = json_integer_value(id);
	im->index = i;
	if (coco_size(c, img, i, "width", &im->width) < 0 ||
	    coco_size(c, img, i, "height", &im->height) < 0)
		return -1;
	if (c->resolve(c->ctx, name, &im->target) != 0)
		return import_fail(c->st, 0,
				   "images[%zu].file_name '%.80s': no such image next to the file",
				   i, name);
	if (!im->target.file || im->target.width <= 0 || im->target.height <= 0)
		return import_fail(c->st, 0, "images[%zu].file_name '%.80s': the image has no size",
				   i, name);
	return 0;
}

static int coco_images(struct coco *c, json_t *images)
{
	size_t n = json_array_size(images);
	if (!json_is_array(images))
		return import_fail(c->st, 0, "no \"images\" array");
	if (n && !(c->images = calloc(n, sizeof *c->images)))
		return import_fail(c->st, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (coco_image(c, json_array_get(images, i), i, &c->images[i]) < 0)
			return -1;
	c->n_images = n;
	if (n)
		qsort(c->images, n, sizeof *c->images, coco_by_image_id);
	for (size_t i = 1; i < n; i++)
		if (c->images[i].id == c->images[i - 1].id)
			return import_fail(c->st, 0, "images[%zu].id %lld: used twice",
					   c->images[i].index, (long long)c->images[i].id);
	return 0;
}

static int coco_categories(struct coco *c, json_t *categories)
{
	size_t n = json_array_size(categories);
	if (!json_is_array(categories))
		return import_fail(c->st, 0, "no \"categories\" array");
	if (n && !(c->categories = calloc(n, sizeof *c->categories)))
		return import_fail(c->st, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *cat = json_array_get(categories, i), *id = json_object_get(cat, "id");
		const char *name = json_string_value(json_object_get(cat, "name"));
		if (!json_is_integer(id))
			return import_fail(c->st, 0, "categories[%zu].id: not an integer", i);
		if (!name || !*name)
			return import_fail(c->st, 0, "categories[%zu].name: not a string", i);
		c->categories[i] = (struct coco_category){json_integer_value(id), i, name};
	}
	c->n_categories = n;
	if (n)
		qsort(c->categories, n, sizeof *c->categories, coco_by_category_id);
	for (size_t i = 1; i < n; i++)
		if (c->categories[i].id == c->categories[i - 1].id)
			return import_fail(c->st, 0, "categories[%zu].id %lld: used twice",
					   c->categories[i].index, (long long)c->categories[i].id);
	return 0;
}

/* The bbox of annotations[i] scaled to the Canvas: 1, 0 for none (whole Canvas), -1 on error. */
static int coco_bbox(struct coco *c, json_t *ann, size_t i, const struct coco_image *im,
		     double box[4])
{
	json_t *bbox = json_object_get(ann, "bbox");
	if (!bbox || json_is_null(bbox))
		return 0;
	if (json_array_size(bbox) != 4)
		return import_fail(c->st, 0, "annotations[%zu].bbox: not 4 numbers", i);
	for (size_t k = 0; k < 4; k++) {
		json_t *v = json_array_get(bbox, k);
		if (!json_is_number(v))
			return import_fail(c->st, 0, "annotations[%zu].bbox: not 4 numbers", i);
		box[k] = json_number_value(v);
	}
	if (box[2] < 0 || box[3] < 0)
		return import_fail(c->st, 0, "annotations[%zu].bbox: negative width or height", i);
	double sx = (double)im->target.width / im->width;
	double sy = (double)im->target.height / im->height;
	box[0] *= sx, box[2] *= sx, box[1] *= sy, box[3] *= sy;
	return 1;
}

/* The score of annotations[i]: 0..1, -1 for none, -2 after import_fail. */
static double coco_score(struct coco *c, json_t *ann, size_t i)
{
	json_t *s = json_object_get(ann, "score");
	if (!s || json_is_null(s))
		return -1;
	double v = json_is_number(s) ? json_number_value(s) : -1;
	if (!(v >= 0 && v <= 1)) {
		import_fail(c->st, 0, "annotations[%zu].score: not a number from 0 to 1", i);
		return -2;
	}
	return v;
}

/* Finds the image and category of annotations[i]; -1 after import_fail. */
static int coco_refs(struct coco *c, json_t *ann, size_t i, const struct coco_image **im,
		     const struct coco_category **cat)
{
	json_t *image_id = json_object_get(ann, "image_id");
	json_t *category_id = json_object_get(ann, "category_id");
	if (!json_is_integer(image_id))
		return import_fail(c->st, 0, "annotations[%zu].image_id: not an integer", i);
	if (!json_is_integer(category_id))
		return import_fail(c->st, 0, "annotations[%zu].category_id: not an integer", i);
	struct coco_image ikey = {.id = json_integer_value(image_id)};
	struct coco_category ckey = {.id = json_integer_value(category_id)};
	*im = c->n_images ? bsearch(&ikey, c->images, c->n_images, sizeof ikey, coco_by_image_id)
			  : NULL;
	if (!*im)
		return import_fail(c->st, 0, "annotations[%zu].image_id %lld: no such image", i,
				   (long long)ikey.id);
	*cat = c->n_categories ? bsearch(&ckey, c->categories, c->n_categories, sizeof ckey,
					 coco_by_category_id)
			       : NULL;
	if (!*cat)
		return import_fail(c->st, 0, "annotations[%zu].category_id %lld: no such category",
				   i, (long long)ckey.id);
	return 0;
}

static int coco_annotation(struct coco *c, json_t *ann, size_t i)
{
	const struct coco_image *im = NULL;
	const struct coco_category *cat = NULL;
	double box[4];
	if (!json_is_object(ann))
		return import_fail(c->st, 0, "annotations[%zu]: not an object", i);
	if (coco_refs(c, ann, i, &im, &cat) < 0)
		return -1;
	int has_box = coco_bbox(c, ann, i, im, box);
	double score = has_box < 0 ? -2 : coco_score(c, ann, i);
	if (score < -1)
		return -1;
	struct anno_record placed = {0};
	if (has_box && !import_set_box(c->st, 0, &placed, box, (double)im->target.width,
				       (double)im->target.height))
		return 0;
	struct anno_record *rec =
		import_add(c->st, 0, im->target.file, im->target.page, "tagging", NULL);
	if (!rec)
		return -1;
	rec->has_xywh = placed.has_xywh;
	rec->x = placed.x, rec->y = placed.y, rec->w = placed.w, rec->h = placed.h;
	rec->has_score = score >= 0;
	rec->score = score >= 0 ? score : 0;
	rec->text = strdup(cat->name);
	rec->generator = anno_strdup(c->generator);
	if (!rec->text || (c->generator && !rec->generator))
		return import_fail(c->st, 0, "out of memory");
	return 0;
}

static int coco_import(struct coco *c, json_t *root)
{
	json_t *info = json_object_get(root, "info");
	const char *keys[] = {"description", "contributor", "model"};
	for (size_t k = 0; k < 3 && !c->generator; k++) {
		const char *g = json_string_value(json_object_get(info, keys[k]));
		c->generator = g && *g ? g : NULL;
	}
	json_t *annotations = json_object_get(root, "annotations");
	if (coco_images(c, json_object_get(root, "images")) < 0 ||
	    coco_categories(c, json_object_get(root, "categories")) < 0)
		return -1;
	if (!json_is_array(annotations))
		return import_fail(c->st, 0, "no \"annotations\" array");
	for (size_t i = 0; i < json_array_size(annotations); i++)
		if (coco_annotation(c, json_array_get(annotations, i), i) < 0)
			return -1;
	return 0;
}

static int coco_run(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
		    struct anno_list *out, const struct anno_sink *sink,
		    struct anno_import_error *err)
{
	struct import_state st;
	struct coco c = {.st = &st, .resolve = resolve, .ctx = ctx};
	import_begin(&st, out, sink, err);
	json_t *root = coco_load(&st, in->path);
	int rc = root ? coco_import(&c, root) : -1;
	json_decref(root);
	free(c.images);
	free(c.categories);
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
