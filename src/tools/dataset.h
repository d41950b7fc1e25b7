/*
 * dataset.h: `iiifd dataset`: a training set from the annotations of a Collection or Manifest
 * (COCO JSON, YOLO, Pascal VOC, or CSV/JSONL of crops), images rendered by the Image API
 * pipeline, a deterministic train/val/test split by Manifest, and a provenance file naming the
 * IIIF source of every image. The parts share the types below.
 */
#ifndef IIIFD_TOOLS_DATASET_H
#define IIIFD_TOOLS_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "annotation/record.h"

int tools_dataset_main(int argc, char **argv);

enum dataset_format { DATASET_COCO, DATASET_YOLO, DATASET_VOC, DATASET_CSV, DATASET_JSONL };

enum dataset_split { SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST };

extern const char *const dataset_split_names[3];

/* What to export (from the command line). */
struct dataset_opts {
	enum dataset_format format;
	const char *out, *scope, *motivation, *granularity, *seed, *size;
	char **labels, **rights; /* NULL-terminated; NULL: any */
	bool has_score;
	double score_min, score_max;
	bool crops, quiet;
	bool include_protected; /* also what an access policy protects (local runs) */
	int train, val; /* percentages; test is the rest */
	double rate;    /* remote requests per second */
};

/* Whether a record is chosen (text, granularity, label, score; crops need a box). */
bool dataset_wanted(const struct dataset_opts *o, const struct anno_record *r);
/* Whether rights starts with one of the prefixes (NULL prefixes: anything goes). */
bool dataset_rights_ok(char **prefixes, const char *rights);

/* One Canvas with the annotations chosen on it. Strings owned. */
struct dataset_canvas {
	char *manifest;     /* path below the root */
	char *manifest_id;  /* URL */
	char *canvas_id;    /* URL */
	char *service_id;   /* Image API service URL (no trailing slash) */
	char *rights;       /* the Manifest's rights URI, NULL when it states none */
	char *file;         /* image file below the root */
	int page;
	int64_t width, height;
	enum dataset_split split;
	struct anno_list records;
};

/* One image written: a whole Canvas or one annotation's crop, and how it maps to the Canvas. */
struct dataset_sample {
	const struct dataset_canvas *canvas;
	const struct anno_record *only;   /* crops: the annotation; NULL: every one of the Canvas */
	int64_t rx, ry, rw, rh;           /* the region of the Canvas it shows */
	int64_t out_w, out_h;             /* its pixel size */
	char name[160];                   /* file name, without folder */
	char *path;                       /* where it was written, below the output folder */
};

/* Frees a struct dataset_canvas (a GDestroyNotify). */
void dataset_canvas_free(void *c);

/*
 * Output writers: begin once, add each sample (after its image is written), end once. The
 * writer copies out and borrows labels (sorted; category ids are their positions), which must
 * outlive it; free it with dataset_writer_free().
 */
struct dataset_writer;
struct dataset_writer *dataset_writer_new(enum dataset_format format, const char *out,
					  char **labels, size_t n_labels);
/* The folder (below out) that a sample's image goes to. */
const char *dataset_writer_image_dir(const struct dataset_writer *w, enum dataset_split split);
int dataset_writer_add(struct dataset_writer *w, const struct dataset_sample *s, char *msg,
		       size_t size);
int dataset_writer_end(struct dataset_writer *w, char *msg, size_t size);
void dataset_writer_free(struct dataset_writer *w);

/* The split of a Manifest: a stable hash of its path and seed against train/val percentages. */
enum dataset_split dataset_split_of(const char *manifest, const char *seed, int train, int val);

/*
 * A Content State (Content State API 1.0) that opens region x,y,w,h of the Canvas in its
 * Manifest, encoded for a URL by src/contentstate (malloc'd: free).
 */
char *dataset_content_state(const char *manifest_id, const char *canvas_id, int64_t x, int64_t y,
			    int64_t w, int64_t h);

/*
 * A remote IIIF server as the source: Manifests (or a Collection of them) by URL, their
 * annotation pages, and pixels from their Image API services, at most rate requests a second.
 */
struct dataset_remote;
struct dataset_remote *dataset_remote_new(double rate);
void dataset_remote_free(struct dataset_remote *r);
/*
 * Reads the Canvases with chosen annotations of url into canvases (a GPtrArray that takes the
 * struct dataset_canvas * it is given) and their labels into labels (a GHashTable of g_strdup'ed
 * strings it owns). Returns 0, or -1 with msg naming the URL.
 */
int dataset_remote_gather(struct dataset_remote *r, const char *url, const struct dataset_opts *o,
			  void *canvases, void *labels, char *msg, size_t size);
/* The JPEG of a sample from the Canvas's Image service (*bytes, the caller g_frees) and its
 * size. Returns 0, or -1 with msg. */
int dataset_remote_pixels(struct dataset_remote *r, const struct dataset_sample *s,
			  const char *size_param, void **bytes, size_t *len, int64_t *w,
			  int64_t *h, char *msg, size_t msg_size);
/*
 * The chosen annotations of an AnnotationPage's items (Web Annotations) added to c's records,
 * their labels to labels (a GHashTable of strings it owns); the count. Pure: no network.
 */
size_t dataset_remote_read_items(const void *items, struct dataset_canvas *c,
				 const struct dataset_opts *o, void *labels);
/* Requests made so far. */
int64_t dataset_remote_requests(const struct dataset_remote *r);

/* The provenance line (JSON, no newline) of a sample (g_free). */
char *dataset_provenance(const struct dataset_sample *s, const char *size_param);

#endif
