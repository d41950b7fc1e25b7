/*
 * root.h: where the served files come from. A storage root is a local folder, a prefix of an
 * S3-compatible bucket ("s3://bucket/prefix") or a plain HTTP(S) origin ("https://host/path"),
 * with the same operations on each: stat, list one folder level, read a small file whole, and
 * open a handle for ranged reads (libtiff, libvips, OpenJPEG, media ranges). image/, media/ and
 * presentation/ go through these instead of calling open() themselves.
 *
 * Names. A file is named by its *location*, a string:
 * - below a local root, its absolute real path (symlinks followed, inside the root), exactly
 *   what path_resolve() gives and what the code used before roots existed;
 * - below a remote root, the root's name, "/" and the path below it: "s3://bkt/pre/a/b.tif".
 * A path relative to a root ("rel") is '/'-separated, "" being the root itself, and is checked
 * like an identifier (path.h: no empty, ".", ".." or hidden segment, no control character or
 * backslash): nothing names a file outside the root. Locations are what image_source.path,
 * cache keys and log lines hold. A location starting with s3://, http:// or https:// belongs
 * to the remote root whose name prefixes it (roots register themselves while open; no such
 * root: 404); any other is a local path (relative ones too, as command-line tools pass them).
 *
 * Local roots behave as before: the same system calls, nothing cached by this module. Remote
 * roots keep what stats and listings found for `ttl` seconds (a change in the bucket shows
 * within that time; 0 = ask every time) and blocks of objects in the block cache of remote.h.
 * A read gives the bytes of one version only: it carries If-Match with the ETag the handle was
 * opened with, and fails with 409 when the object was replaced (then stat again and start
 * over: storage_forget drops the cached stat).
 *
 * Threads: every function here is thread-safe; a storage_file is used by one thread at a time.
 */
#ifndef IIIFD_STORAGE_ROOT_H
#define IIIFD_STORAGE_ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "core/error.h"
#include "storage/remote.h"

struct storage_root;
struct storage_file;
struct tiff;
struct _VipsSource;

/* What a stat finds. */
struct storage_stat {
	bool is_dir;
	int64_t size;	       /* bytes; 0 for a folder */
	struct timespec mtime; /* local: st_mtim; remote: Last-Modified, whole seconds (0 unknown) */
	uint64_t dev, ino;     /* local: the file's identity; remote: hashes of the location and
				* of the ETag, so (dev, ino, mtime, size) keys one version */
	char etag[80];	       /* remote: as the server sent it, quotes kept; local: "" */
};

/* How a remote root is reached; a local root needs none of it. */
struct storage_options {
	/* NULL or "": from the environment (s3.h: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
	 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); set here, they win over it */
	const char *endpoint, *region, *access_key, *secret_key, *session_token;
	size_t block_size;  /* bytes per ranged GET; 0 = 64 KiB */
	size_t cache_bytes; /* the block cache; 0 = 64 MiB */
	int ttl;	    /* seconds a remote stat or listing is trusted; 0 = never cached */
	size_t max_list;    /* entries one remote folder listing may have; 0 = 100000 (413 beyond) */
};

/* ---- roots ------------------------------------------------------------------------------- */

/* Whether spec (a root, or a location) is remote (s3://, http://, https://), not a path. */
bool storage_spec_is_remote(const char *spec);

/*
 * Opens the root spec names: a folder (must exist; its realpath becomes the name), or
 * "s3://bucket[/prefix]", or "http(s)://host[:port][/path]". A remote root is registered until
 * closed (two open roots may not have the same name: 409). opt may be NULL for a folder.
 * 400 for a malformed spec or missing credentials, 404 for a missing folder. No request is
 * sent: a bucket that cannot be reached shows in the first stat or listing.
 */
int storage_root_open(const char *spec, const struct storage_options *opt,
		      struct storage_root **out, struct iiifd_error *err);
