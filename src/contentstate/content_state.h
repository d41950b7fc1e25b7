/*
 * content_state.h: IIIF Content State API 1.0: content-state-encoding (encodeURIComponent, then
 * base64url without padding) both ways, reading a content state in every form of §2.2 into the
 * views it asks for, and writing content states. Pure: no I/O, no globals.
 */
#ifndef IIIFD_CONTENTSTATE_CONTENT_STATE_H
#define IIIFD_CONTENTSTATE_CONTENT_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/error.h"

/* Bytes of a content state accepted, encoded or not (a few targets take a few hundred). */
#define CONTENT_STATE_MAX 16384
/* Targets of one content state that are opened (windows side by side, §5.3). */
#define CONTENT_STATE_VIEWS_MAX 8
/* Longest URL in a content state. */
#define CONTENT_STATE_URL_MAX 2048

/* One thing to show: a Manifest (or Collection), perhaps at a Canvas or Range, region, time. */
struct content_state_view {
	char manifest[CONTENT_STATE_URL_MAX]; /* the Manifest or Collection to load */
	char canvas[CONTENT_STATE_URL_MAX];   /* a Canvas id, no fragment; "" for none */
	char range[CONTENT_STATE_URL_MAX];    /* a Range id; "" for none */
	bool collection;                      /* manifest names a Collection */
	bool has_xywh;
	double xywh[4]; /* x, y, w, h on the Canvas (w, h > 0) */
	bool has_t;
	double t[2]; /* start and end in seconds; t[1] < 0 when open-ended (a point) */
};

/* What a content state asks for: views, or one URI to dereference first. Caller-owned. */
struct content_state {
	size_t n;
	struct content_state_view views[CONTENT_STATE_VIEWS_MAX];
	/*
	 * A plain URI whose kind only its document tells (an Annotation URI, §2.2.2, or a resource
	 * on another allowed origin): the client fetches it and reads the result as a content
	 * state. "" otherwise; n is 0 when it is set.
	 */
	char resolve[CONTENT_STATE_URL_MAX];
};

/* Where the URLs in a content state may point (borrowed strings). */
struct content_state_scope {
	const char *base;    /* this server's base URL, no trailing slash (may have a path) */
	const char *origins; /* other origins allowed ("https://a.org https://b.org"), or NULL */
};

/*
 * Content-state-encodes len bytes of UTF-8 text (§6.1): encodeURIComponent, base64url, no
 * padding. Returns a malloc'd string (caller frees), or NULL when text is not UTF-8.
 */
char *content_state_encode(const char *text, size_t len);

/*
 * Decodes an encoded content state (§6.1): padding restored (given padding is accepted),
 * base64url decoded, then decodeURIComponent. Returns the malloc'd text (caller frees), or NULL
 * with a 400 naming what is wrong (length, alphabet, %-escapes, UTF-8, over CONTENT_STATE_MAX).
 */
char *content_state_decode(const char *encoded, size_t len, struct iiifd_error *err);

/*
 * Reads a content state that is not encoded (a POST body, a drop, a decoded GET value): a URI
 * (§2.2.2, §2.2.4), a full Annotation (§2.2.1; one whose motivation is not contentState is read
 * as the content itself, §2.2.4), or a target body (§2.2.3): Manifest, Collection, Canvas with
 * #xywh= / #t= and partOf, Range, SpecificResource with a FragmentSelector or PointSelector,
 * or several targets (§5.3). Every URL must be in scope. Fills st; 0, or -1 with a 400.
 */
int content_state_parse(const char *text, size_t len, const struct content_state_scope *scope,
			struct content_state *st, struct iiifd_error *err);

/*
 * Reads the value of an iiif-content GET parameter (§3.1, §6.2): a URI as it is, anything else
 * content-state-encoded. 0, or -1 with a 400.
 */
int content_state_read_param(const char *value, const struct content_state_scope *scope,
			     struct content_state *st, struct iiifd_error *err);

/*
 * Whether url may appear in a content state: an absolute http(s) URL below scope->base or on
 * one of scope->origins, or a path below base's path (then written absolute into out). No
 * spaces, control characters, quotes, angle brackets or backslashes. 0, or -1 with a 400.
 */
int content_state_url_check(const char *url, const struct content_state_scope *scope, char *out,
			    size_t n, struct iiifd_error *err);

/*
 * The target body (§2.2.3) of a view: {"id","type":"Manifest"} or a Canvas with #xywh= and/or
 * #t= and partOf its Manifest. New reference (caller decrefs).
 */
json_t *content_state_target(const struct content_state_view *v);

/* The full Annotation (§2.2.1) around a target (stolen); id may be NULL. New reference. */
json_t *content_state_annotation(json_t *target, const char *id);

/* A JSON value written compact and content-state-encoded: malloc'd, or NULL. */
char *content_state_encode_json(const json_t *v);

/* Parses "x,y,w,h" (or "pixel:x,y,w,h"): plain non-negative decimals, w, h > 0. 0 or -1. */
int content_state_parse_xywh(const char *s, double out[4]);
/* Parses a media fragment time: "a", "a,b", ",b", "npt:"-prefixed, h:mm:ss(.f). 0 or -1. */
int content_state_parse_t(const char *s, double out[2]);

#endif
