/*
 * dataset_write.c: the output formats. Boxes and outlines are mapped from Canvas pixels to the
 * written image (its region and scale); COCO keeps one JSON per split next to its images, YOLO
 * one label file per image and the class list, VOC one XML per image and the split lists, the
 * crop tables one CSV or JSONL file per split.
 */
#include "tools/dataset.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/polygon.h"

struct dataset_writer {
	enum dataset_format format;
	char *out;
	char **labels; /* sorted, borrowed */
	size_t n_labels;
	json_t *coco[3];          /* COCO: one document per split */
	json_int_t next_id;
	GPtrArray *names[3];      /* VOC: image names per split */
	FILE *table[3];           /* CSV / JSONL */
	char *generator;          /* COCO info.description: the one generator of all, if one */
	bool generators_differ;
};

static const char *dataset_image_dirs[][3] = {
	[DATASET_COCO] = {"train", "val", "test"},
	[DATASET_YOLO] = {"images/train", "images/val", "images/test"},
	[DATASET_VOC] = {"JPEGImages", "JPEGImages", "JPEGImages"},
	[DATASET_CSV] = {"crops/train", "crops/val", "crops/test"},
	[DATASET_JSONL] = {"crops/train", "crops/val", "crops/test"},
};

struct dataset_writer *dataset_writer_new(enum dataset_format format, const char *out,
					  char **labels, size_t n_labels)
{
	struct dataset_writer *w = g_new0(struct dataset_writer, 1);
	w->format = format;
	w->out = g_strdup(out);
	w->labels = labels;
	w->n_labels = n_labels;
	w->next_id = 1;
	for (int s = 0; s < 3; s++)
		w->names[s] = g_ptr_array_new_with_free_func(g_free);
	return w;
}

const char *dataset_writer_image_dir(const struct dataset_writer *w, enum dataset_split split)
{
	return dataset_image_dirs[w->format][split];
}

