/*
 * canvas.h: the Canvases of one file: a Canvas per page of an image, or one timed Canvas for an
 * audio or video file with its captions and placeholder.
 */
#ifndef IIIFD_PRESENTATION_CANVAS_H
#define IIIFD_PRESENTATION_CANVAS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "media/probe.h"
#include "presentation/context.h"
#include "presentation/tree.h"

/* One servable file of a Manifest. All borrowed. */
struct pres_file {
	const char *rel;                   /* path below the root, e.g. "books/b1/page1.jpg" */
	const char *abs;                   /* absolute path of the file */
	const char *name;                  /* file name */
	enum tree_kind kind;               /* TREE_IMAGE or TREE_MEDIA */
	const struct tree_listing *folder; /* the listing of its folder, for captions */
};

/* One Canvas a file makes: a page of an image, or the whole of an audio or video file. */
struct pres_canvas_spec {
	int page, npages;       /* 0-based page of an image, and its page count; 0 and 1 for media */
	int64_t width, height;  /* 0 for audio */
	struct media_info media; /* audio and video only */
};

/*
 * The rule that numbers Canvases, shared by Manifests (pres_canvases_add) and by the Canvas
 * index (canvas_index.h): an image makes a Canvas per page, as far as its pages can be probed;
 * audio or video that can be probed makes one; anything else makes none. Returns how many, with
 * *out a g_malloc'd array (g_free); err says why a file made fewer than it should (0 = none).
 */
size_t pres_file_canvases(const struct pres_context *c, const char *abs, enum tree_kind kind,
			  struct pres_canvas_spec **out, struct iiifd_error *err);

/*
 * Appends the Canvases of f to items, numbered from *next (1-based; advanced past them), with
 * ids below manifest_id. props (may be NULL) are sidecar Canvas properties merged into each.
 * The ids of the Canvases added are appended to ids. A file that cannot be probed adds nothing
 * (logged), so one damaged file never takes its Manifest down. Returns the number added.
 */
int pres_canvases_add(const struct pres_context *c, const char *manifest_id,
		      const struct pres_file *f, const json_t *props, json_t *items, int *next,
		      json_t *ids);

/* A thumbnail of a file (first page, poster frame or waveform), or NULL. New reference. */
json_t *pres_file_thumbnail(const struct pres_context *c, const struct pres_file *f);

/* A language map {"none": [text]}. New reference. */
json_t *pres_label(const char *text);

/* The first text of a language map (g_strdup; "" when it has none), for messages. */
char *pres_label_text(const json_t *map);

#endif
