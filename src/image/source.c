/*
 * source.c: probing image files. libvips reads the header; libtiff reads the TIFF directory
 * structure, which libvips does not expose (tile size, pyramid pages, SubIFDs).
 */
#include "image/source.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <vips/vips.h>

#include "core/log.h"
#include "core/path.h"
#include "image/ht_guard.h"
#include "image/jp2.h"

const char *const image_source_extensions[] = {
	"jpg", "jpeg", "jpe", "png", "tif", "tiff", "ptif", "jp2", "j2k", "jpx", "jpf",
	"jph", "j2c", "jhc",
	"webp", "heic", "heif", "avif", "gif", "pdf", NULL,
};

/* Loaders we trust with outside files; anything else (e.g. ImageMagick's) is refused. */
static const struct {
	const char *prefix;
	enum image_source_kind kind;
} source_loaders[] = {
	{ "VipsForeignLoadTiff", IMAGE_SOURCE_TIFF }, { "VipsForeignLoadJpeg", IMAGE_SOURCE_JPEG },
	{ "VipsForeignLoadJp2k", IMAGE_SOURCE_JP2 },  { "VipsForeignLoadPng", IMAGE_SOURCE_OTHER },
	{ "VipsForeignLoadWebp", IMAGE_SOURCE_OTHER }, { "VipsForeignLoadHeif", IMAGE_SOURCE_OTHER },
	{ "VipsForeignLoadNsgif", IMAGE_SOURCE_OTHER }, { "VipsForeignLoadPdf", IMAGE_SOURCE_OTHER },
};

static int source_is_image_name(const char *path)
{
	char ext[16];
	path_extension(path, ext, sizeof ext);
	for (const char *const *e = image_source_extensions; *e; e++)
		if (strcmp(ext, *e) == 0)
			return 1;
	return 0;
}

static int source_kind(const struct image_source *src, enum image_source_kind *kind)
{
	const char *loader = NULL;
	if (!storage_spec_is_remote(src->path)) {
		loader = vips_foreign_find_load(src->path);
	} else { /* by content, as for a file (whose name libvips checks last) */
		VipsSource *source = storage_vips_source(src->path, &src->file, NULL);
		loader = source ? vips_foreign_find_load_source(source) : NULL;
		if (source)
			g_object_unref(source);
	}
	vips_error_clear();
	if (!loader)
		return -1;
	for (size_t i = 0; i < sizeof source_loaders / sizeof source_loaders[0]; i++)
		if (strncmp(loader, source_loaders[i].prefix, strlen(source_loaders[i].prefix)) == 0)
			return *kind = source_loaders[i].kind, 0;
	return -1;
}

static void source_add_level(struct image_source *src, int64_t w, int64_t h, int page,
			     int subifd, int shrink)
{
	if (src->nlevels >= IMAGE_SOURCE_MAX_LEVELS)
		return;
	struct image_source_level *l = &src->levels[src->nlevels++];
	l->width = w;
	l->height = h;
	l->page = page;
	l->subifd = subifd;
	l->shrink = shrink;
}

/* Does w x h look like full_w x full_h reduced by 2^level (allowing for either rounding)? */
static int source_is_reduction(int64_t full_w, int64_t full_h, int64_t w, int64_t h, int level)
{
	int64_t f = (int64_t)1 << level;
	return (w == full_w / f || w == (full_w + f - 1) / f) &&
	       (h == full_h / f || h == (full_h + f - 1) / f);
}

static void tiff_dims(TIFF *t, int64_t *w, int64_t *h)
{
	uint32_t tw = 0, th = 0;
	TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &tw);
	TIFFGetField(t, TIFFTAG_IMAGELENGTH, &th);
	*w = tw;
	*h = th;
}

