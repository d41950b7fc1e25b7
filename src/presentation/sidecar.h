/*
 * sidecar.h: YAML metadata files (collection.yml, manifest.yml, {file}.yml) read into the
 * Presentation 3.0 JSON shapes they stand for, with every problem reported by file and line.
 * The format is documented in docs/presentation.md.
 */
#ifndef IIIFD_PRESENTATION_SIDECAR_H
#define IIIFD_PRESENTATION_SIDECAR_H

#include <jansson.h>
#include <stdbool.h>

#define SIDECAR_MAX_PROBLEMS 64

struct sidecar_problem {
	int line;       /* 1-based line in the file, 0 when not tied to a line */
	char msg[240];  /* e.g. "rights: 'foo' is not a Creative Commons or RightsStatements.org URI" */
};

struct sidecar_problems {
	int count;      /* problems found; only the first SIDECAR_MAX_PROBLEMS are kept */
	struct sidecar_problem items[SIDECAR_MAX_PROBLEMS];
};

/*
 * What a sidecar says, each part NULL when absent or wholly broken. All owned by the struct.
 *  props:    object of IIIF properties to set on the Manifest/Collection (or Canvas, for a
 *            {file}.yml inside a folder Manifest), already in Presentation 3.0 form:
 *            label/summary (language maps), metadata ([{label, value}] of language maps), rights
 *            (string URI), requiredStatement ({label, value}), provider ([Agent] with id, type
 *            "Agent", label, homepage [..], logo [..]), homepage/seeAlso/rendering (arrays of
 *            {id, type, label?, format?, profile?}; type guessed from format or "Text"), navDate
 *            ("YYYY-MM-DDThh:mm:ssZ"), navPlace (a FeatureCollection), behavior (array of strings),
 *            viewingDirection (string). Only valid parts are present.
 *  canvases: object mapping a file name to an object of Canvas properties (label, summary,
 *            metadata, navDate, ...), same shapes as props.
 *  toc:      array of range nodes: {"label": langmap, "canvases": [file names], "items": [nodes]}
 *            ("canvases" and "items" each optional; "file" optional, a file name for chapters).
 *  chapters: array of {"label": langmap, "start": seconds, "end": seconds} sorted by start.
 */
struct sidecar {
	json_t *props;
	json_t *canvases;
	json_t *toc;
	json_t *chapters;
};

/*
 * Reads the YAML file at path. Returns 0 when the file was read (even with problems, which go to
 * problems and leave the broken part out), -1 when it cannot be opened or is not YAML at all
 * (also a problem). Release with sidecar_release() in every case.
 */
int sidecar_load(const char *path, struct sidecar *out, struct sidecar_problems *problems);
void sidecar_release(struct sidecar *sc);

/*
 * Whether problems about this version of the file at path (its mtime and size) under topic
 * ("" for the file as a whole, or e.g. a name its table of contents refers to) are news: true
 * the first time it is asked for a version, false after. The server logs a broken sidecar once
 * per version rather than at every request that reads it. Safe from any thread.
 */
bool sidecar_report_once(const char *path, const char *topic);

/* A language map from a plain string: {"none": [text]}. New reference. */
json_t *sidecar_language_map(const char *text);

#endif
