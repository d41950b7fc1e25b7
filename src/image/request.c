/*
 * request.c: parses the region/size/rotation/quality.format segments of IIIF Image API 2.1 and
 * 3.0 URLs and resolves them against an image size and server limits (canonical forms are in
 * request_canonical.c).
 */
#include "image/request.h"
#include "image/request_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Every number in a URL must be at most this; larger values are rejected at parse time so
 * that products of two such numbers (at most 10^18) always fit in int64_t.
 */
#define IMAGE_REQUEST_MAX_NUMBER 1000000000LL

/*
 * No output side may exceed this, whatever the configured limits: it is libvips'
 * VIPS_MAX_COORD, so larger outputs could not be produced anyway, and it keeps areas (at most
 * 10^14) far from int64_t overflow.
 */
#define IMAGE_REQUEST_MAX_SIDE 10000000LL

/* Longest quoted parameter in an error message, so the reason never gets cut off. */
#define IMAGE_REQUEST_QUOTE "%.80s"

enum image_request_num_status {
	IMAGE_REQUEST_NUM_OK = 0,
	IMAGE_REQUEST_NUM_BAD = -1,
	IMAGE_REQUEST_NUM_BIG = -2,
};

static const char *const image_request_format_names[IMAGE_FORMAT_COUNT] = {
	[IMAGE_FORMAT_JPG] = "jpg",  [IMAGE_FORMAT_PNG] = "png", [IMAGE_FORMAT_WEBP] = "webp",
	[IMAGE_FORMAT_TIF] = "tif",  [IMAGE_FORMAT_GIF] = "gif", [IMAGE_FORMAT_JP2] = "jp2",
	[IMAGE_FORMAT_PDF] = "pdf",
};

static const char *const image_request_format_mimes[IMAGE_FORMAT_COUNT] = {
	[IMAGE_FORMAT_JPG] = "image/jpeg", [IMAGE_FORMAT_PNG] = "image/png",
	[IMAGE_FORMAT_WEBP] = "image/webp", [IMAGE_FORMAT_TIF] = "image/tiff",
	[IMAGE_FORMAT_GIF] = "image/gif",  [IMAGE_FORMAT_JP2] = "image/jp2",
	[IMAGE_FORMAT_PDF] = "application/pdf",
};

static const char *const image_request_quality_names[] = {
	[IMAGE_QUALITY_DEFAULT] = "default", [IMAGE_QUALITY_COLOR] = "color",
	[IMAGE_QUALITY_GRAY] = "gray",       [IMAGE_QUALITY_BITONAL] = "bitonal",
};

#define IMAGE_REQUEST_NQUALITIES \
	((int)(sizeof image_request_quality_names / sizeof image_request_quality_names[0]))

/* ---- numbers ------------------------------------------------------------------------------ */

static bool image_request_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* [0-9]+ spanning exactly [s, end); no signs, spaces or exponents. */
static int image_request_uint(const char *s, const char *end, int64_t *out)
{
	int64_t v = 0;

	if (s == end)
		return IMAGE_REQUEST_NUM_BAD;
	for (; s < end; s++) {
		if (!image_request_isdigit(*s))
			return IMAGE_REQUEST_NUM_BAD;
		v = v * 10 + (*s - '0');
		if (v > IMAGE_REQUEST_MAX_NUMBER)
			return IMAGE_REQUEST_NUM_BIG;
	}
	*out = v;
	return IMAGE_REQUEST_NUM_OK;
}

/*
 * [0-9]*(\.[0-9]+)? spanning exactly [s, end), not empty. The spec only allows digits and ".",
 * and calls n a floating point number, so ".5" is 0.5; a point must have digits after it ("5."
 * is rejected). The value is built
 * by hand (not strtod) so the result does not depend on the process locale; digits past the
 * 17th significant one are validated but ignored, which is below double precision anyway.
 */