/* Stored tiles can be sent as they are only if a plain JPEG decoder shows them right. */
static int tiff_tiles_are_plain_jpeg(TIFF *t)
{
	uint16_t compression = 0, photometric = 0, bits = 0, planar = PLANARCONFIG_CONTIG;
	uint32_t icc_len = 0;
	void *icc = NULL;
	TIFFGetField(t, TIFFTAG_COMPRESSION, &compression);
	TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
	TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
	return TIFFIsTiled(t) && compression == COMPRESSION_JPEG && bits == 8 &&
	       planar == PLANARCONFIG_CONTIG &&
	       (photometric == PHOTOMETRIC_YCBCR || photometric == PHOTOMETRIC_MINISBLACK ||
		photometric == PHOTOMETRIC_RGB) &&
	       !TIFFGetField(t, TIFFTAG_ICCPROFILE, &icc_len, &icc);
}

static void tiff_jpeg_tiles_free(struct image_source_jpeg_tiles *jt)
{
	if (!jt)
		return;
	free(jt->offsets);
	free(jt->sizes);
	free(jt->tables);
	free(jt);
}

/* Copies the current directory's tile offsets, sizes and JPEG tables; NULL if not eligible. */
static struct image_source_jpeg_tiles *tiff_index_jpeg_tiles(TIFF *t)
{
	uint64_t *offsets = NULL, *sizes = NULL;
	uint32_t tables_len = 0, tw = 0, width = 0;
	void *tables = NULL;
	/* a hostile header can claim billions of tiles: index only what a real image has */
	if (!tiff_tiles_are_plain_jpeg(t) || TIFFNumberOfTiles(t) > (1u << 22) ||
	    !TIFFGetField(t, TIFFTAG_TILEOFFSETS, &offsets) ||
	    !TIFFGetField(t, TIFFTAG_TILEBYTECOUNTS, &sizes) ||
	    !TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw) || !TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width) ||
	    tw == 0)
		return NULL;
	TIFFGetField(t, TIFFTAG_JPEGTABLES, &tables_len, &tables);
	struct image_source_jpeg_tiles *jt = calloc(1, sizeof *jt);
	if (!jt)
		return NULL;
	uint16_t photometric = 0;
	TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);
	jt->rgb = photometric == PHOTOMETRIC_RGB;
	jt->count = TIFFNumberOfTiles(t);
	jt->across = (width + tw - 1) / tw;
	jt->offsets = malloc(sizeof(uint64_t) * jt->count);
	jt->sizes = malloc(sizeof(uint64_t) * jt->count);
	jt->tables = tables_len >= 4 ? malloc(tables_len) : NULL;
	if (!jt->offsets || !jt->sizes || (tables_len >= 4 && !jt->tables)) {
		tiff_jpeg_tiles_free(jt);
		return NULL;
	}
	memcpy(jt->offsets, offsets, sizeof(uint64_t) * jt->count);
	memcpy(jt->sizes, sizes, sizeof(uint64_t) * jt->count);
	if (jt->tables) {
		memcpy(jt->tables, tables, tables_len);
		jt->tables_len = tables_len;
	}
	return jt;
}

/* Pages 1..n-1 of a vips/IIPImage-style pyramid are successive halvings of page 0. */
static int tiff_is_page_pyramid(TIFF *t, int ndirs)
{
	int64_t w0, h0, w, h;
	if (ndirs < 2 || !TIFFSetDirectory(t, 0))
		return 0;
	tiff_dims(t, &w0, &h0);
	for (int i = 1; i < ndirs && i < IMAGE_SOURCE_MAX_LEVELS; i++) {
		if (!TIFFSetDirectory(t, (tdir_t)i))
			return 0;
		tiff_dims(t, &w, &h);
		if (!source_is_reduction(w0, h0, w, h, i))
			return 0;
	}
	return 1;
}

/* Directory offsets of each level, parallel to src->levels, for revisiting them. */
struct tiff_dirs {
	uint64_t offset[IMAGE_SOURCE_MAX_LEVELS];
};

