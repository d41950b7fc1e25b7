/*
 * importers.h: parsers that turn OCR, transcripts and machine-learning output into annotation
 * records: ALTO (v2-v4) and hOCR (lines and words), WebVTT (timed cues), COCO detection JSON and a
 * simple CSV (tags). Pure: file in, records out; nothing is stored here.
 */
#ifndef IIIFD_ANNOTATION_IMPORTERS_H
#define IIIFD_ANNOTATION_IMPORTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annotation/record.h"

/*
 * Where a malformed file went wrong: line (1-based, 0 if unknown) and what. After a successful
 * import msg is empty, or a note to log: how many boxes were dropped because nothing of them
 * was left once clamped to the Canvas (line: the first one's, 0 if unknown).
 */
struct anno_import_error {
	int line;
	char msg[256];
};

/* The Canvas an OCR or transcript file belongs to. */
struct anno_target {
	const char *file;     /* path below the root of the image/media file */
	int page;             /* 0-based */
	int64_t width, height; /* Canvas size in pixels (images) */
};

/*
 * What an importer reads: the file at path, or (path NULL) the len bytes at data. name is
 * what messages call it. Not owned.
 */
struct anno_input {
	const char *name;
	const char *path;
	const char *data;
	size_t len;
};

/*
 * Where a streaming import puts its records: put() is called with batches of complete records
 * (lines with their words; "#N" line references index the batch) and may change them; they are
 * released when it returns. A non-zero return stops the import with msg as its error. The
 * importer may have called put() before it fails: the consumer must undo those (a transaction).
 */
struct anno_sink {
	int (*put)(void *ctx, struct anno_list *batch, char *msg, size_t size);
	void *ctx;
};

/*
 * ALTO and hOCR: one "supplementing" record per TextLine/ocr_line (granularity "line", text = its
 * words joined by spaces) and per String/ocrx_word (granularity "word"), in reading order (seq),
 * with coordinates scaled from the OCR page size (ALTO MeasurementUnit pixel, mm10 or inch1200;
 * hOCR bbox of the ocr_page) to target->width x target->height. Returns 0, or -1 with err set
 * and out left empty (all or nothing).
 */
int anno_import_alto(const char *path, const struct anno_target *target, struct anno_list *out,
		     struct anno_import_error *err);
int anno_import_hocr(const char *path, const struct anno_target *target, struct anno_list *out,
		     struct anno_import_error *err);
/* The same, streamed: records go to sink in batches, so memory stays bounded. */
int anno_parse_alto(const struct anno_input *in, const struct anno_target *target,
		    const struct anno_sink *sink, struct anno_import_error *err);
int anno_parse_hocr(const struct anno_input *in, const struct anno_target *target,
		    const struct anno_sink *sink, struct anno_import_error *err);

/*
 * PAGE XML (2010-2019 schemas): per TextRegion in ReadingOrder a "block" record, then per
 * TextLine a "line" record and per Word a "word" record ("supplementing"), each with its Coords
 * outline scaled from Page@imageWidth/imageHeight to the Canvas (polygon, and its bounding box
 * as region), text from TextEquiv/Unicode (lines without one: their words; regions: their
 * lines, one a row), score from TextEquiv@conf, generator from Metadata/Creator. Elements
 * without text or without place on the Canvas are left out. DTDs are refused.
 */
int anno_import_page(const char *path, const struct anno_target *target, struct anno_list *out,
		     struct anno_import_error *err);
int anno_parse_page(const struct anno_input *in, const struct anno_target *target,
		    const struct anno_sink *sink, struct anno_import_error *err);
/* Whether an .xml file is PAGE XML (its namespace in the first 4 KiB), not ALTO. */
bool anno_is_page_xml(const struct anno_input *in);

/* WebVTT: one "supplementing" record per cue, with start/end and its text (tags stripped). */
int anno_import_vtt(const char *path, const struct anno_target *target, struct anno_list *out,
		    struct anno_import_error *err);
