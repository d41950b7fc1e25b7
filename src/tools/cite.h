/*
 * cite.h: `iiifd cite URL [--region x,y,w,h] [--canvas N | --time a,b] [--viewer NAME]`: a IIIF
 * Content State for a Manifest, a page of it, a region or a stretch of time, printed as a link
 * to this server's viewer and as the JSON of the Annotation (docs/content-state.md).
 */
#ifndef IIIFD_TOOLS_CITE_H
#define IIIFD_TOOLS_CITE_H

#include <stddef.h>

#include "core/error.h"

/* What to cite; strings borrowed (NULL when not given). */
struct tools_cite_args {
	const char *url;    /* a Manifest URL of iiifd (…/iiif/presentation/…/manifest) or a Canvas */
	const char *region; /* x,y,w,h */
	const char *canvas; /* 1-based page number */
	const char *time;   /* a[,b] in seconds */
	const char *viewer; /* mirador (default), uv, clover or tify */
};

/*
 * The link (first line) and the Annotation's JSON, into a malloc'd text (caller frees). Pure: the
 * Manifest is not fetched. NULL with a 400-style message for bad arguments.
 */
char *tools_cite_text(const struct tools_cite_args *a, struct iiifd_error *err);

/* argv: the words after "cite". Returns the exit code: 0 done, 2 usage. */
int tools_cite_main(int argc, char **argv);

#endif
