/*
 * view.h: the Collection and Manifest pages, written from the Presentation 3 documents the
 * presentation service builds (never from the folders themselves), and the search results
 * shown on them.
 */
#ifndef IIIFD_WEB_VIEW_H
#define IIIFD_WEB_VIEW_H

#include <glib.h>
#include <jansson.h>

#include "web/page.h"

/* The query of a page, decoded and checked (NULL when absent). */
struct view_args {
	char *q;       /* a search */
	char *viewer;  /* mirador, uv or clover */
	char *canvas;  /* passed on to the viewer when it is a Canvas of this Manifest */
	char *xywh;    /* likewise, when it is x,y,w,h */
	long page;     /* ?page=: members from 1, search results from 0; -1 when absent */
	char *iiif_content; /* a content state, passed on to the viewer (which checks it) */
};

/* What the results need to know of each Canvas a hit may land on. */
struct view_canvas {
	char *manifest_path; /* below /iiif/presentation/, e.g. "books/b1/manifest" */
	char *label;         /* plain text */
	char *manifest_label; /* plain text */
	char *service;       /* ImageService3 id, or NULL (audio, video) */
	double scale;        /* image pixels per Canvas unit */
	char *thumbnail;     /* or NULL */
};

/* mirador, uv or clover: viewer when it is one of them, else mirador (static string). */
const char *view_viewer_name(const char *viewer);
/* The painting body of a Canvas (first annotation of its first page), borrowed, or NULL. */
const json_t *view_canvas_body(const json_t *canvas);
/* The ImageService3 id of a painting body, borrowed, or NULL. */
const char *view_image_service(const json_t *body);

/* canvas id -> struct view_canvas, from a Manifest document. Free with g_hash_table_destroy. */
GHashTable *view_canvases_new(void);
void view_canvases_add(GHashTable *canvases, const struct page *pg, const json_t *manifest);

/*
 * The search section: results (a Content Search 2.0 page, or NULL with error_msg) with the
 * hit words marked, a thumbnail of each hit region, links that open the viewer at the hit.
 * base is the page URL the search ran on (no query).
 */
void view_hits(struct page *pg, const json_t *results, const char *error_msg,
	       GHashTable *canvases, const struct view_args *a, const char *base);

/* What a Collection or Manifest page shows of a search (borrowed). */
struct view_search {
	const struct view_args *args; /* the page's query: q, page, viewer, canvas, xywh */
	bool searchable;              /* the search form is offered (annotations on) */
	const json_t *results;        /* a Content Search 2.0 page, or NULL */
	const char *error;            /* why results is NULL when args->q was given */
	GHashTable *canvases;         /* the Canvases the hits land on (view_canvases_new) */
};

/*
 * The top of a Collection or Manifest page (kind names it): title, breadcrumbs, heading,
 * summary, the search form (scope: "this collection") and, for a search, its results. Fills
 * base with the page's URL; returns its plain label (g_free, may be NULL).
 */
char *view_top(struct page *pg, const json_t *doc, const char *pres_path, const char *kind,
	       const char *scope, const struct view_search *s, GString *base);

void view_collection(struct page *pg, const json_t *doc, const char *pres_path,
		     const struct view_search *s);
void view_manifest(struct page *pg, const json_t *doc, const char *pres_path,
		   const struct view_search *s);

#endif