static void tiff_add_subifds(TIFF *t, struct image_source *src, struct tiff_dirs *dirs)
{
	uint16_t n = 0;
	uint64_t *offsets = NULL;
	if (!TIFFGetField(t, TIFFTAG_SUBIFD, &n, &offsets) || n == 0)
		return;
	uint64_t copy[IMAGE_SOURCE_MAX_LEVELS];
	int count = n < IMAGE_SOURCE_MAX_LEVELS - 1 ? n : IMAGE_SOURCE_MAX_LEVELS - 1;
	memcpy(copy, offsets, sizeof copy[0] * (size_t)count);
	for (int j = 0; j < count; j++) {
		int64_t w, h;
		if (!TIFFSetSubDirectory(t, copy[j]))
			break;
		tiff_dims(t, &w, &h);
		dirs->offset[src->nlevels] = copy[j];
		source_add_level(src, w, h, src->page, j, 1);
	}
}

static int tiff_probe(struct image_source *src, struct iiifd_error *err)
{
	struct iiifd_error why = { 0 };
	TIFF *t = storage_tiff_open(src->path, &src->file, &why);
	if (!t)
		return iiifd_error_set(err, why.http_status == 409 ? 409 : 500,
				       "cannot read TIFF structure");
	int ndirs = TIFFNumberOfDirectories(t);
	int pyramid = tiff_is_page_pyramid(t, ndirs);
	src->npages = pyramid ? 1 : ndirs;
	int rc = 0;
	if (src->page >= src->npages || !TIFFSetDirectory(t, (tdir_t)src->page)) {
		rc = iiifd_error_set(err, 404, "no page %d in this image", src->page + 1);
		goto out;
	}
	uint32_t tw = 0, th = 0;
	if (TIFFIsTiled(t) && TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw) &&
	    TIFFGetField(t, TIFFTAG_TILELENGTH, &th)) {
		src->tile_width = (int)tw;
		src->tile_height = (int)th;
	}
	int64_t w, h;
	struct tiff_dirs dirs = { { 0 } };
	tiff_dims(t, &w, &h);
	dirs.offset[0] = TIFFCurrentDirOffset(t);
	source_add_level(src, w, h, src->page, -1, 1);
	if (pyramid) {
		for (int i = 1; i < ndirs && TIFFSetDirectory(t, (tdir_t)i); i++) {
			tiff_dims(t, &w, &h);
			dirs.offset[src->nlevels] = TIFFCurrentDirOffset(t);
			source_add_level(src, w, h, i, -1, 1);
		}
	} else {
		tiff_add_subifds(t, src, &dirs);
	}
	for (int i = 0; i < src->nlevels; i++)
		if (TIFFSetSubDirectory(t, dirs.offset[i]))
			src->levels[i].jpeg_tiles = tiff_index_jpeg_tiles(t);
out:
	TIFFClose(t);
	return rc;
}

static void source_add_reductions(struct image_source *src, int count, int use_page)
{
	for (int i = 1; i < count; i++) {
		int64_t f = (int64_t)1 << i;
		source_add_level(src, (src->levels[0].width + f - 1) / f,
				 (src->levels[0].height + f - 1) / f, use_page ? i : src->page, -1,
				 use_page ? 1 : (int)f);
	}
}

/* Fills levels for the kinds whose reductions libvips computes while decoding. */
static int source_probe_levels(struct image_source *src, VipsImage *header,
			       struct iiifd_error *err)
{
	if (src->kind == IMAGE_SOURCE_TIFF)
		return tiff_probe(src, err);
	int64_t w = vips_image_get_width(header), h = vips_image_get_height(header);
	src->npages = src->kind == IMAGE_SOURCE_JP2 ? 1 : vips_image_get_n_pages(header);
	if (src->page >= src->npages)
		return iiifd_error_set(err, 404, "no page %d in this image", src->page + 1);
	source_add_level(src, w, h, src->kind == IMAGE_SOURCE_JPEG ? -1 : src->page, -1, 1);
	if (src->kind == IMAGE_SOURCE_JPEG)
		source_add_reductions(src, 4, 0); /* DCT scaling 1/2, 1/4, 1/8 */
	else if (src->kind == IMAGE_SOURCE_JP2)
		source_add_reductions(src, vips_image_get_n_pages(header), 1);
	return 0;
}