static int image_request_decimal(const char *s, const char *end, double *out)
{
	const char *dot = memchr(s, '.', (size_t)(end - s));
	int64_t ipart = 0;
	int rc = dot == s ? IMAGE_REQUEST_NUM_OK : image_request_uint(s, dot ? dot : end, &ipart);
	uint64_t mant = (uint64_t)ipart;
	int scale = 0;

	if (rc)
		return rc;
	if (dot) {
		if (dot + 1 == end)
			return IMAGE_REQUEST_NUM_BAD;
		for (const char *p = dot + 1; p < end; p++) {
			if (!image_request_isdigit(*p))
				return IMAGE_REQUEST_NUM_BAD;
			if (mant < 100000000000000000ULL && scale < 18) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				scale++;
			}
		}
	}
	*out = (double)mant / pow(10.0, scale);
	return IMAGE_REQUEST_NUM_OK;
}

/* Exactly n comma-separated numbers (integers unless decimal) filling s to its end. */
static int image_request_list(const char *s, int n, bool decimal, double *vals)
{
	for (int i = 0; i < n; i++) {
		const char *end = strchr(s, ',');
		int rc;

		if (!end || i == n - 1)
			end = s + strlen(s);
		if (decimal) {
			rc = image_request_decimal(s, end, &vals[i]);
		} else {
			int64_t v = 0;

			rc = image_request_uint(s, end, &v);
			vals[i] = (double)v;
		}
		if (rc)
			return rc;
		if (i < n - 1 && *end != ',')
			return IMAGE_REQUEST_NUM_BAD;
		s = *end ? end + 1 : end;
	}
	return IMAGE_REQUEST_NUM_OK;
}

/* Fills err for a parameter that failed to parse, telling "too large" apart from junk. */
static int image_request_bad(struct iiifd_error *err, const char *param, const char *value,
			     int rc)
{
	if (rc == IMAGE_REQUEST_NUM_BIG)
		return iiifd_error_set(err, 400,
				       "invalid %s '" IMAGE_REQUEST_QUOTE
				       "': number too large (limit %lld)",
				       param, value, IMAGE_REQUEST_MAX_NUMBER);
	return iiifd_error_set(err, 400, "invalid %s '" IMAGE_REQUEST_QUOTE "'", param, value);
}

/* ---- parsing ------------------------------------------------------------------------------ */

static int image_request_parse_region(const char *s, struct image_request *out,
				      struct iiifd_error *err)
{
	int rc;

	if (strcmp(s, "full") == 0) {
		out->region_kind = IMAGE_REGION_FULL;
		return 0;
	}
	if (strcmp(s, "square") == 0) {
		out->region_kind = IMAGE_REGION_SQUARE;
		return 0;
	}
	if (strncmp(s, "pct:", 4) == 0) {
		out->region_kind = IMAGE_REGION_PERCENT;
		rc = image_request_list(s + 4, 4, true, out->region);
	} else {
		out->region_kind = IMAGE_REGION_PIXELS;
		rc = image_request_list(s, 4, false, out->region);
	}
	return rc ? image_request_bad(err, "region", s, rc) : 0;
}

/* "w,", ",h" or "w,h" (both required when confined, i.e. after "!"). */
static int image_request_parse_wh(const char *s, bool confined, struct image_request *out)
{
	const char *comma = strchr(s, ',');
	const char *end = s + strlen(s);
	bool has_w, has_h;
	int64_t w = 0, h = 0;
	int rc;

	if (!comma)
		return IMAGE_REQUEST_NUM_BAD;
	has_w = comma > s;
	has_h = comma + 1 < end;
	if ((!has_w && !has_h) || (confined && !(has_w && has_h)))
		return IMAGE_REQUEST_NUM_BAD;
	if (has_w && (rc = image_request_uint(s, comma, &w)))
		return rc;
	if (has_h && (rc = image_request_uint(comma + 1, end, &h)))
		return rc;
	if (confined)
		out->size_kind = IMAGE_SIZE_CONFINED;
	else if (has_w && has_h)
		out->size_kind = IMAGE_SIZE_EXACT;
	else
		out->size_kind = has_w ? IMAGE_SIZE_WIDTH : IMAGE_SIZE_HEIGHT;
	out->size_w = (double)w;
	out->size_h = (double)h;
	return IMAGE_REQUEST_NUM_OK;
}