/* storage_root_open of cfg->root with cfg's s3-* and storage-* settings. */
struct iiifd_config;
int storage_root_open_config(const struct iiifd_config *cfg, struct storage_root **out,
			     struct iiifd_error *err);
/* Closes r; no thread may still use it, nor a storage_file opened below it. NULL is a no-op. */
void storage_root_close(struct storage_root *r);

/* The root's name (a realpath, "s3://bkt/prefix" or "https://host/path"; no trailing '/').
 * Owned by r. */
const char *storage_root_name(const struct storage_root *r);
bool storage_root_is_remote(const struct storage_root *r);
/* The block store of a remote root (counters, /metrics); NULL for a local one. Owned by r. */
struct remote_store *storage_root_store(const struct storage_root *r);

/*
 * The location of rel below r, malloc'd (caller frees), or NULL when rel is not a safe
 * relative path (see the top of this file). For a local root, symlinks are not followed here:
 * storage_resolve does that.
 */
char *storage_root_location(const struct storage_root *r, const char *rel);

/* The part of location below r's name ("" for the root itself), pointing into location, or
 * NULL when location is not below r. */
const char *storage_root_rel(const struct storage_root *r, const char *location);

/*
 * Appends the counters of every open remote root (remote.h) to out in the Prometheus text
 * format: iiifd_storage_requests_total, iiifd_storage_bytes_total, iiifd_storage_blocks_total
 * {result="hit"|"fetched"}, labelled root="NAME". Nothing when no remote root is open.
 */
struct _GString;
void storage_metrics_append(struct _GString *out);

/* The registered remote root a location belongs to; NULL for a local location or none. */
struct storage_root *storage_root_of(const char *location);

/*
 * path_resolve() for any root: the location of the file identifier names below r. When no file
 * has exactly that name and its last segment has no extension, a single sibling "name.EXT" with
 * EXT in extensions (NULL-terminated, lower case; NULL = none) is taken instead. 404 for
 * anything else (no such file, a folder, an unsafe name). *out is malloc'd: the caller frees.
 */
int storage_resolve(struct storage_root *r, const char *identifier,
		    const char *const *extensions, char **out, struct iiifd_error *err);
/* The same for a folder ("" = the root): path_resolve_folder() for any root. */
int storage_resolve_folder(struct storage_root *r, const char *rel, char **out,
			   struct iiifd_error *err);

/* ---- files by location ------------------------------------------------------------------- */

/*
 * Stats location (a file or a folder): 404 when nothing is there. Local: stat(2). Remote: the
 * cached answer while younger than ttl, else a HEAD (and, for a name that is no object, a
 * listing to see whether it is a folder).
 */
int storage_stat(const char *location, struct storage_stat *st, struct iiifd_error *err);

/* Whether a and b are the same version of a file (size, mtime, identity, ETag). */
bool storage_stat_same(const struct storage_stat *a, const struct storage_stat *b);
/* What storage_stat() gives for a local file whose stat(2) is sb. */
void storage_stat_of_local(const struct stat *sb, struct storage_stat *st);

/*
 * A text naming the version st describes, for cache keys and HTTP ETags: local
 * "MTIME.NSEC|SIZE" (as iiifd always wrote it), remote "MTIME.0|SIZE|ETAG". Returns out.
 */
char *storage_stat_version(const struct storage_stat *st, char *out, size_t n);

/* Drops what a remote root remembers of location (its stat, its folder's listing); for a
 * caller that found it changed (a 409). No-op for local locations. */
void storage_forget(const char *location);

/* One entry of a folder listing. */
struct storage_entry {
	char *name;		/* owned; one segment, never hidden ('.'), never unsafe */
	struct storage_stat st; /* is_dir always; the rest only when has_stat */
	bool has_stat;
};

struct storage_listing {
	struct storage_entry *entries; /* owned; in no particular order */
	size_t count;
	size_t dropped; /* remote keys left out because they could not be safe paths */
};

