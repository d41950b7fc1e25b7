/*
 * fuzz_request.c: the Image API URL grammar and geometry (src/image/request.c). Input: the four
 * path segments region/size/rotation/quality.format separated by '/', after one byte choosing
 * the API version and one choosing limits; every request that parses is resolved against a few
 * image sizes, checked against the encoders' limits and written in canonical form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 4096)
		return 0;
	char *buf = malloc(size - 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 2, size - 2);
	buf[size - 2] = '\0';
	char *seg[4] = { buf, "", "", "" };
	for (int i = 1; i < 4; i++) {
		char *slash = strchr(seg[i - 1], '/');
		if (!slash)
			break;
		*slash = '\0';
		seg[i] = slash + 1;
	}
	enum image_api_version v = data[0] & 1 ? IMAGE_API_V3 : IMAGE_API_V2;
	static const struct image_limits limits[] = {
		{ 0, 0, 0, 0 }, { 0, 0, 100000000, 2 }, { 500, 300, 0, 1 }, { 64, 0, 1000, 0 },
	};
	const struct image_limits *lim = &limits[data[1] % 4];
	struct image_request req;
	struct iiifd_error err = { 0 };
	if (image_request_parse(v, seg[0], seg[1], seg[2], seg[3], &req, &err) == 0) {
		static const int64_t dims[][2] = { { 1, 1 }, { 300, 200 }, { 65537, 3 }, { 9999999, 9999999 } };
		for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
			struct image_geometry g;
			if (image_request_resolve(&req, dims[d][0], dims[d][1], lim, &g, &err) < 0)
				continue;
			image_format_check_size(req.format, g.out_w, g.out_h, &err);
			char canon[512];
			image_request_canonical(&req, &g, dims[d][0], dims[d][1], lim, canon, sizeof canon);
		}
	}
	free(buf);
	return 0;
}
