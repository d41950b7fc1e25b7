/*
 * source.h: what an image file offers before any pixel is decoded: displayed size, pages,
 * stored resolution levels (TIFF pages or SubIFDs, JPEG DCT scaling, JPEG 2000 reductions) and tiles.
 */
#ifndef IIIFD_IMAGE_SOURCE_H
#define IIIFD_IMAGE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/error.h"
#include "storage/root.h"

struct jp2_index;

#define IMAGE_SOURCE_MAX_LEVELS 24

enum image_source_kind {
	IMAGE_SOURCE_TIFF,
	IMAGE_SOURCE_JPEG,
	IMAGE_SOURCE_JP2,
	IMAGE_SOURCE_OTHER, /* PNG, WebP, HEIF/AVIF, GIF, PDF...: one level, loaded by libvips */
};

/*
 * Where the stored JPEG tiles of one TIFF level lie in the file, so that a request matching a
 * tile can be answered with the stored bytes (see passthrough.h). Owned by the source.
 */
struct image_source_jpeg_tiles {
	uint32_t count;          /* tiles in the level, row-major */
	uint32_t across;         /* tiles per row */
	uint64_t *offsets;       /* file offset of each tile's data */
	uint64_t *sizes;         /* byte count of each tile's data */
	uint8_t *tables;         /* the level's JPEGTables (SOI, DQT/DHT, EOI), NULL if none */
	uint32_t tables_len;
	bool rgb;                /* stored as RGB, not YCbCr: decoders must see component ids R,G,B */
};

/* One way to load the image at reduced resolution. Sizes are as displayed (after orientation). */
struct image_source_level {
	int64_t width, height;
	int page;    /* TIFF directory / JP2 reduction to pass to the loader, -1 if unused */
	int subifd;  /* TIFF SubIFD index, -1 = main image */
	int shrink;  /* JPEG DCT shrink 1/2/4/8, 1 if unused */
	struct image_source_jpeg_tiles *jpeg_tiles; /* NULL unless pass-through is possible */
};

struct image_source {
	char *path;              /* owned; a location (storage/root.h): a local path or s3://... */
	enum image_source_kind kind;
	int page;                /* 0-based page of a multi-page document that this source shows */
	int npages;              /* independent pages in the file (1 for a pyramid) */
	int orientation;         /* EXIF orientation 1..8; levels are already in displayed terms */
	int64_t width, height;   /* displayed size of the full-resolution image */
	int bands;               /* samples per pixel, alpha included */
	int tile_width, tile_height; /* stored tile size, 0 when the file is not tiled */
	int nlevels;
	struct image_source_level levels[IMAGE_SOURCE_MAX_LEVELS]; /* [0] = full resolution */
	struct jp2_index *jp2;   /* owned; a tiled JPEG 2000 read by jp2.h, NULL: libvips reads it */
	bool ht_unchecked;       /* HTJ2K whose check (ht_guard.h) was not done when probed:
				  * image_source_ready() waits for it before a decode */
	time_t mtime;
	long mtime_nsec;
	off_t file_size;
	dev_t dev;               /* the file's identity, with mtime and size (tile_cache.h keys) */
	ino_t ino;
	struct storage_stat file; /* the version probed (remote: its ETag); the fields above
				   * repeat it (remote: dev, ino are hashes of location and ETag) */
};

/* Image file extensions iiifd serves (lower case, NULL-terminated). */
extern const char *const image_source_extensions[];

/*
 * Probes path (a location already resolved under the root, storage/root.h) showing 0-based
 * page. Reads headers only (and, for tiled JPEG TIFFs in YCbCr or grey without an ICC
 * profile, each level's tile index).
 * Errors: 404 for a page that does not exist, 415 for a file that is not an image libvips can
 * read, 500 for a corrupt one (also logged with the file name).
 * On success release with image_source_release().
 */
int image_source_open(const char *path, int page, struct image_source *src,
		      struct iiifd_error *err);
void image_source_release(struct image_source *src);

/*
 * src's file as a libvips image, decoded as it is read: by file name for a local file (as
 * vips_image_new_from_file), through the block cache for a remote one. page: -1 for none.
 * A new reference, or NULL (libvips' error buffer says why).
 */
struct _VipsImage *image_source_load(const struct image_source *src, int access, int page,
				     bool fail_on_error);

/*
 * The version of the file src was probed from, for cache keys and ETags ("MTIME.NSEC|SIZE" for
 * a local file, as before; with "|ETAG" for a remote object). Returns out.
 */
char *image_source_version(const struct image_source *src, char *out, size_t n);

/*
 * Whether src's pixels may be decoded in this process: 0, or -1 with err (500 a damaged HTJ2K
 * file, 503 its check still running after the wait; ht_guard.h). Waits for an HTJ2K file's
 * check when the probe did not have its verdict; renders call it before decoding.
 */
int image_source_ready(const struct image_source *src, struct iiifd_error *err);

/* Index of the smallest stored level whose resolution is still at least 1/shrink of full size. */
int image_source_pick_level(const struct image_source *src, double shrink);

#endif