int anno_parse_vtt(const struct anno_input *in, const struct anno_target *target,
		   const struct anno_sink *sink, struct anno_import_error *err);

/*
 * Finds the Canvas for an image named in a COCO or CSV file (its file_name / file column, a
 * path relative to the folder of the imported file). Returns 0 with *target filled (strings
 * owned by the resolver, valid until the import returns) or -1 for an unknown image.
 */
typedef int (*anno_resolve_fn)(void *ctx, const char *name, struct anno_target *target);

/*
 * COCO: for each annotation with a bbox, a "tagging" record with text = its category name,
 * the region scaled from the COCO image's width/height to the Canvas, and score when present;
 * an image-level annotation without bbox tags the whole Canvas. generator = info.description
 * (or info.contributor / "model" key) when given. Unknown image names are an error.
 */
int anno_import_coco(const char *path, anno_resolve_fn resolve, void *ctx,
		     struct anno_list *out, struct anno_import_error *err);
int anno_parse_coco(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
		    const struct anno_sink *sink, struct anno_import_error *err);

/*
 * CSV with header "file,x,y,w,h,label,score" (x..h may be empty for a whole-image label, score
 * may be empty): one "tagging" record per row, coordinates already in image pixels.
 */
int anno_import_csv(const char *path, anno_resolve_fn resolve, void *ctx, struct anno_list *out,
		    struct anno_import_error *err);
int anno_parse_csv(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
		   const struct anno_sink *sink, struct anno_import_error *err);

/*
 * Timed machine-learning output for audio and video, on target (the media file):
 * JSON: a top-level array or {"segments": [...]} (Whisper's output, "model" naming the
 * generator) of {start, end, text | label | speaker, [score | confidence | probability],
 * [words: [{word | text, start, end, probability}]]}: segments with text are "line" records
 * (supplementing) with their timed words as "word" records; labelled ones "tagging" records.
 * CSV: a header naming start, end and label (or speaker, class) or text columns, and an
 * optional score; times in seconds or [hh:]mm:ss.fff.
 */
int anno_parse_timed_json(const struct anno_input *in, const struct anno_target *target,
			  const struct anno_sink *sink, struct anno_import_error *err);
int anno_parse_timed_csv(const struct anno_input *in, const struct anno_target *target,
			 const struct anno_sink *sink, struct anno_import_error *err);
/* Whether a CSV file's header names start and end columns (and no file column). */
bool anno_is_timed_csv(const struct anno_input *in);

/*
 * YOLO labels of one image (target): per line "class cx cy w h [score]" relative to the image,
 * or "class x1 y1 ... xn yn [score]" (an outline, n >= 3), as "tagging" records named by
 * classes[class].
 */
int anno_parse_yolo(const struct anno_input *in, const struct anno_target *target,
		    char *const *classes, size_t n_classes, const struct anno_sink *sink,
		    struct anno_import_error *err);
/* A YOLO class list (one name a line) into *names (free with anno_yolo_classes_free). */
int anno_yolo_classes(const struct anno_input *in, char ***names, size_t *n,
		      struct anno_import_error *err);
void anno_yolo_classes_free(char **names, size_t n);

/*
 * Label Studio JSON export: for each task (its image from data.image, resolved by file name),
 * the rectanglelabels, polygonlabels and choices results of its annotations and predictions,
 * as "tagging" records (rotated rectangles and polygons with outlines; choices on the whole
 * image); predictions give model_version as generator and their score. Errors name the JSON
 * path ("[2].predictions[0].result[1].value.x").
 */
int anno_parse_label_studio(const struct anno_input *in, anno_resolve_fn resolve, void *ctx,
			    const struct anno_sink *sink, struct anno_import_error *err);

/*
 * Text must be UTF-8: CSV and WebVTT lines and hOCR bytes are checked as they are read (ALTO
 * by libxml2); invalid UTF-8 fails the import with its line.
 */

#endif
