/*
 * target.h: what a Presentation URL names: the folder or file below the root whose Collection or
 * Manifest it is, and the path after the "collection"/"manifest" keyword (a Canvas, a page, a
 * search...), and picking that sub-resource out of a built document.
 */
#ifndef IIIFD_PRESENTATION_TARGET_H
#define IIIFD_PRESENTATION_TARGET_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"

struct pres_context;
struct pres_service;

struct pres_target {
	char *rel;       /* owned (g_free): the path below the root; NULL until resolved */
	bool is_folder;
	bool collection; /* asked for /collection rather than /manifest */
	gchar **tail;    /* borrowed from the segments: what follows the keyword */
};

/* Splits and percent-decodes a raw path; NULL when a segment is malformed. g_strfreev it. */
gchar **pres_path_segments(const char *path);

/*
 * Resolves the raw path below /iiif/presentation[-v2]/ into t. *segs gets the percent-decoded
 * segments t->tail points into (g_strfreev it, also on failure; NULL when malformed). -1 with
 * err: 400 for a malformed %-escape, 404 when nothing is there, the storage's status when a
 * remote root did not answer.
 */
int pres_target_resolve(const struct pres_service *svc, const char *path, gchar ***segs,
			struct pres_target *t, struct iiifd_error *err);

/* Frees what t owns and clears it. */
void pres_target_release(struct pres_target *t);

/* The folder a Manifest's files are in (g_free it); "" for the root. */
char *pres_target_folder(const struct pres_target *t);

/*
 * The whole document (tail empty) or the resource embedded in it whose id (3) or @id (2) is the
 * document's id followed by the tail, given the document's @context. New reference, or NULL
 * with a 404 in err.
 */
json_t *pres_target_select(json_t *doc, int version, gchar **tail, struct iiifd_error *err);

/* The URL of t's service named name ("{collection or manifest id}/{name}"; g_free it). */
char *pres_target_service_url(const struct pres_context *c, const struct pres_target *t,
			      const char *name);

#endif
