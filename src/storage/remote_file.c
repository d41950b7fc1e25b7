/*
 * remote_file.c: a position over a remote object, and the libtiff and libvips callbacks that
 * read through it (see remote_file.h).
 */
#include "storage/remote_file.h"

#include <stdlib.h>
#include <string.h>

struct remote_file {
	struct remote_store *store; /* not owned */
	char *key;
	struct remote_stat stat;
	int64_t pos;
	struct iiifd_error last; /* the error of the last failed read, for the decoder's caller */
};

int remote_file_open(struct remote_store *s, const char *key, struct remote_file **out,
		     struct iiifd_error *err)
{
	struct remote_file *f = calloc(1, sizeof *f);
	if (!f || !(f->key = strdup(key))) {
		free(f);
		return iiifd_error_set(err, 500, "out of memory");
	}
	f->store = s;
	if (remote_stat(s, key, &f->stat, err)) {
		remote_file_close(f);
		return -1;
	}
	*out = f;
	return 0;
}

int remote_file_open_at(struct remote_store *s, const char *key, const struct remote_stat *st,
			struct remote_file **out, struct iiifd_error *err)
{
	struct remote_file *f = calloc(1, sizeof *f);
	if (!f || !(f->key = strdup(key))) {
		free(f);
		return iiifd_error_set(err, 500, "out of memory");
	}
	f->store = s;
	f->stat = *st;
	*out = f;
	return 0;
}

void remote_file_close(struct remote_file *f)
{
	if (!f)
		return;
	free(f->key);
	free(f);
}

const struct remote_stat *remote_file_stat(const struct remote_file *f)
{
	return &f->stat;
}

/* Reads at the position and moves it; -1 on error (kept in f->last). */
static int64_t remote_file_read(struct remote_file *f, void *buf, size_t len)
{
	ssize_t n = remote_read(f->store, f->key, &f->stat, f->pos, buf, len, &f->last);
	if (n > 0)
		f->pos += n;
	return n;
}

/* lseek's rules; -1 for a position before the start. */
static int64_t remote_file_seek(struct remote_file *f, int64_t offset, int whence)
{
	int64_t base = whence == SEEK_CUR ? f->pos : whence == SEEK_END ? f->stat.size : 0;
	if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
		return -1;
	if (base + offset < 0)
		return -1;
	f->pos = base + offset;
	return f->pos;
}

/* ---- libtiff ----------------------------------------------------------------------------- */

static tmsize_t remote_tiff_read(thandle_t h, void *buf, tmsize_t len)
{
	return len < 0 ? -1 : (tmsize_t)remote_file_read(h, buf, (size_t)len);
}

static tmsize_t remote_tiff_write(thandle_t h, void *buf, tmsize_t len)
{
	(void)h, (void)buf, (void)len;
	return -1; /* read only */
}

static toff_t remote_tiff_seek(thandle_t h, toff_t offset, int whence)
{
	int64_t pos = remote_file_seek(h, (int64_t)offset, whence);
	return pos < 0 ? (toff_t)-1 : (toff_t)pos;
}

static int remote_tiff_close(thandle_t h)
{
	remote_file_close(h);
	return 0;
}

static toff_t remote_tiff_size(thandle_t h)
{
	return (toff_t)((struct remote_file *)h)->stat.size;
}

static int remote_tiff_map(thandle_t h, void **base, toff_t *size)
{
	(void)h, (void)base, (void)size;
	return 0; /* no mapping: libtiff reads */
}

static void remote_tiff_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h, (void)base, (void)size;
}

TIFF *remote_file_tiff(struct remote_file *f, struct iiifd_error *err)
{
	/* "m": never map; "h": read the header only when asked (directories are read lazily) */
	TIFF *t = TIFFClientOpen(f->key, "rm", f, remote_tiff_read, remote_tiff_write,
				 remote_tiff_seek, remote_tiff_close, remote_tiff_size,
				 remote_tiff_map, remote_tiff_unmap);
	if (!t)
		iiifd_error_set(err, f->last.msg[0] ? f->last.http_status : 415, "%.120s: %s",
				f->key, f->last.msg[0] ? f->last.msg : "not a TIFF libtiff can read");
	return t;
}

/* ---- libvips ----------------------------------------------------------------------------- */

static gint64 remote_vips_read(VipsSourceCustom *source, void *buf, gint64 len, void *user)
{
	(void)source;
	return len < 0 ? -1 : remote_file_read(user, buf, (size_t)len);
}

static gint64 remote_vips_seek(VipsSourceCustom *source, gint64 offset, int whence, void *user)
{
	(void)source;
	return remote_file_seek(user, offset, whence);
}

static void remote_vips_finalize(void *user, GObject *source)
{
	(void)source;
	remote_file_close(user);
}

VipsSource *remote_file_vips_source(struct remote_file *f)
{
	VipsSourceCustom *source = vips_source_custom_new();
	g_signal_connect(source, "read", G_CALLBACK(remote_vips_read), f);
	g_signal_connect(source, "seek", G_CALLBACK(remote_vips_seek), f);
	g_object_weak_ref(G_OBJECT(source), remote_vips_finalize, f);
	return VIPS_SOURCE(source);
}
