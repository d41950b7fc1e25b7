/*
 * request.h: the IIIF Image API URL grammar (versions 2.1 and 3.0) and the geometry it implies.
 * Pure code: strings in, plain structs out; no I/O, no globals, no allocation.
 */
#ifndef IIIFD_IMAGE_REQUEST_H
#define IIIFD_IMAGE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum image_api_version { IMAGE_API_V2 = 2, IMAGE_API_V3 = 3 };

enum image_region_kind {
	IMAGE_REGION_FULL,    /* "full" */
	IMAGE_REGION_SQUARE,  /* "square" */
	IMAGE_REGION_PIXELS,  /* "x,y,w,h" integers */
	IMAGE_REGION_PERCENT, /* "pct:x,y,w,h" floats */
};

enum image_size_kind {
	IMAGE_SIZE_MAX,      /* "max" (v2 and v3), "full" (v2 only) */
	IMAGE_SIZE_WIDTH,    /* "w," */
	IMAGE_SIZE_HEIGHT,   /* ",h" */
	IMAGE_SIZE_PERCENT,  /* "pct:n" */
	IMAGE_SIZE_EXACT,    /* "w,h" */
	IMAGE_SIZE_CONFINED, /* "!w,h" */
};

enum image_quality {
	IMAGE_QUALITY_DEFAULT,
	IMAGE_QUALITY_COLOR,
	IMAGE_QUALITY_GRAY,
	IMAGE_QUALITY_BITONAL,
};

enum image_format {
	IMAGE_FORMAT_JPG,
	IMAGE_FORMAT_PNG,
	IMAGE_FORMAT_WEBP,
	IMAGE_FORMAT_TIF,
	IMAGE_FORMAT_GIF,
	IMAGE_FORMAT_JP2,
	IMAGE_FORMAT_PDF,
	IMAGE_FORMAT_COUNT,
};

/* A parsed request: exactly what the URL said, nothing resolved against an image yet. */
struct image_request {
	enum image_api_version version;
	enum image_region_kind region_kind;
	double region[4]; /* x, y, w, h: pixels (PIXELS) or percent (PERCENT); unused otherwise */
	enum image_size_kind size_kind;
	bool upscale;     /* v3 "^" prefix; always true for v2, which allows upscaling freely */
	double size_w;    /* WIDTH, EXACT, CONFINED: pixels; PERCENT: the percentage */
	double size_h;    /* HEIGHT, EXACT, CONFINED: pixels */
	bool mirror;      /* "!" prefix on rotation */
	double rotation;  /* degrees clockwise, 0 <= rotation <= 360 */
	enum image_quality quality;
	enum image_format format;
};

/* Limits a server places on output size; 0 means "no limit" for that field. */
struct image_limits {
	int64_t max_width;
	int64_t max_height;
	int64_t max_area;
	double max_upscale; /* largest enlargement of a region, e.g. 2.0; 0 = no limit */
};

/*
 * The limits that hold for a whole img_w x img_h image, as info.json advertises them: the
 * configured ones, tightened by what max_upscale allows for the full image.
 */
struct image_limits image_limits_for_image(const struct image_limits *lim, int64_t img_w,
					   int64_t img_h);

/*
 * Whether format can encode an out_w x out_h image (the size after rotation, see
 * image_request_output_size; libjpeg-turbo: 65,500 px a side, GIF 65,535, WebP 16,383, PDF
 * pages 14,400 pt at one pixel a point): 0, or -1 with a 400 naming the limit, known before any
 * decoding starts. PNG, TIFF and JPEG 2000 output hold any size a request may have.
 */
int image_format_check_size(enum image_format format, int64_t out_w, int64_t out_h,
			    struct iiifd_error *err);

/* A request resolved against an image of known size (before rotation). */
struct image_geometry {
	int64_t x, y, w, h;     /* region in full-resolution image pixels, clipped to the image */
	int64_t out_w, out_h;   /* size of the scaled region, before rotation */
};

/*
 * The height of the whole img_w x img_h image asked for as `w,` (nearest pixel, at least 1):
 * info.json lists sizes with it, so a size a client reads there is what it gets back.
 */
int64_t image_request_height_for_width(int64_t img_w, int64_t img_h, int64_t w);

/*
 * The size of the image a request returns: g's output size turned by req's rotation (for
 * angles that are not multiples of 90 degrees the bounding box, rounded up as libvips does at
 * most).
 */
void image_request_output_size(const struct image_request *req, const struct image_geometry *g,
			       int64_t *w, int64_t *h);

/*
 * Parses the four path segments after the identifier; quality_format is e.g. "default.jpg".
 * Strings are already percent-decoded. Returns 0, or -1 with err->http_status 400 and a reason
 * naming the bad parameter (e.g. "invalid region 'pct:a,b,c,d'").
 */
int image_request_parse(enum image_api_version version, const char *region, const char *size,
			const char *rotation, const char *quality_format,
			struct image_request *out, struct iiifd_error *err);

/*
 * Resolves req against an img_w x img_h image under limits lim (may be NULL).
 * Errors: 400 for a region outside the image, a zero-sized region or output, or (v3) a size that
 * would upscale without "^"; 400 for output larger than lim (max_width/max_height/max_area).
 * For "max" ("^max", "full") the size is shrunk (or, with "^", grown) to fit lim keeping the
 * aspect ratio, as the specs define.
 */
int image_request_resolve(const struct image_request *req, int64_t img_w, int64_t img_h,
			  const struct image_limits *lim, struct image_geometry *out,
			  struct iiifd_error *err);

/*
 * Writes the canonical "region/size/rotation/quality.format" for req resolved as g against an
 * img_w x img_h image, following the canonical URI syntax of req->version. Returns the length
 * written (snprintf-style; output truncated if n is too small).
 */
int image_request_canonical(const struct image_request *req, const struct image_geometry *g,
			    int64_t img_w, int64_t img_h, const struct image_limits *lim,
			    char *buf, size_t n);

/* "jpg" -> IMAGE_FORMAT_JPG; returns -1 for an unknown string. */
int image_format_from_name(const char *name);
/* IMAGE_FORMAT_JPG -> "jpg" */
const char *image_format_name(enum image_format format);
/* IMAGE_FORMAT_JPG -> "image/jpeg" */
const char *image_format_mime(enum image_format format);
/* IMAGE_QUALITY_GRAY -> "gray" */
const char *image_quality_name(enum image_quality quality);

#endif
