/*
 * webanno.h: stored annotation records as W3C Web Annotations in IIIF Presentation 3.0 JSON,
 * and Web Annotations sent to the write API validated into records.
 */
#ifndef IIIFD_ANNOTATION_WEBANNO_H
#define IIIFD_ANNOTATION_WEBANNO_H

#include <jansson.h>

#include "annotation/record.h"
#include "core/error.h"
#include "presentation/canvas_index.h"

/* The JSON-LD context of iiifd's own annotation terms ("score"), served at this path. */
#define WEBANNO_CONTEXT_PATH "/iiif/context/annotations.json"
#define WEBANNO_TEXT_GRANULARITY_CONTEXT \
	"http://iiif.io/api/extension/text-granularity/context.json"
#define WEBANNO_PRESENTATION_CONTEXT "http://iiif.io/api/presentation/3/context.json"

/*
 * The Presentation 2.1 (and Search 1.0) name of a store motivation: text on the Canvas (OCR,
 * transcripts: supplementing) is sc:painting, as in the 2.1 examples; others are oa:{name}.
 * g_free.
 */
char *webanno_motivation_v2(const char *motivation);

/* The motivations the store accepts (NULL-terminated). */
extern const char *const webanno_motivations[];

/* The document served at WEBANNO_CONTEXT_PATH. */
extern const char webanno_context_document[];

/* "{canvas_id}#xywh=..." / "#t=..." / canvas_id: the target of r (g_free). */
char *webanno_target(const struct anno_record *r, const char *canvas_id);

/* The Annotation for r on canvas_id; its id is "{id_base}/{r->id}". New reference. */
json_t *webanno_to_json(const struct anno_record *r, const char *canvas_id, const char *id_base);

/*
 * The @context array for documents holding annotations (both extension contexts, then
 * Presentation 3's), origin being the server's base URL.
 */
json_t *webanno_context(const char *origin);

/*
 * The @context of doc: the extension contexts its properties need (resourceCoords: the georef
 * extension's, first; textGranularity: IIIF text
 * granularity; score: iiifd's own, at origin + WEBANNO_CONTEXT_PATH), then main_context (the
 * API's own, which comes last); just main_context when doc needs none. New reference.
 */
json_t *webanno_context_for(const json_t *doc, const char *origin, const char *main_context);

/*
 * A copy of the object doc with "@context" (stolen) as its first property, as JSON-LD
 * documents of the IIIF APIs start. New reference.
 */
json_t *webanno_with_context(const json_t *doc, json_t *context);

/*
 * Splits "URL#fragment" and finds the Canvas URL among the Manifest's Canvases: 0 with *n its
 * 1-based number and *fragment what follows '#' (NULL: none), or -1 with a 400 in err.
 */
int webanno_canvas(const char *url, const struct pres_canvas_index *idx, size_t *n,
		   const char **fragment, struct iiifd_error *err);

/*
 * Validates a Web Annotation sent by a client against the Manifest's Canvases and fills rec
 * (target_file, page, motivation, text, language, region or time; not creator, which the caller
 * sets from the credentials). 400 with a reason naming the offending property; numbers in
 * fragments must be plain finite decimals.
 */
int webanno_from_json(const json_t *doc, const struct pres_canvas_index *idx,
		      struct anno_record *rec, struct iiifd_error *err);

#endif
