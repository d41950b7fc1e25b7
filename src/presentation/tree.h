/*
 * tree.h: what one folder below the root offers the Presentation API: sub-folders, images and
 * media files in natural order, and the files it cannot serve.
 */
#ifndef IIIFD_PRESENTATION_TREE_H
#define IIIFD_PRESENTATION_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

enum tree_kind {
	TREE_FOLDER,
	TREE_IMAGE,
	TREE_MEDIA,
	TREE_COMPANION,  /* sidecars (.yml), captions (.vtt), annotation sources (.xml ALTO, .hocr,
			  * .json COCO, .csv tags): used, never listed as items */
	TREE_UNSERVABLE,
};

struct tree_entry {
	char *name; /* owned; the file or folder name */
	enum tree_kind kind;
};

struct tree_listing {
	struct tree_entry *entries; /* owned; folders, images, media in natural order */
	size_t count;
	char **unservable;          /* owned; names of files nobody can serve */
	size_t unservable_count;
	char **companions;          /* owned; sidecar and caption file names, natural order */
	size_t companion_count;
	bool has_subfolders;        /* a folder with sub-folders is a Collection */
};

/* The kind of a file by its name (folders are found by stat, not by name). */
enum tree_kind tree_classify(const char *name);

/*
 * Lists dir (an absolute path below root_real, or a location below a remote root such as
 * "s3://bkt/pre/books", listed through storage/root.h and its TTL cache). Hidden names, symlinks
 * leading out of root_real and empty sub-folders are left out. Release with
 * tree_listing_release(), also on error.
 */
int tree_list(const char *root_real, const char *dir, struct tree_listing *out,
	      struct iiifd_error *err);
void tree_listing_release(struct tree_listing *l);

/*
 * Whether folder dir lists companion name (a sidecar such as "manifest.yml") as tree_list()
 * would, without listing a local folder: one lstat.
 */
bool tree_has_companion(const char *root_real, const char *dir, const char *name);

struct storage_listing;

/* Gives the listing of the folder at location, as storage_list() does (storage/root.h). */
typedef int (*tree_lister_fn)(void *ctx, const char *location, struct storage_listing *out,
			      struct iiifd_error *err);

/*
 * tree_list() of dir below a remote root, with every folder listing taken from list(ctx, ...)
 * (the folder's own and its sub-folders', for their content): the discovery scan passes its own
 * memo, so that one scan lists each folder once, whatever the storage-ttl.
 */
int tree_list_with(const char *dir, tree_lister_fn list, void *ctx, struct tree_listing *out,
		   struct iiifd_error *err);

#endif
