/*
 * scan.h: one pass over the root that lists every Collection and Manifest the Presentation API
 * serves, each with two fingerprints of what iiifd observes of it (file names, sizes and
 * modification times; no file is read): `fingerprint` changes when its document or the content
 * it points to changes, `content` is the same wherever the resource lives (finds moves).
 */
#ifndef IIIFD_DISCOVERY_SCAN_H
#define IIIFD_DISCOVERY_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* A SHA-256 in hex, NUL-terminated. */
#define DISCOVERY_FP_LEN 65

struct discovery_resource {
	char *path;       /* owned (g_malloc); below the root, "" = root */
	bool collection;  /* a Collection (folder with sub-folders, or the root), else a Manifest */
	bool is_folder;   /* a Manifest of a folder of pages, rather than of one file */
	char fingerprint[DISCOVERY_FP_LEN];
	char content[DISCOVERY_FP_LEN];
};

struct discovery_scan {
	struct discovery_resource *items; /* owned */
	size_t count;
	size_t cap;
};

/*
 * Walks root_real (an absolute, resolved path) as tree_list() sees it: the root Collection, every
 * folder that is a Collection or a Manifest, and every image or A/V file directly in a Collection
 * folder (a Manifest of its own). Release out with discovery_scan_release(), also on error.
 */
int discovery_scan_tree(const char *root_real, struct discovery_scan *out,
			struct iiifd_error *err);
void discovery_scan_release(struct discovery_scan *s);

/* "Collection" or "Manifest". */
const char *discovery_resource_type(const struct discovery_resource *r);

#endif