static size_t dataset_label_index(const struct dataset_writer *w, const char *label)
{
	size_t lo = 0, hi = w->n_labels;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(w->labels[mid], label);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* A record's box on the sample's image (x0 y0 x1 y1), clipped; false when nothing is left. */
static bool dataset_map_box(const struct dataset_sample *s, const struct anno_record *r,
			    double b[4])
{
	double sx = (double)s->out_w / (double)s->rw, sy = (double)s->out_h / (double)s->rh;
	double x0 = r->has_xywh ? r->x : 0, y0 = r->has_xywh ? r->y : 0;
	double x1 = r->has_xywh ? r->x + r->w : (double)s->canvas->width;
	double y1 = r->has_xywh ? r->y + r->h : (double)s->canvas->height;
	b[0] = fmax(0, (x0 - (double)s->rx) * sx), b[1] = fmax(0, (y0 - (double)s->ry) * sy);
	b[2] = fmin((double)s->out_w, (x1 - (double)s->rx) * sx);
	b[3] = fmin((double)s->out_h, (y1 - (double)s->ry) * sy);
	for (int k = 0; k < 4; k++)
		b[k] = round(b[k] * 100) / 100;
	return b[2] > b[0] && b[3] > b[1];
}

/* The record's outline on the sample's image, as COCO segmentation rings (NULL: none). */
static json_t *dataset_map_outline(const struct dataset_sample *s, const struct anno_record *r)
{
	double *xy;
	size_t n, *rl, rings;
	if (!r->polygon || polygon_parse(r->polygon, &xy, &n, &rl, &rings) < 0)
		return NULL;
	double sx = (double)s->out_w / (double)s->rw, sy = (double)s->out_h / (double)s->rh;
	json_t *seg = json_array();
	for (size_t i = 0, k = 0; i < rings; i++) {
		json_t *ring = json_array();
		for (size_t j = 0; j < rl[i]; j++, k++) {
			double x = fmin(fmax((xy[2 * k] - (double)s->rx) * sx, 0), (double)s->out_w);
			double y = fmin(fmax((xy[2 * k + 1] - (double)s->ry) * sy, 0), (double)s->out_h);
			json_array_append_new(ring, json_real(round(x * 100) / 100));
			json_array_append_new(ring, json_real(round(y * 100) / 100));
		}
		json_array_append_new(seg, ring);
	}
	free(xy);
	free(rl);
	return seg;
}

/* Calls add for every record of the sample that has a label and a place on its image. */
#define DATASET_EACH(s, r, b)                                                               \
	for (size_t i_ = 0; i_ < ((s)->only ? 1 : (s)->canvas->records.count); i_++)        \
		for (const struct anno_record *r = (s)->only ? (s)->only                    \
							      : &(s)->canvas->records.items[i_]; \
		     r; r = NULL)                                                           \
			if (r->text && dataset_map_box((s), r, (b)))

static void dataset_note_generator(struct dataset_writer *w, const char *g)
{
	if (w->generators_differ || !g)
		return;
	if (!w->generator)
		w->generator = g_strdup(g);
	else if (strcmp(w->generator, g) != 0)
		w->generators_differ = true;
}

static int dataset_coco_add(struct dataset_writer *w, const struct dataset_sample *s)
{
	enum dataset_split sp = s->canvas->split;
	if (!w->coco[sp])
		w->coco[sp] = json_pack("{s:[], s:[], s:[]}", "images", "annotations", "categories");
	json_int_t image_id = (json_int_t)json_array_size(json_object_get(w->coco[sp], "images")) + 1;
	json_array_append_new(json_object_get(w->coco[sp], "images"),
			      json_pack("{s:I, s:s, s:I, s:I, s:s}", "id", image_id, "file_name",
					s->name, "width", (json_int_t)s->out_w, "height",
					(json_int_t)s->out_h, "iiif_canvas", s->canvas->canvas_id));
	double b[4];
	DATASET_EACH(s, r, b) {
		size_t cat = dataset_label_index(w, r->text);
		json_t *a = json_pack("{s:I, s:I, s:I, s:[f, f, f, f], s:f, s:i}", "id",
				      w->next_id++, "image_id", image_id, "category_id",
				      (json_int_t)cat + 1, "bbox", b[0], b[1], b[2] - b[0],
				      b[3] - b[1], "area", (b[2] - b[0]) * (b[3] - b[1]), "iscrowd", 0);
		json_t *seg = dataset_map_outline(s, r);
		json_object_set_new(a, "segmentation", seg ? seg : json_array());
		if (r->has_score)
			json_object_set_new(a, "score", json_real(r->score));
		dataset_note_generator(w, r->generator);
		json_array_append_new(json_object_get(w->coco[sp], "annotations"), a);
	}
	return 0;
}

static char *dataset_stem(const char *name)
{
	const char *dot = strrchr(name, '.');
	return g_strndup(name, dot ? (gsize)(dot - name) : strlen(name));
}

static int dataset_yolo_add(struct dataset_writer *w, const struct dataset_sample *s)
{
	char *stem = dataset_stem(s->name);
	char *path = g_strdup_printf("%s/labels/%s/%s.txt", w->out,
				     dataset_split_names[s->canvas->split], stem);
	char *dir = g_path_get_dirname(path);
	g_mkdir_with_parents(dir, 0755);
	FILE *f = fopen(path, "w");
	double b[4];
	if (f) {
		DATASET_EACH(s, r, b) {
			size_t cat = dataset_label_index(w, r->text);
			double W = (double)s->out_w, H = (double)s->out_h;
			fprintf(f, "%zu %.6f %.6f %.6f %.6f", cat, (b[0] + b[2]) / 2 / W,
				(b[1] + b[3]) / 2 / H, (b[2] - b[0]) / W, (b[3] - b[1]) / H);
			if (r->has_score)
				fprintf(f, " %.6f", r->score);
			fputc('\n', f);
		}
	}
	int rc = f && fclose(f) == 0 ? 0 : -1;
	g_free(dir);
	g_free(path);
	g_free(stem);
	return rc;
}

static int dataset_voc_add(struct dataset_writer *w, const struct dataset_sample *s)
{
	char *stem = dataset_stem(s->name);
	char *path = g_strdup_printf("%s/Annotations/%s.xml", w->out, stem);
	char *dir = g_path_get_dirname(path);
	g_mkdir_with_parents(dir, 0755);
	GString *x = g_string_new(NULL);
	g_string_append_printf(x, "<annotation>\n  <folder>JPEGImages</folder>\n"
				  "  <filename>%s</filename>\n", s->name);
	char *canvas = g_markup_escape_text(s->canvas->canvas_id, -1);
	g_string_append_printf(x, "  <source><database>IIIF</database><image>%s</image></source>\n"
				  "  <size><width>%lld</width><height>%lld</height><depth>3</depth>"
				  "</size>\n  <segmented>0</segmented>\n", canvas,
			       (long long)s->out_w, (long long)s->out_h);
	double b[4];
	DATASET_EACH(s, r, b) {
		char *name = g_markup_escape_text(r->text, -1);
		g_string_append_printf(x, "  <object><name>%s</name><pose>Unspecified</pose>"
					  "<truncated>0</truncated><difficult>0</difficult><bndbox>"
					  "<xmin>%.0f</xmin><ymin>%.0f</ymin><xmax>%.0f</xmax>"
					  "<ymax>%.0f</ymax></bndbox></object>\n",
				       name, floor(b[0]), floor(b[1]), ceil(b[2]), ceil(b[3]));
		g_free(name);
	}
	g_string_append(x, "</annotation>\n");
	int rc = g_file_set_contents(path, x->str, (gssize)x->len, NULL) ? 0 : -1;
	g_ptr_array_add(w->names[s->canvas->split], g_strdup(stem));
	g_string_free(x, TRUE);
	g_free(canvas);
	g_free(dir);
	g_free(path);
	g_free(stem);
	return rc;
}

static void dataset_csv_field(GString *row, const char *v)
{
	g_string_append_c(row, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			g_string_append_c(row, '"');
		g_string_append_c(row, *p);
	}
	g_string_append_c(row, '"');
}

static int dataset_table_add(struct dataset_writer *w, const struct dataset_sample *s)
{
	enum dataset_split sp = s->canvas->split;
	bool csv = w->format == DATASET_CSV;
	if (!w->table[sp]) {
		char *path = g_strdup_printf("%s/%s.%s", w->out, dataset_split_names[sp],
					     csv ? "csv" : "jsonl");
		w->table[sp] = fopen(path, "w");
		g_free(path);
		if (!w->table[sp])
			return -1;
		if (csv)
			fputs("file,text,score,granularity,canvas\n", w->table[sp]);
	}
	const struct anno_record *r = s->only;
	char score[32] = "";
	if (r->has_score)
		g_ascii_formatd(score, sizeof score, "%.6g", r->score);
	if (csv) {
		GString *row = g_string_new(NULL);
		const char *fields[] = {s->path, r->text ? r->text : "", score,
					r->granularity ? r->granularity : "", s->canvas->canvas_id};
		for (int i = 0; i < 5; i++) {
			if (i)
				g_string_append_c(row, ',');
			dataset_csv_field(row, fields[i]);
		}
		g_string_append_c(row, '\n');
		fputs(row->str, w->table[sp]);
		g_string_free(row, TRUE);
	} else {
		json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s}", "file", s->path, "text",
				      r->text ? r->text : "", "score",
				      r->has_score ? json_real(r->score) : json_null(), "granularity",
				      r->granularity ? json_string(r->granularity) : json_null(),
				      "canvas", s->canvas->canvas_id);
		char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12));
		fprintf(w->table[sp], "%s\n", line);
		free(line);
		json_decref(o);
	}
	return ferror(w->table[sp]) ? -1 : 0;
}