/* Levels were probed in stored orientation; EXIF orientations 5-8 swap width and height. */
static void source_apply_orientation(struct image_source *src)
{
	for (int i = 0; src->orientation > 1 && i < src->nlevels; i++) {
		tiff_jpeg_tiles_free(src->levels[i].jpeg_tiles); /* stored tiles are not upright */
		src->levels[i].jpeg_tiles = NULL;
	}
	if (src->orientation < 5)
		return;
	for (int i = 0; i < src->nlevels; i++) {
		int64_t t = src->levels[i].width;
		src->levels[i].width = src->levels[i].height;
		src->levels[i].height = t;
	}
	int tt = src->tile_width;
	src->tile_width = src->tile_height;
	src->tile_height = tt;
}

/*
 * Reads the header of the page shown. Only multi-page formats take a "page" option, so page 0 is
 * read first and tells how many pages there are.
 */
static VipsImage *source_read_header(const struct image_source *src, struct iiifd_error *err)
{
	VipsImage *first = image_source_load(src, VIPS_ACCESS_RANDOM, -1, false);
	if (!first || src->kind != IMAGE_SOURCE_OTHER || src->page == 0)
		return first;
	int npages = vips_image_get_n_pages(first);
	g_object_unref(first);
	if (src->page >= npages) {
		iiifd_error_set(err, 404, "no page %d in this image", src->page + 1);
		return NULL;
	}
	return image_source_load(src, VIPS_ACCESS_RANDOM, src->page, false);
}

VipsImage *image_source_load(const struct image_source *src, int access, int page,
			     bool fail_on_error)
{
	VipsFailOn fail = fail_on_error ? VIPS_FAIL_ON_ERROR : VIPS_FAIL_ON_NONE;
	/* "page" goes last so that single-page formats, which lack the option, never see it */
	if (!storage_spec_is_remote(src->path))
		return vips_image_new_from_file(src->path, "access", access, "fail_on", fail,
						page >= 0 ? "page" : NULL, page, NULL);
	VipsSource *source = storage_vips_source(src->path, &src->file, NULL);
	if (!source)
		return NULL;
	VipsImage *img = vips_image_new_from_source(source, "", "access", access, "fail_on", fail,
						    page >= 0 ? "page" : NULL, page, NULL);
	g_object_unref(source); /* the image holds it while it decodes */
	return img;
}

/*
 * Indexes a JPEG 2000 (jp2.h). Returns 1 when the file is for the libvips path instead, 0 when
 * src is filled, -1 on error.
 */
static int source_probe_jp2(struct image_source *src, struct iiifd_error *err)
{
	struct iiifd_error index_err = { 0 };
	int rc = jp2_index_open_at(src->path, &src->file, &src->jp2, &index_err);
	if (rc < 0 && index_err.http_status == 404)
		return iiifd_error_set(err, 404, "no image with that identifier");
	if (rc != 0)
		return 1; /* libvips decodes it, or says what is wrong with it */
	if (src->page > 0)
		return iiifd_error_set(err, 404, "no page %d in this image", src->page + 1);
	const struct jp2_layout *l = jp2_index_layout(src->jp2);
	src->npages = 1;
	src->orientation = 1;
	src->bands = l->bands;
	if (l->tiles_across * l->tiles_down > 1) { /* else the configured tile size is advertised */
		src->tile_width = (int)l->tile_width;
		src->tile_height = (int)l->tile_height;
	}
	for (int r = 0; r < l->reductions && r < IMAGE_SOURCE_MAX_LEVELS; r++) {
		int64_t w, h;
		jp2_layout_level_size(l, r, &w, &h);
		source_add_level(src, w, h, r, -1, 1);
	}
	return 0;
}