static int image_request_parse_size(enum image_api_version version, const char *s,
				    struct image_request *out, struct iiifd_error *err)
{
	const char *p = s;
	int rc;

	/* v2 has no "^" and always allows upscaling; v3 needs "^" to upscale. */
	out->upscale = version == IMAGE_API_V2;
	if (version == IMAGE_API_V3 && *p == '^') {
		out->upscale = true;
		p++;
	}
	if (strcmp(p, "max") == 0 || (version == IMAGE_API_V2 && strcmp(p, "full") == 0)) {
		out->size_kind = IMAGE_SIZE_MAX;
		return 0;
	}
	if (strncmp(p, "pct:", 4) == 0) {
		out->size_kind = IMAGE_SIZE_PERCENT;
		rc = image_request_decimal(p + 4, p + strlen(p), &out->size_w);
	} else if (*p == '!') {
		rc = image_request_parse_wh(p + 1, true, out);
	} else {
		rc = image_request_parse_wh(p, false, out);
	}
	return rc ? image_request_bad(err, "size", s, rc) : 0;
}

static int image_request_parse_rotation(const char *s, struct image_request *out,
					struct iiifd_error *err)
{
	const char *p = s;
	int rc;

	out->mirror = *p == '!';
	if (out->mirror)
		p++;
	rc = image_request_decimal(p, p + strlen(p), &out->rotation);
	if (rc)
		return image_request_bad(err, "rotation", s, rc);
	if (out->rotation > 360.0)
		return iiifd_error_set(err, 400,
				       "invalid rotation '" IMAGE_REQUEST_QUOTE
				       "': must be between 0 and 360",
				       s);
	return 0;
}

static int image_request_quality_from_name(const char *name, size_t len)
{
	for (int q = 0; q < IMAGE_REQUEST_NQUALITIES; q++) {
		if (strlen(image_request_quality_names[q]) == len &&
		    memcmp(image_request_quality_names[q], name, len) == 0)
			return q;
	}
	return -1;
}

static int image_request_parse_qf(const char *s, struct image_request *out,
				  struct iiifd_error *err)
{
	const char *dot = strchr(s, '.');
	int q, f, qlen;

	if (!dot)
		return iiifd_error_set(err, 400,
				       "invalid quality.format '" IMAGE_REQUEST_QUOTE
				       "': missing '.format'",
				       s);
	qlen = dot - s > 80 ? 80 : (int)(dot - s);
	q = image_request_quality_from_name(s, (size_t)(dot - s));
	if (q < 0)
		return iiifd_error_set(err, 400, "invalid quality '%.*s'", qlen, s);
	f = image_format_from_name(dot + 1);
	if (f < 0)
		return iiifd_error_set(err, 400, "invalid format '" IMAGE_REQUEST_QUOTE "'",
				       dot + 1);
	out->quality = (enum image_quality)q;
	out->format = (enum image_format)f;
	return 0;
}

int image_request_parse(enum image_api_version version, const char *region, const char *size,
			const char *rotation, const char *quality_format,
			struct image_request *out, struct iiifd_error *err)
{
	struct image_request req = { .version = version };

	if (version != IMAGE_API_V2 && version != IMAGE_API_V3)
		return iiifd_error_set(err, 400, "unsupported Image API version %d", (int)version);
	if (!region || !size || !rotation || !quality_format)
		return iiifd_error_set(err, 400, "missing image request parameter");
	if (image_request_parse_region(region, &req, err) ||
	    image_request_parse_size(version, size, &req, err) ||
	    image_request_parse_rotation(rotation, &req, err) ||
	    image_request_parse_qf(quality_format, &req, err))
		return -1;
	*out = req;
	return 0;
}

