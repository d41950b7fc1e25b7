/*
 * root_internal.h: the storage root as root.c, root_remote.c and root_file.c share it (private
 * to those files).
 */
#ifndef IIIFD_STORAGE_ROOT_INTERNAL_H
#define IIIFD_STORAGE_ROOT_INTERNAL_H

#include <glib.h>
#include <pthread.h>

#include "storage/root.h"

struct storage_root {
	char *name;  /* owned; see storage_root_name() */
	bool remote;
	/* remote roots only */
	struct remote_store *store; /* owned */
	bool listable;		    /* a bucket; a plain HTTP origin cannot be listed */
	int ttl;		    /* seconds */
	size_t max_list;
	pthread_mutex_t lock;	 /* guards the two caches */
	GHashTable *stats;	 /* rel -> struct root_stat_entry (owned) */
	GHashTable *listings;	 /* rel of a folder -> struct root_list_entry (owned) */
	size_t listed_entries;	 /* entries held by listings, bounded */
};

/* A remote stat: the key of a remote object below the root (rel) and its version. */
int root_remote_stat(struct storage_root *r, const char *rel, struct storage_stat *st,
		     struct iiifd_error *err);
int root_remote_list(struct storage_root *r, const char *rel, struct storage_listing *out,
		     struct iiifd_error *err);
void root_remote_forget(struct storage_root *r, const char *rel);
void root_remote_caches_init(struct storage_root *r);
void root_remote_caches_free(struct storage_root *r);

/* The object's size, time and ETag as remote.h wants them for a read. */
struct remote_stat root_remote_version(const struct storage_stat *st);

/* dev/ino of a remote version: hashes of its location and ETag. */
void root_remote_identity(struct storage_stat *st, const char *name, const char *rel);

#endif