/* Reads everything but tiled JPEG 2000 through libvips' header (and libtiff for TIFF). */
static int source_probe_with_vips(struct image_source *src, struct iiifd_error *err)
{
	struct iiifd_error page_err = { 0 };
	VipsImage *header = source_read_header(src, &page_err);
	if (!header && page_err.http_status)
		return iiifd_error_set(err, page_err.http_status, "%s", page_err.msg);
	if (!header) {
		log_error("%s: cannot read header: %s", src->path, vips_error_buffer());
		vips_error_clear();
		return iiifd_error_set(err, 500, "the image file cannot be read");
	}
	src->orientation = vips_image_get_orientation(header);
	src->bands = vips_image_get_bands(header);
	int rc = source_probe_levels(src, header, err);
	g_object_unref(header);
	if (rc < 0)
		return -1;
	source_apply_orientation(src);
	return 0;
}

/* An HTJ2K file is decoded here only once a child process decoded it whole (ht_guard.h): a
 * known bad one fails its probe; one not checked yet is probed (info.json needs no decode),
 * its check started, and its renders wait for the verdict (image_source_ready). */
static int source_guard_ht(struct image_source *src, struct iiifd_error *err)
{
	if (!ht_guard_active())
		return 0;
	bool ht = src->jp2 ? jp2_index_layout(src->jp2)->ht
			   : jp2_index_scan_ht(src->path, &src->file);
	int rc = ht ? ht_guard_admit(src->path, &src->file, false, err) : 0;
	src->ht_unchecked = rc == 1;
	return rc < 0 ? -1 : 0;
}

int image_source_ready(const struct image_source *src, struct iiifd_error *err)
{
	return src->ht_unchecked ? ht_guard_admit(src->path, &src->file, true, err) : 0;
}

static int source_open(const char *path, int page, struct image_source *src,
		       struct iiifd_error *err)
{
	memset(src, 0, sizeof *src);
	struct iiifd_error why = { 0 };
	if (storage_stat(path, &src->file, &why) < 0 || src->file.is_dir)
		return iiifd_error_set(err, why.http_status && why.http_status != 404
						    ? why.http_status : 404,
				       "%s", why.http_status && why.http_status != 404
						     ? why.msg : "no image with that identifier");
	src->path = strdup(path);
	src->page = page;
	src->mtime = src->file.mtime.tv_sec;
	src->mtime_nsec = src->file.mtime.tv_nsec;
	src->file_size = src->file.size;
	src->dev = (dev_t)src->file.dev;
	src->ino = (ino_t)src->file.ino;
	if (!src->path)
		return iiifd_error_set(err, 500, "out of memory");
	if (source_kind(src, &src->kind) < 0) {
		if (!source_is_image_name(path)) /* some other kind of file: not an image resource */
			return iiifd_error_set(err, 404, "no image with that identifier");
		log_error("%s: not an image libvips can read", path);
		return iiifd_error_set(err, 500, "the image file cannot be read");
	}
	int rc = src->kind == IMAGE_SOURCE_JP2 ? source_probe_jp2(src, err) : 1;
	if (rc == 1)
		rc = source_probe_with_vips(src, err);
	if (rc == 0 && src->kind == IMAGE_SOURCE_JP2)
		rc = source_guard_ht(src, err);
	if (rc < 0)
		return -1;
	src->width = src->levels[0].width;
	src->height = src->levels[0].height;
	return 0;
}

int image_source_open(const char *path, int page, struct image_source *src,
		      struct iiifd_error *err)
{
	if (source_open(path, page, src, err) == 0)
		return 0;
	image_source_release(src);
	return -1;
}

void image_source_release(struct image_source *src)
{
	jp2_index_free(src->jp2);
	src->jp2 = NULL;
	for (int i = 0; i < src->nlevels; i++) {
		tiff_jpeg_tiles_free(src->levels[i].jpeg_tiles);
		src->levels[i].jpeg_tiles = NULL;
	}
	free(src->path);
	src->path = NULL;
}

char *image_source_version(const struct image_source *src, char *out, size_t n)
{
	return storage_stat_version(&src->file, out, n);
}

int image_source_pick_level(const struct image_source *src, double shrink)
{
	int best = 0;
	for (int i = 1; i < src->nlevels; i++) {
		double level_shrink = (double)src->levels[0].width / (double)src->levels[i].width;
		if (level_shrink <= shrink + 1e-9)
			best = i;
	}
	return best;
}