/* ---- resolving: region -------------------------------------------------------------------- */

/* v * num / den rounded to nearest (halves up); callers keep v * num below 4 * 10^18. */
int64_t image_request_muldiv(int64_t v, int64_t num, int64_t den)
{
	return (2 * v * num + den) / (2 * den);
}

int64_t image_request_height_for_width(int64_t img_w, int64_t img_h, int64_t w)
{
	int64_t h = image_request_muldiv(img_h, w, img_w);
	return h < 1 ? 1 : h;
}

/* Nearest integer to a non-negative double already known to be below 2^62. */
int64_t image_request_round(double d)
{
	return (int64_t)floor(d + 0.5);
}

/*
 * Percent regions: each edge is rounded to the nearest pixel (rather than the width on its
 * own), so adjacent pct regions tile without gaps or overlaps. A non-zero extent that rounds
 * to nothing still gets one pixel.
 */
static void image_request_pct_axis(double pos, double len, int64_t size, int64_t *start,
				   int64_t *extent)
{
	double hi = fmin(size * ((pos + len) / 100.0), (double)size);
	int64_t a = image_request_round(size * (pos / 100.0));
	int64_t b = image_request_round(hi);

	if (a > size - 1)
		a = size - 1;
	*start = a;
	*extent = b - a < 1 ? 1 : b - a;
}

static int image_request_region_area(const struct image_request *req, int64_t img_w,
				     int64_t img_h, struct image_geometry *g,
				     struct iiifd_error *err)
{
	const double *r = req->region;

	if (r[2] <= 0 || r[3] <= 0)
		return iiifd_error_set(err, 400, "invalid region: width and height must be non-zero");
	if (req->region_kind == IMAGE_REGION_PERCENT) {
		if (r[0] >= 100.0 || r[1] >= 100.0)
			return iiifd_error_set(err, 400,
					       "invalid region: pct:%g,%g,... starts outside the image",
					       r[0], r[1]);
		image_request_pct_axis(r[0], r[2], img_w, &g->x, &g->w);
		image_request_pct_axis(r[1], r[3], img_h, &g->y, &g->h);
		return 0;
	}
	g->x = (int64_t)r[0];
	g->y = (int64_t)r[1];
	if (g->x >= img_w || g->y >= img_h)
		return iiifd_error_set(err, 400,
				       "invalid region: %lld,%lld is outside the %lldx%lld image",
				       (long long)g->x, (long long)g->y, (long long)img_w,
				       (long long)img_h);
	/* crop at the image edge rather than adding empty space, as the spec asks */
	g->w = (int64_t)r[2] < img_w - g->x ? (int64_t)r[2] : img_w - g->x;
	g->h = (int64_t)r[3] < img_h - g->y ? (int64_t)r[3] : img_h - g->y;
	return 0;
}

static int image_request_resolve_region(const struct image_request *req, int64_t img_w,
					int64_t img_h, struct image_geometry *g,
					struct iiifd_error *err)
{
	int64_t side = img_w < img_h ? img_w : img_h;

	switch (req->region_kind) {
	case IMAGE_REGION_FULL:
		*g = (struct image_geometry){ .w = img_w, .h = img_h };
		return 0;
	case IMAGE_REGION_SQUARE:
		/* centred in the longer dimension (floor when the slack is odd) */
		*g = (struct image_geometry){ .x = (img_w - side) / 2, .y = (img_h - side) / 2,
					      .w = side, .h = side };
		return 0;
	case IMAGE_REGION_PIXELS:
	case IMAGE_REGION_PERCENT:
		return image_request_region_area(req, img_w, img_h, g, err);
	}
	return iiifd_error_set(err, 400, "invalid region");
}

/* ---- resolving: size ---------------------------------------------------------------------- */


