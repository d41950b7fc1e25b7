/*
 * root_file.c: ranged reads of a file below any root: a local file descriptor (pread, nothing
 * added to what the code did before) or a remote object read through the block cache at one
 * version. Also the libtiff and libvips handles over them. See root.h.
 */
#include "storage/root_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>
#include <vips/vips.h>

#include "storage/remote_file.h"

struct storage_file {
	int fd; /* local; -1 for a remote object */
	int64_t size; /* -1 until known (local: fstat on first need) */
	/* remote only */
	struct storage_root *root; /* not owned */
	char *rel;		   /* owned; the key below the root */
	struct storage_stat st;	   /* the version read */
};

/* The remote root, key and version of location: known, else a stat. */
static struct storage_root *file_remote_target(const char *location,
					       const struct storage_stat *known, const char **rel,
					       struct storage_stat *st, struct iiifd_error *err)
{
	struct storage_root *r = storage_root_of(location);
	*rel = r ? storage_root_rel(r, location) : NULL;
	if (!r || !**rel) {
		iiifd_error_set(err, 404, "no such file");
		return NULL;
	}
	if (known)
		*st = *known;
	else if (storage_stat(location, st, err) < 0)
		return NULL;
	if (st->is_dir) {
		iiifd_error_set(err, 404, "no such file");
		return NULL;
	}
	return r;
}

int storage_file_open(const char *location, const struct storage_stat *known,
		      struct storage_file **out, struct iiifd_error *err)
{
	*out = NULL;
	if (!storage_spec_is_remote(location)) {
		int fd = open(location, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return iiifd_error_set(err, errno == ENOENT ? 404 : 500, "cannot open the file");
		struct storage_file *f = malloc(sizeof *f);
		if (!f) {
			close(fd);
			return iiifd_error_set(err, 500, "out of memory");
		}
		*f = (struct storage_file){ .fd = fd, .size = -1 };
		*out = f;
		return 0;
	}
	const char *rel;
	struct storage_stat st;
	struct storage_root *r = file_remote_target(location, known, &rel, &st, err);
	if (!r)
		return -1;
	struct storage_file *f = g_new0(struct storage_file, 1);
	*f = (struct storage_file){ .fd = -1, .size = st.size, .root = r, .rel = g_strdup(rel),
				    .st = st };
	*out = f;
	return 0;
}

void storage_file_close(struct storage_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0) {
		close(f->fd);
		free(f);
		return;
	}
	g_free(f->rel);
	g_free(f);
}

int storage_file_verify(struct storage_file *f, const struct storage_stat *known,
			struct iiifd_error *err)
{
	if (f->fd < 0)
		return storage_stat_same(&f->st, known)
			       ? 0
			       : iiifd_error_set(err, 409, "the file changed while it was read");
	struct stat sb;
	if (fstat(f->fd, &sb) < 0 || sb.st_ino != (ino_t)known->ino ||
	    sb.st_dev != (dev_t)known->dev || sb.st_size != known->size ||
	    sb.st_mtim.tv_sec != known->mtime.tv_sec || sb.st_mtim.tv_nsec != known->mtime.tv_nsec)
		return iiifd_error_set(err, 409, "the file changed while it was read");
	f->size = sb.st_size;
	return 0;
}

int storage_file_pread(struct storage_file *f, void *buf, size_t len, int64_t offset,
		       struct iiifd_error *err)
{
	if (f->fd >= 0) {
		ssize_t n = pread(f->fd, buf, len, (off_t)offset);
		return n == (ssize_t)len ? 0 : iiifd_error_set(err, 500, "cannot read the file");
	}
	struct remote_stat v = root_remote_version(&f->st);
	ssize_t n = remote_read(f->root->store, f->rel, &v, offset, buf, len, err);
	if (n < 0)
		return -1;
	return (size_t)n == len ? 0 : iiifd_error_set(err, 500, "the file is shorter than its index");
}

#define ROOT_PREFETCH_MAX (32u << 20)

int storage_file_prefetch(struct storage_file *f, int64_t offset, size_t len,
			  struct iiifd_error *err)
{
	if (f->fd >= 0 || len == 0 || len > ROOT_PREFETCH_MAX)
		return 0;
	void *scratch = malloc(len);
	if (!scratch)
		return 0; /* only an optimisation */
	struct remote_stat v = root_remote_version(&f->st);
	ssize_t n = remote_read(f->root->store, f->rel, &v, offset, scratch, len, err);
	free(scratch);
	return n < 0 ? -1 : 0;
}

const struct storage_stat *storage_file_stat(const struct storage_file *f)
{
	return f->fd >= 0 ? NULL : &f->st;
}

int storage_file_fd(const struct storage_file *f)
{
	return f->fd;
}

int64_t storage_file_size(const struct storage_file *f)
{
	struct stat sb;
	if (f->size < 0 && f->fd >= 0 && fstat(f->fd, &sb) == 0 && S_ISREG(sb.st_mode))
		((struct storage_file *)f)->size = sb.st_size; /* remembered: a cache, not a change */
	return f->size;
}

/* ---- decoders ---------------------------------------------------------------------------- */

/* A remote_file (remote.h) at the version of location, for the callback-reading decoders. */
static struct remote_file *file_remote_open(const char *location,
					    const struct storage_stat *known,
					    struct iiifd_error *err)
{
	const char *rel;
	struct storage_stat st;
	struct storage_root *r = file_remote_target(location, known, &rel, &st, err);
	struct remote_stat v = r ? root_remote_version(&st) : (struct remote_stat){ 0 };
	struct remote_file *f = NULL;
	if (r && remote_file_open_at(r->store, rel, &v, &f, err) < 0)
		return NULL;
	return f;
}

TIFF *storage_tiff_open(const char *location, const struct storage_stat *known,
			struct iiifd_error *err)
{
	if (!storage_spec_is_remote(location)) {
		TIFF *t = TIFFOpen(location, "r");
		if (!t)
			iiifd_error_set(err, 415, "not a TIFF libtiff can read");
		return t;
	}
	struct remote_file *f = file_remote_open(location, known, err);
	TIFF *t = f ? remote_file_tiff(f, err) : NULL;
	if (f && !t)
		remote_file_close(f); /* libtiff closes it only once it opened */
	return t;
}

VipsSource *storage_vips_source(const char *location, const struct storage_stat *known,
				struct iiifd_error *err)
{
	if (!storage_spec_is_remote(location)) {
		VipsSource *s = vips_source_new_from_file(location);
		if (!s)
			iiifd_error_set(err, 404, "cannot open the file");
		return s;
	}
	struct remote_file *f = file_remote_open(location, known, err);
	return f ? remote_file_vips_source(f) : NULL;
}
