/*
 * scan.h: one pass over the root that lists every Collection and Manifest the Presentation API
 * serves, each with two fingerprints of what iiifd observes of it (file names, sizes and
 * modification times; below a remote root, names, sizes and ETags from the bucket listing, one
 * LIST request per folder; no file is read): `fingerprint` changes when its document or the content
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
	/* private: below a remote root, the folder listings of this scan (each folder is listed
	 * once per scan) and the first failure of the storage, which fails the whole scan */
	void *listings;
	struct iiifd_error storage_err;
};

/*
 * Walks root_real (an absolute, resolved path, or the name of a remote root, storage/root.h) as
 * tree_list() sees it: the root Collection, every folder that is a Collection or a Manifest, and
 * every image or A/V file directly in a Collection folder (a Manifest of its own). A remote root
 * that fails to answer (anything but "no such folder") fails the scan: nothing is taken for
 * deleted. Release out with discovery_scan_release(), also on error.
 */
int discovery_scan_tree(const char *root_real, struct discovery_scan *out,
			struct iiifd_error *err);
void discovery_scan_release(struct discovery_scan *s);

/* "Collection" or "Manifest". */
const char *discovery_resource_type(const struct discovery_resource *r);

#endif