struct image_request_limits image_request_limits(const struct image_limits *lim)
{
	struct image_request_limits l = { 0 };

	if (!lim)
		return l;
	l.w = lim->max_width > 0 ? lim->max_width : 0;
	l.h = lim->max_height > 0 ? lim->max_height : 0;
	/* "If maxWidth is specified and maxHeight is not, ... maxHeight = maxWidth" */
	if (!l.h)
		l.h = l.w;
	l.area = lim->max_area > 0 ? lim->max_area : 0;
	l.any = l.w || l.h || l.area;
	return l;
}

bool image_request_within(const struct image_request_limits *l, int64_t w, int64_t h)
{
	if (w > IMAGE_REQUEST_MAX_SIDE || h > IMAGE_REQUEST_MAX_SIDE)
		return false;
	return (!l->w || w <= l->w) && (!l->h || h <= l->h) && (!l->area || w * h <= l->area);
}

/* Pulls a size that rounding pushed just past a limit back inside it. */
static void image_request_clamp(const struct image_request_limits *l, int64_t *w, int64_t *h)
{
	int64_t mw = l->w && l->w < IMAGE_REQUEST_MAX_SIDE ? l->w : IMAGE_REQUEST_MAX_SIDE;
	int64_t mh = l->h && l->h < IMAGE_REQUEST_MAX_SIDE ? l->h : IMAGE_REQUEST_MAX_SIDE;

	*w = *w < 1 ? 1 : *w > mw ? mw : *w;
	*h = *h < 1 ? 1 : *h > mh ? mh : *h;
	if (l->area && *w * *h > l->area) {
		/* only reachable through the 1px floor on a very elongated region */
		if (*w > l->area)
			*w = l->area;
		*h = l->area / *w;
	}
}

/*
 * The largest size with the region's aspect ratio inside the limits (and the hard per-side
 * cap), whether that is smaller or larger than the region. As in the spec's implementation
 * notes, a width or height limit that binds is hit exactly with the other side rounded to
 * nearest, while an area limit rounds both sides down so the area cannot creep past it.
 */
void image_request_fit(int64_t rw, int64_t rh, const struct image_request_limits *l,
			      int64_t *ow, int64_t *oh)
{
	int64_t mw = l->w && l->w < IMAGE_REQUEST_MAX_SIDE ? l->w : IMAGE_REQUEST_MAX_SIDE;
	int64_t mh = l->h && l->h < IMAGE_REQUEST_MAX_SIDE ? l->h : IMAGE_REQUEST_MAX_SIDE;
	double sw = (double)mw / rw, sh = (double)mh / rh;
	double sa = l->area ? sqrt((double)l->area / ((double)rw * rh)) : INFINITY;

	double s = fmin(sa, fmin(sw, sh));

	if (sa < sw && sa < sh) {
		*ow = (int64_t)floor(rw * s);
		*oh = (int64_t)floor(rh * s);
	} else if (sw <= sh) {
		*ow = mw;
		*oh = image_request_muldiv(rh, mw, rw);
	} else {
		*ow = image_request_muldiv(rw, mh, rh);
		*oh = mh;
	}
	/* rounding the free side up may break another limit: round both down instead */
	if (!image_request_within(l, *ow, *oh)) {
		*ow = (int64_t)floor(rw * s);
		*oh = (int64_t)floor(rh * s);
	}
	image_request_clamp(l, ow, oh);
}

/* "max" shrinks to fit the limits; "^max" (v3) also grows to them when any are configured. */
static void image_request_size_max(const struct image_request *req, int64_t rw, int64_t rh,
				   const struct image_request_limits *l, int64_t *ow, int64_t *oh)
{
	bool grow = req->version == IMAGE_API_V3 && req->upscale && l->any;

	*ow = rw;
	*oh = rh;
	if (grow || !image_request_within(l, rw, rh))
		image_request_fit(rw, rh, l, ow, oh);
}