/* Flags of storage_list. */
enum {
	/* local: stat every entry (else only is_dir, from the directory entry's type, with a stat
	 * only for symlinks and unknown types, as readdir-based code did). Remote listings always
	 * carry size, mtime and ETag for files (not for folders). */
	STORAGE_LIST_STAT = 1,
};

/*
 * Lists one level of the folder at location: files and sub-folders, hidden names left out.
 * Local: a symlink is followed only while it stays below the open root of location (below no
 * open root: every symlink is left out). 404 when there is no such folder, 413 (remote) beyond max_list entries.
 * Remote: ListObjectsV2 with delimiter '/', all pages, cached for ttl. Release with
 * storage_listing_release().
 */
int storage_list(const char *location, unsigned flags, struct storage_listing *out,
		 struct iiifd_error *err);
void storage_listing_release(struct storage_listing *l);

/*
 * Reads the whole file at location into *data (malloc'd, NUL-terminated, caller frees; *len
 * bytes without the NUL). 404 when missing, 413 when larger than max bytes.
 */
int storage_read_file(const char *location, size_t max, char **data, size_t *len,
		      struct iiifd_error *err);

/* ---- ranged reads -------------------------------------------------------------------------- */

/*
 * Opens location for reading (caller closes). known: the version the caller probed. Remote: no
 * request when known is given (reads then fail with 409 if the object is no longer that
 * version), else a stat. Local: open(2) only; known is not checked (storage_file_verify does).
 * 404 when there is no such file.
 */
int storage_file_open(const char *location, const struct storage_stat *known,
		      struct storage_file **out, struct iiifd_error *err);
void storage_file_close(struct storage_file *f);

/*
 * Local: fstat(2) and 409 unless the file is still the version known describes. Remote: 409
 * unless the handle was opened on that version (reads check the rest).
 */
int storage_file_verify(struct storage_file *f, const struct storage_stat *known,
			struct iiifd_error *err);

/* Reads exactly len bytes at offset into buf: 0, or -1 (a short read is a 500; 409 changed).
 * Safe from several threads at once on one handle (pread, or the thread-safe block cache). */
int storage_file_pread(struct storage_file *f, void *buf, size_t len, int64_t offset,
		       struct iiifd_error *err);

/*
 * Has a remote object's bytes [offset, offset + len) fetched into the block cache in as few
 * ranged GETs as the missing blocks need, so that the small reads a decoder makes next are
 * served from memory (a run larger than 32 MiB is left to those reads). A no-op for a local file.
 */
int storage_file_prefetch(struct storage_file *f, int64_t offset, size_t len,
			  struct iiifd_error *err);

/* The version a remote object is read at; NULL for a local file. Owned by f. */
const struct storage_stat *storage_file_stat(const struct storage_file *f);

/* The local file descriptor (for sendfile), -1 for a remote object. Owned by f. */
int storage_file_fd(const struct storage_file *f);

/* The size (a local file: fstat(2) on the first call), -1 when it cannot be known. */
int64_t storage_file_size(const struct storage_file *f);

/*
 * A libtiff handle on location, read only. Local: TIFFOpen(location, "r") as before (mapped).
 * Remote: read through the block cache, never mapped; known as in storage_file_open. Close with
 * TIFFClose. NULL with err set when it cannot be read as a TIFF (415) or is missing (404).
 */
struct tiff *storage_tiff_open(const char *location, const struct storage_stat *known,
			       struct iiifd_error *err);

/*
 * A libvips source on a remote location (a new reference: g_object_unref). Images loaded from it
 * keep it alive and read through the block cache as they decode. NULL with err set when missing.
 * Local locations are loaded by file name instead (the loaders' file paths map them).
 */
struct _VipsSource *storage_vips_source(const char *location, const struct storage_stat *known,
					struct iiifd_error *err);

#endif
