/*
 * info.c: info.json for both API versions. The two versions share sizes/tiles and differ in
 * context, id key, and how features, formats and qualities are announced.
 */
#include "image/info.h"

#include <math.h>

#define INFO_MAX_FACTORS 24

/* Optional features iiifd implements beyond level 2 (3.0 names). */
static const char *const info_v3_extra_features[] = {
	"canonicalLinkHeader", "mirroring", "profileLinkHeader", "regionSquare",
	"rotationArbitrary", "sizeUpscaling", NULL,
};

/* Every feature iiifd implements (2.1 names). */
static const char *const info_v2_supports[] = {
	"baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
	"profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
	"rotationBy90s", "sizeAboveFull", "sizeByConfinedWh", "sizeByDistortedWh", "sizeByH",
	"sizeByPct", "sizeByW", "sizeByWh", NULL,
};

static json_t *info_string_array(const char *const *names)
{
	json_t *a = json_array();
	for (; *names; names++)
		json_array_append_new(a, json_string(*names));
	return a;
}

#define INFO_LEVEL2_FORMATS ((1u << IMAGE_FORMAT_JPG) | (1u << IMAGE_FORMAT_PNG))

/* Names of the formats whose bits are set in formats. */
static json_t *info_formats(unsigned formats)
{
	json_t *a = json_array();
	for (int f = 0; f < IMAGE_FORMAT_COUNT; f++)
		if (formats & (1u << f))
			json_array_append_new(a, json_string(image_format_name(f)));
	return a;
}

static int info_within_limits(int64_t w, int64_t h, const struct image_limits *lim)
{
	return (!lim->max_width || w <= lim->max_width) &&
	       (!lim->max_height || h <= lim->max_height) &&
	       (!lim->max_area || w * h <= lim->max_area);
}

int image_info_scale_factors(const struct image_source *src, int tile_w, int tile_h,
			     int *factors, int max)
{
	int n = 0;
	if (src->nlevels > 1 && src->kind != IMAGE_SOURCE_JPEG) {
		for (int i = 0; i < src->nlevels && n < max; i++) {
			double ratio = (double)src->width / (double)src->levels[i].width;
			factors[n++] = 1 << (int)lround(log2(ratio));
		}
		return n;
	}
	for (int64_t f = 1; n < max; f *= 2) {
		factors[n++] = (int)f;
		if ((src->width + f - 1) / f <= tile_w && (src->height + f - 1) / f <= tile_h)
			break;
	}
	return n;
}

/*
 * Whole-image sizes at each scale factor, smallest first, within the limits: the width rounded
 * up as tiles are, the height what a `w,` request of that width returns (both API versions).
 */
static json_t *info_sizes(const struct image_source *src, const int *factors, int n,
			  const struct image_limits *lim)
{
	json_t *sizes = json_array();
	for (int i = n - 1; i >= 0; i--) {
		int64_t w = (src->width + factors[i] - 1) / factors[i];
		int64_t h = image_request_height_for_width(src->width, src->height, w);
		if (info_within_limits(w, h, lim))
			json_array_append_new(sizes, json_pack("{sI sI}", "width", (json_int_t)w,
							       "height", (json_int_t)h));
	}
	return sizes;
}

static json_t *info_tiles(int tile_w, int tile_h, const int *factors, int n)
{
	json_t *sf = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(sf, json_integer(factors[i]));
	return json_pack("[{si si so}]", "width", tile_w, "height", tile_h, "scaleFactors", sf);
}

/* Tile edge: the stored tiles when there are any, else the default; never above maxWidth/Height. */
static void info_tile_size(const struct image_source *src, const struct image_info_options *opt,
			   int *tw, int *th)
{
	*tw = src->tile_width ? src->tile_width : opt->default_tile_size;
	*th = src->tile_height ? src->tile_height : opt->default_tile_size;
	if (opt->limits.max_width && *tw > opt->limits.max_width)
		*tw = (int)opt->limits.max_width;
	if (opt->limits.max_height && *th > opt->limits.max_height)
		*th = (int)opt->limits.max_height;
	while (opt->limits.max_area && (int64_t)*tw * *th > opt->limits.max_area && *tw > 1) {
		*tw = (*tw + 1) / 2; /* halving keeps tiles aligned with the stored ones */
		*th = (*th + 1) / 2;
	}
}