/*
 * "!w,h": the largest size keeping the aspect ratio inside w x h (and, without upscaling,
 * inside the region). The spec says the result must also respect server limits, so unlike
 * the explicit sizes it is shrunk to fit them rather than rejected.
 */
static void image_request_size_confined(const struct image_request *req, int64_t rw,
					int64_t rh, const struct image_request_limits *l,
					int64_t *ow, int64_t *oh)
{
	int64_t w = (int64_t)req->size_w, h = (int64_t)req->size_h;

	if (!req->upscale && rw <= w && rh <= h) {
		*ow = rw;
		*oh = rh;
	} else if (w * rh <= h * rw) {
		*ow = w;
		*oh = image_request_muldiv(rh, w, rw);
	} else {
		*ow = image_request_muldiv(rw, h, rh);
		*oh = h;
	}
	*ow = *ow < 1 ? 1 : *ow;
	*oh = *oh < 1 ? 1 : *oh;
	if (!image_request_within(l, *ow, *oh)) {
		int64_t fw, fh;

		image_request_fit(rw, rh, l, &fw, &fh);
		*ow = fw < *ow ? fw : *ow;
		*oh = fh < *oh ? fh : *oh;
	}
}

/*
 * w, ,h pct:n and w,h. The side not given is rounded to nearest, and a computed side below
 * one pixel becomes one; an explicit zero was rejected by the caller.
 */
static void image_request_size_explicit(const struct image_request *req, int64_t rw,
					int64_t rh, int64_t *ow, int64_t *oh)
{
	int64_t w = (int64_t)req->size_w, h = (int64_t)req->size_h;

	switch (req->size_kind) {
	case IMAGE_SIZE_WIDTH:
		*ow = w;
		*oh = image_request_muldiv(rh, w, rw);
		break;
	case IMAGE_SIZE_HEIGHT:
		*ow = image_request_muldiv(rw, h, rh);
		*oh = h;
		break;
	case IMAGE_SIZE_PERCENT:
		/* at most 10^9 * (10^9 + 1) / 100, well inside double and int64_t */
		*ow = image_request_round(rw * (req->size_w / 100.0));
		*oh = image_request_round(rh * (req->size_w / 100.0));
		break;
	default:
		*ow = w;
		*oh = h;
		break;
	}
	*ow = *ow < 1 ? 1 : *ow;
	*oh = *oh < 1 ? 1 : *oh;
}

static bool image_request_explicit_zero(const struct image_request *req)
{
	switch (req->size_kind) {
	case IMAGE_SIZE_WIDTH:
	case IMAGE_SIZE_PERCENT:
		return req->size_w <= 0;
	case IMAGE_SIZE_HEIGHT:
		return req->size_h <= 0;
	case IMAGE_SIZE_EXACT:
	case IMAGE_SIZE_CONFINED:
		return req->size_w <= 0 || req->size_h <= 0;
	default:
		return false;
	}
}

/* Rejects explicit sizes over a limit; they are never silently shrunk. */
static int image_request_check_limits(const struct image_request_limits *l, int64_t w,
				      int64_t h, struct iiifd_error *err)
{
	long long lw = (long long)w, lh = (long long)h;

	if (l->w && w > l->w)
		return iiifd_error_set(err, 400, "requested size %lldx%lld exceeds maxWidth %lld",
				       lw, lh, (long long)l->w);
	if (l->h && h > l->h)
		return iiifd_error_set(err, 400, "requested size %lldx%lld exceeds maxHeight %lld",
				       lw, lh, (long long)l->h);
	if (w > IMAGE_REQUEST_MAX_SIDE || h > IMAGE_REQUEST_MAX_SIDE)
		return iiifd_error_set(err, 400,
				       "requested size %lldx%lld exceeds the largest supported side %lld",
				       lw, lh, IMAGE_REQUEST_MAX_SIDE);
	/* both sides are now at most 10^7, so the product cannot overflow */
	if (l->area && w * h > l->area)
		return iiifd_error_set(err, 400, "requested size %lldx%lld exceeds maxArea %lld",
				       lw, lh, (long long)l->area);
	return 0;
}

