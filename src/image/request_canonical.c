/*
 * request_canonical.c: the canonical form of a resolved Image API request (3.0 and 2.1), as the
 * Link header and the derivative cache key use it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "image/request.h"
#include "image/request_internal.h"

/* An snprintf-style writer that keeps counting after the buffer is full. */
struct image_request_out {
	char *buf;
	size_t n;
	size_t len;
};

static void image_request_put(struct image_request_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void image_request_put(struct image_request_out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->n ? o->n - o->len : 0;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->len += (size_t)k;
}

/*
 * Rotation as an integer when whole, else the shortest decimal with a leading 0 and no
 * trailing zeros, to 10 decimal places (the most the 2.1 spec allows). Digits are produced
 * by hand, not with %f, so the locale's decimal point cannot leak in.
 */
static void image_request_put_rotation(struct image_request_out *o, const struct image_request *req)
{
	const int64_t unit = 10000000000LL;
	int64_t v = image_request_round(req->rotation * (double)unit);
	int64_t frac = v % unit;
	char digits[11];
	int n = 10;

	image_request_put(o, "%s%lld", req->mirror ? "!" : "", (long long)(v / unit));
	if (!frac)
		return;
	for (int i = 9; i >= 0; i--, frac /= 10)
		digits[i] = (char)('0' + frac % 10);
	while (digits[n - 1] == '0')
		n--;
	image_request_put(o, ".%.*s", n, digits);
}

static bool image_request_v3_is_max_up(const struct image_geometry *g,
				       const struct image_request_limits *l)
{
	int64_t w, h;

	if (!l->any || (g->out_w <= g->w && g->out_h <= g->h))
		return false;
	image_request_fit(g->w, g->h, l, &w, &h);
	return w == g->out_w && h == g->out_h;
}

/* v3: "max", "^max", "w,h" or "^w,h", judged by the outcome so equal images share a URL. */
static void image_request_put_size_v3(struct image_request_out *o, const struct image_geometry *g,
				      const struct image_request_limits *l)
{
	int64_t w, h;
	bool up = g->out_w > g->w || g->out_h > g->h;

	w = g->w;
	h = g->h;
	if (!image_request_within(l, w, h))
		image_request_fit(g->w, g->h, l, &w, &h);
	if (w == g->out_w && h == g->out_h)
		image_request_put(o, "max");
	else if (image_request_v3_is_max_up(g, l))
		image_request_put(o, "^max");
	else
		image_request_put(o, "%s%lld,%lld", up ? "^" : "", (long long)g->out_w,
				  (long long)g->out_h);
}

/* Whether "w," would give back out_h, with the same rounding and 1px floor as resolve. */
static bool image_request_v2_width_keeps_aspect(const struct image_geometry *g)
{
	int64_t h = image_request_muldiv(g->h, g->out_w, g->w);

	return (h < 1 ? 1 : h) == g->out_h;
}

/*
 * v2: "full" for the unscaled region, "w," when asking for that width reproduces the same
 * height (the aspect ratio is kept), otherwise the distorting "w,h".
 */
static void image_request_put_size_v2(struct image_request_out *o, const struct image_geometry *g)
{
	if (g->out_w == g->w && g->out_h == g->h)
		image_request_put(o, "full");
	else if (image_request_v2_width_keeps_aspect(g))
		image_request_put(o, "%lld,", (long long)g->out_w);
	else
		image_request_put(o, "%lld,%lld", (long long)g->out_w, (long long)g->out_h);
}

int image_request_canonical(const struct image_request *req, const struct image_geometry *g,
			    int64_t img_w, int64_t img_h, const struct image_limits *lim,
			    char *buf, size_t n)
{
	struct image_request_out o = { .buf = buf, .n = n };
	struct image_limits whole = lim ? image_limits_for_image(lim, img_w, img_h)
					: (struct image_limits){ 0, 0, 0, 0 };
	struct image_request_limits l = image_request_limits(&whole);

	if (n)
		buf[0] = '\0';
	if (g->x == 0 && g->y == 0 && g->w == img_w && g->h == img_h)
		image_request_put(&o, "full/");
	else
		image_request_put(&o, "%lld,%lld,%lld,%lld/", (long long)g->x, (long long)g->y,
				  (long long)g->w, (long long)g->h);
	if (req->version == IMAGE_API_V2)
		image_request_put_size_v2(&o, g);
	else
		image_request_put_size_v3(&o, g, &l);
	image_request_put(&o, "/");
	image_request_put_rotation(&o, req);
	image_request_put(&o, "/%s.%s", image_quality_name(req->quality),
			  image_format_name(req->format));
	return (int)o.len;
}