static void info_add_limits(json_t *obj, const struct image_limits *lim)
{
	if (lim->max_width)
		json_object_set_new(obj, "maxWidth", json_integer(lim->max_width));
	if (lim->max_height)
		json_object_set_new(obj, "maxHeight", json_integer(lim->max_height));
	if (lim->max_area)
		json_object_set_new(obj, "maxArea", json_integer(lim->max_area));
}

static json_t *info_v3(const char *id, const struct image_source *src,
		       const struct image_info_options *opt)
{
	json_t *info = json_pack("{ss ss ss ss ss sI sI}", "@context",
				 "http://iiif.io/api/image/3/context.json", "id", id, "type",
				 "ImageService3", "protocol", "http://iiif.io/api/image", "profile",
				 opt->level0 ? "level0" : "level2", "width", (json_int_t)src->width,
				 "height", (json_int_t)src->height);
	info_add_limits(info, &opt->limits);
	if (opt->rights && *opt->rights)
		json_object_set_new(info, "rights", json_string(opt->rights));
	if (opt->level0)
		return info;
	json_object_set_new(info, "extraQualities",
			    info_string_array((const char *const[]){ "color", "gray", "bitonal",
								     NULL }));
	json_object_set_new(info, "extraFormats", info_formats(opt->formats & ~INFO_LEVEL2_FORMATS));
	json_object_set_new(info, "extraFeatures", info_string_array(info_v3_extra_features));
	return info;
}

/* The profile's details: what a level 2 service offers, or just jpg/default for a static tree. */
static json_t *info_v2_details(const struct image_info_options *opt)
{
	json_t *details;
	if (opt->level0)
		details = json_pack("{s[s] s[s]}", "formats", "jpg", "qualities", "default");
	else
		details = json_pack("{so so so}", "formats",
				    info_formats(opt->formats | INFO_LEVEL2_FORMATS), "qualities",
				    info_string_array((const char *const[]){ "default", "color",
									     "gray", "bitonal",
									     NULL }),
				    "supports", info_string_array(info_v2_supports));
	info_add_limits(details, &opt->limits);
	return details;
}

static json_t *info_v2(const char *id, const struct image_source *src,
		       const struct image_info_options *opt)
{
	return json_pack("{ss ss ss sI sI s[so]}", "@context",
			 "http://iiif.io/api/image/2/context.json", "@id", id, "protocol",
			 "http://iiif.io/api/image", "width", (json_int_t)src->width, "height",
			 (json_int_t)src->height, "profile",
			 opt->level0 ? "http://iiif.io/api/image/2/level0.json"
				     : "http://iiif.io/api/image/2/level2.json",
			 info_v2_details(opt));
}

json_t *image_info_build(enum image_api_version version, const char *id,
			 const struct image_source *src, const struct image_info_options *opt)
{
	int tw, th, factors[INFO_MAX_FACTORS];
	info_tile_size(src, opt, &tw, &th); /* tiles never upscale: the configured limits only */
	int n = image_info_scale_factors(src, tw, th, factors, INFO_MAX_FACTORS);
	/* what max-upscale allows for this image is advertised as its maxWidth/Height/Area */
	struct image_info_options eff = *opt;
	eff.limits = image_limits_for_image(&opt->limits, src->width, src->height);
	json_t *info = version == IMAGE_API_V3 ? info_v3(id, src, &eff) : info_v2(id, src, &eff);
	json_object_set_new(info, "sizes", info_sizes(src, factors, n, &eff.limits));
	json_object_set_new(info, "tiles", info_tiles(tw, th, factors, n));
	return info;
}