int image_format_check_size(enum image_format format, int64_t out_w, int64_t out_h,
			    struct iiifd_error *err)
{
	static const int64_t max_side[IMAGE_FORMAT_COUNT] = {
		[IMAGE_FORMAT_JPG] = 65500, /* JPEG_MAX_DIMENSION in libjpeg-turbo */
		[IMAGE_FORMAT_GIF] = 65535, /* 16-bit logical screen size */
		[IMAGE_FORMAT_WEBP] = 16383, /* 14-bit sizes in the VP8/VP8L headers */
		[IMAGE_FORMAT_PDF] = 14400, /* largest page (PDF 1.7, Annex C), one point a pixel */
	};
	int64_t max = max_side[format];
	if (max && (out_w > max || out_h > max))
		return iiifd_error_set(err, 400,
				       "%s output is at most %lld pixels a side; this request is "
				       "%lldx%lld",
				       image_format_name(format), (long long)max, (long long)out_w,
				       (long long)out_h);
	return 0;
}

void image_request_output_size(const struct image_request *req, const struct image_geometry *g,
			       int64_t *w, int64_t *h)
{
	double angle = fmod(req->rotation, 360.0);
	if (fmod(angle, 90.0) == 0.0) {
		bool turned = angle == 90.0 || angle == 270.0;
		*w = turned ? g->out_h : g->out_w;
		*h = turned ? g->out_w : g->out_h;
		return;
	}
	double c = fabs(cos(angle * M_PI / 180.0)), s = fabs(sin(angle * M_PI / 180.0));
	*w = (int64_t)ceil((double)g->out_w * c + (double)g->out_h * s);
	*h = (int64_t)ceil((double)g->out_w * s + (double)g->out_h * c);
}

static int64_t image_request_min_limit(int64_t configured, int64_t other)
{
	return configured > 0 && configured < other ? configured : other;
}

struct image_limits image_limits_for_image(const struct image_limits *lim, int64_t img_w,
					   int64_t img_h)
{
	struct image_limits out = *lim;
	if (!(lim->max_upscale > 0))
		return out;
	int64_t w = image_request_min_limit(IMAGE_REQUEST_MAX_SIDE,
					    (int64_t)floor((double)img_w * lim->max_upscale));
	int64_t h = image_request_min_limit(IMAGE_REQUEST_MAX_SIDE,
					    (int64_t)floor((double)img_h * lim->max_upscale));
	if (!lim->max_height && lim->max_width)
		out.max_height = lim->max_width; /* the spec's default, made explicit */
	out.max_width = image_request_min_limit(lim->max_width, w);
	out.max_height = image_request_min_limit(out.max_height, h);
	out.max_area = image_request_min_limit(lim->max_area, w * h);
	return out;
}

/*
 * The limits for one region: the configured ones, and no more than max_upscale times the
 * region. Explicit sizes beyond the upscaling limit are refused here, naming it.
 */
static int image_request_upscale_limits(const struct image_request *req,
					const struct image_limits *lim,
					const struct image_geometry *g,
					struct image_request_limits *l, struct iiifd_error *err)
{
	if (!lim || !(lim->max_upscale > 0))
		return 0;
	int64_t uw = image_request_min_limit(IMAGE_REQUEST_MAX_SIDE,
					     (int64_t)floor((double)g->w * lim->max_upscale));
	int64_t uh = image_request_min_limit(IMAGE_REQUEST_MAX_SIDE,
					     (int64_t)floor((double)g->h * lim->max_upscale));
	if (uw < 1 || uh < 1)
		uw = uh = 1;
	l->w = image_request_min_limit(l->w, uw);
	l->h = image_request_min_limit(l->h, uh);
	l->area = image_request_min_limit(l->area, uw * uh);
	l->any = true;
	if (req->size_kind == IMAGE_SIZE_MAX || req->size_kind == IMAGE_SIZE_CONFINED ||
	    !req->upscale)
		return 0;
	int64_t ow, oh;
	image_request_size_explicit(req, g->w, g->h, &ow, &oh);
	if (ow > uw || oh > uh)
		return iiifd_error_set(err, 400,
				       "requested size %lldx%lld enlarges the %lldx%lld region more "
				       "than %g times (max-upscale)",
				       (long long)ow, (long long)oh, (long long)g->w,
				       (long long)g->h, lim->max_upscale);
	return 0;
}

