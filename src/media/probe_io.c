/*
 * probe_io.c: libavformat reading an audio or video object of a remote root (storage/root.h)
 * through ranged reads, so that probing a recording in a bucket costs the GETs of its headers
 * (and of the index at its end, for MP4 without faststart), never a download of the whole file.
 */
#include "media/probe_io.h"

#include <errno.h>

#include <libavformat/avformat.h>

#include "storage/root.h"

#define PROBE_IO_BUFFER 65536 /* one block of the root's block cache */

struct probe_io {
	struct storage_file *file; /* owned */
	int64_t size, pos;
};

static int probe_io_read(void *opaque, uint8_t *buf, int n)
{
	struct probe_io *io = opaque;
	struct iiifd_error err = { 0 };
	if (io->pos >= io->size)
		return AVERROR_EOF;
	if ((int64_t)n > io->size - io->pos)
		n = (int)(io->size - io->pos);
	if (storage_file_pread(io->file, buf, (size_t)n, io->pos, &err) < 0)
		return AVERROR(EIO);
	io->pos += n;
	return n;
}

static int64_t probe_io_seek(void *opaque, int64_t offset, int whence)
{
	struct probe_io *io = opaque;
	if (whence & AVSEEK_SIZE)
		return io->size;
	int64_t base = 0;
	switch (whence & ~AVSEEK_FORCE) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = io->pos; break;
	case SEEK_END: base = io->size; break;
	default: return AVERROR(EINVAL);
	}
	if (offset > INT64_MAX - base || base + offset < 0)
		return AVERROR(EINVAL);
	io->pos = base + offset;
	return io->pos;
}

static void probe_io_free(struct probe_io *io)
{
	if (io)
		storage_file_close(io->file);
	av_free(io);
}

struct AVIOContext *media_probe_io_open(const char *location, struct iiifd_error *err)
{
	struct probe_io *io = av_mallocz(sizeof *io);
	if (!io) {
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	if (storage_file_open(location, NULL, &io->file, err) < 0) {
		av_free(io);
		return NULL;
	}
	io->size = storage_file_size(io->file);
	if (io->size <= 0) {
		probe_io_free(io);
		iiifd_error_set(err, 415, "not a media file: empty");
		return NULL;
	}
	unsigned char *buffer = av_malloc(PROBE_IO_BUFFER);
	AVIOContext *pb = buffer ? avio_alloc_context(buffer, PROBE_IO_BUFFER, 0, io,
						      probe_io_read, NULL, probe_io_seek)
				 : NULL;
	if (!pb) {
		av_free(buffer);
		probe_io_free(io);
		iiifd_error_set(err, 500, "out of memory");
	}
	return pb;
}

void media_probe_io_close(struct AVIOContext **pb)
{
	if (!*pb)
		return;
	probe_io_free((*pb)->opaque);
	av_freep(&(*pb)->buffer);
	avio_context_free(pb);
}