int dataset_writer_add(struct dataset_writer *w, const struct dataset_sample *s, char *msg,
		       size_t size)
{
	int rc = w->format == DATASET_COCO   ? dataset_coco_add(w, s)
		 : w->format == DATASET_YOLO ? dataset_yolo_add(w, s)
		 : w->format == DATASET_VOC  ? dataset_voc_add(w, s)
					     : dataset_table_add(w, s);
	if (rc < 0)
		snprintf(msg, size, "cannot write the annotations of %s", s->name);
	return rc;
}

static int dataset_coco_end(struct dataset_writer *w)
{
	for (int sp = 0; sp < 3; sp++) {
		if (!w->coco[sp])
			continue;
		json_t *cats = json_object_get(w->coco[sp], "categories");
		for (size_t i = 0; i < w->n_labels; i++)
			json_array_append_new(cats, json_pack("{s:I, s:s}", "id", (json_int_t)i + 1,
							      "name", w->labels[i]));
		const char *g = w->generator && !w->generators_differ ? w->generator : "iiifd dataset";
		json_object_set_new(w->coco[sp], "info", json_pack("{s:s}", "description", g));
		char *path = g_strdup_printf("%s/%s/_annotations.coco.json", w->out,
					     dataset_split_names[sp]);
		int rc = json_dump_file(w->coco[sp], path, JSON_INDENT(1) | JSON_REAL_PRECISION(12));
		g_free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int dataset_yolo_end(struct dataset_writer *w)
{
	GString *classes = g_string_new(NULL), *yaml = g_string_new(NULL);
	g_string_append_printf(yaml, "path: .\ntrain: images/train\nval: images/val\n"
				     "test: images/test\nnames:\n");
	for (size_t i = 0; i < w->n_labels; i++) {
		g_string_append_printf(classes, "%s\n", w->labels[i]);
		char *q = g_strescape(w->labels[i], NULL);
		g_string_append_printf(yaml, "  %zu: \"%s\"\n", i, q);
		g_free(q);
	}
	char *cp = g_strdup_printf("%s/classes.txt", w->out);
	char *yp = g_strdup_printf("%s/data.yaml", w->out);
	bool ok = g_file_set_contents(cp, classes->str, -1, NULL) &&
		  g_file_set_contents(yp, yaml->str, -1, NULL);
	g_free(cp);
	g_free(yp);
	g_string_free(classes, TRUE);
	g_string_free(yaml, TRUE);
	return ok ? 0 : -1;
}

static int dataset_voc_end(struct dataset_writer *w)
{
	char *dir = g_strdup_printf("%s/ImageSets/Main", w->out);
	g_mkdir_with_parents(dir, 0755);
	bool ok = true;
	for (int sp = 0; sp < 3; sp++) {
		GString *list = g_string_new(NULL);
		for (guint i = 0; i < w->names[sp]->len; i++)
			g_string_append_printf(list, "%s\n", (char *)g_ptr_array_index(w->names[sp], i));
		char *path = g_strdup_printf("%s/%s.txt", dir, dataset_split_names[sp]);
		ok &= g_file_set_contents(path, list->str, -1, NULL);
		g_free(path);
		g_string_free(list, TRUE);
	}
	g_free(dir);
	return ok ? 0 : -1;
}

int dataset_writer_end(struct dataset_writer *w, char *msg, size_t size)
{
	int rc = 0;
	if (w->format == DATASET_COCO)
		rc = dataset_coco_end(w);
	else if (w->format == DATASET_YOLO)
		rc = dataset_yolo_end(w);
	else if (w->format == DATASET_VOC)
		rc = dataset_voc_end(w);
	for (int sp = 0; sp < 3; sp++)
		if (w->table[sp] && fclose(w->table[sp]) != 0)
			rc = -1;
	memset(w->table, 0, sizeof w->table);
	if (rc < 0)
		snprintf(msg, size, "cannot write into %s", w->out);
	return rc;
}

void dataset_writer_free(struct dataset_writer *w)
{
	if (!w)
		return;
	for (int sp = 0; sp < 3; sp++) {
		json_decref(w->coco[sp]);
		g_ptr_array_free(w->names[sp], TRUE);
		if (w->table[sp])
			fclose(w->table[sp]);
	}
	g_free(w->generator);
	g_free(w->out);
	g_free(w);
}