static int image_request_resolve_size(const struct image_request *req,
				      const struct image_request_limits *l,
				      struct image_geometry *g, struct iiifd_error *err)
{
	if (req->size_kind == IMAGE_SIZE_MAX) {
		image_request_size_max(req, g->w, g->h, l, &g->out_w, &g->out_h);
		return 0;
	}
	if (image_request_explicit_zero(req))
		return iiifd_error_set(err, 400, "invalid size: width and height must be non-zero");
	if (!req->upscale && req->size_kind == IMAGE_SIZE_PERCENT && req->size_w > 100.0)
		return iiifd_error_set(err, 400,
				       "invalid size pct:%g: more than 100%% upscales, which requires ^",
				       req->size_w);
	if (req->size_kind == IMAGE_SIZE_CONFINED) {
		image_request_size_confined(req, g->w, g->h, l, &g->out_w, &g->out_h);
		return 0;
	}
	image_request_size_explicit(req, g->w, g->h, &g->out_w, &g->out_h);
	if (!req->upscale && (g->out_w > g->w || g->out_h > g->h))
		return iiifd_error_set(err, 400,
				       "requested size %lldx%lld is larger than the %lldx%lld region: "
				       "upscaling requires ^",
				       (long long)g->out_w, (long long)g->out_h, (long long)g->w,
				       (long long)g->h);
	return image_request_check_limits(l, g->out_w, g->out_h, err);
}

int image_request_resolve(const struct image_request *req, int64_t img_w, int64_t img_h,
			  const struct image_limits *lim, struct image_geometry *out,
			  struct iiifd_error *err)
{
	struct image_request_limits l = image_request_limits(lim);
	struct image_geometry g = { 0 };

	/* bounding the image keeps every product below in int64_t range */
	if (img_w < 1 || img_h < 1 || img_w > IMAGE_REQUEST_MAX_NUMBER ||
	    img_h > IMAGE_REQUEST_MAX_NUMBER)
		return iiifd_error_set(err, 500, "unsupported image size %lldx%lld",
				       (long long)img_w, (long long)img_h);
	if (image_request_resolve_region(req, img_w, img_h, &g, err) ||
	    image_request_upscale_limits(req, lim, &g, &l, err) ||
	    image_request_resolve_size(req, &l, &g, err))
		return -1;
	*out = g;
	return 0;
}

/* ---- names -------------------------------------------------------------------------------- */

int image_format_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int f = 0; f < IMAGE_FORMAT_COUNT; f++) {
		if (strcmp(image_request_format_names[f], name) == 0)
			return f;
	}
	return -1;
}

const char *image_format_name(enum image_format format)
{
	if ((int)format < 0 || format >= IMAGE_FORMAT_COUNT)
		return "unknown";
	return image_request_format_names[format];
}

const char *image_format_mime(enum image_format format)
{
	if ((int)format < 0 || format >= IMAGE_FORMAT_COUNT)
		return "application/octet-stream";
	return image_request_format_mimes[format];
}

const char *image_quality_name(enum image_quality quality)
{
	if ((int)quality < 0 || (int)quality >= IMAGE_REQUEST_NQUALITIES)
		return "unknown";
	return image_request_quality_names[quality];
}
