/*
 * test_request.c: table-driven tests of the IIIF request grammar, geometry and canonical forms
 * in src/image/request.c, covering every example in the 2.1 and 3.0 specs plus error cases.
 */
#include "image/request.h"
#include "unit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define V2 IMAGE_API_V2
#define V3 IMAGE_API_V3

/* The example image behind every picture in both specs: its results imply 300 x 200. */
#define EX_W 300
#define EX_H 200

/* ---- helpers ------------------------------------------------------------------------------ */

static char test_ctx[512];

static const char *ctx(enum image_api_version v, const char *r, const char *s, const char *rot,
		       const char *qf)
{
	snprintf(test_ctx, sizeof test_ctx, "v%d %s/%s/%s/%s", (int)v, r, s, rot, qf);
	return test_ctx;
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* Splits "region/size/rotation/qf" in place; returns false unless there are exactly four. */
static bool split4(char *s, char *parts[4])
{
	for (int i = 0; i < 4; i++) {
		char *slash = strchr(s, '/');

		parts[i] = s;
		if (i < 3) {
			if (!slash)
				return false;
			*slash = '\0';
			s = slash + 1;
		} else if (slash) {
			return false;
		}
	}
	return true;
}

/* ---- full pipeline table: parse, resolve, canonical --------------------------------------- */

struct pipeline_case {
	enum image_api_version v;
	const char *region, *size, *rotation, *qf;
	int64_t img_w, img_h;
	struct image_limits lim;
	int status; /* 0 for success, else the expected http_status */
	int64_t x, y, w, h, out_w, out_h;
	const char *want; /* canonical form on success, else a substring of the error message */
};

#define OK(x, y, w, h, ow, oh, canon) 0, x, y, w, h, ow, oh, canon
#define FAIL(status, msg) status, 0, 0, 0, 0, 0, 0, msg
#define NOLIM { 0, 0, 0, 0 }

static const struct pipeline_case pipeline_cases[] = {
	/* 3.0 section 4.1 region examples (300 x 200 image) */
	{ V3, "full", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "square", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(50, 0, 200, 200, 200, 200, "50,0,200,200/max/0/default.jpg") },
	{ V3, "125,15,120,140", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 120, 140, 120, 140, "125,15,120,140/max/0/default.jpg") },
	{ V3, "pct:41.6,7.5,40,70", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 120, 140, 120, 140, "125,15,120,140/max/0/default.jpg") },
	{ V3, "125,15,200,200", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 175, 185, 175, 185, "125,15,175,185/max/0/default.jpg") },
	{ V3, "pct:41.6,7.5,66.6,100", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 175, 185, 175, 185, "125,15,175,185/max/0/default.jpg") },

	/* max-upscale 2: at most twice the region, ^max grows to that, explicit sizes beyond it
	 * are refused naming the limit; sizes without ^ are never affected */
	{ V3, "full", "^600,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 2 },
	  OK(0, 0, 300, 200, 600, 400, "full/^max/0/default.jpg") },
	{ V3, "full", "^601,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 2 },
	  FAIL(400, "max-upscale") },
	{ V3, "full", "^max", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 2 },
	  OK(0, 0, 300, 200, 600, 400, "full/^max/0/default.jpg") },
	{ V3, "0,0,10,10", "^20,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 2 },
	  OK(0, 0, 10, 10, 20, 20, "0,0,10,10/^20,20/0/default.jpg") },
	{ V3, "0,0,10,10", "^pct:300", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 2 },
	  FAIL(400, "max-upscale") },
	{ V3, "0,0,10,10", "^!1000,1000", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 2 },
	  OK(0, 0, 10, 10, 20, 20, "0,0,10,10/^20,20/0/default.jpg") },
	{ V3, "full", "150,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 1 },
	  OK(0, 0, 300, 200, 150, 100, "full/150,100/0/default.jpg") },
	{ V2, "0,0,10,10", "40,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 0, 2 },
	  FAIL(400, "max-upscale") },

	/* 3.0 section 4.2 size examples */
	{ V3, "full", "max", "0", "default.jpg", EX_W, EX_H, { 200, 0, 0, 0 },
	  OK(0, 0, 300, 200, 200, 133, "full/max/0/default.jpg") },
	{ V3, "full", "^max", "0", "default.jpg", EX_W, EX_H, { 360, 0, 0, 0 },
	  OK(0, 0, 300, 200, 360, 240, "full/^max/0/default.jpg") },
	{ V3, "full", "150,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,100/0/default.jpg") },
	{ V3, "full", "^360,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 360, 240, "full/^360,240/0/default.jpg") },
	{ V3, "full", ",150", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 225, 150, "full/225,150/0/default.jpg") },
	/* the spec prints this example as ",^240", which its own grammar does not allow */
	{ V3, "full", "^,240", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 360, 240, "full/^360,240/0/default.jpg") },
	{ V3, "full", ",^240", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "invalid size ',^240'") },
	{ V3, "full", "pct:50", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,100/0/default.jpg") },
	/* printed as "pct:120" under "above maximum", but pct:n above 100 needs "^" */
	{ V3, "full", "pct:120", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "requires ^") },
	{ V3, "full", "^pct:120", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 360, 240, "full/^360,240/0/default.jpg") },
	{ V3, "full", "225,100", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 225, 100, "full/225,100/0/default.jpg") },
	{ V3, "full", "^360,360", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 360, 360, "full/^360,360/0/default.jpg") },
	{ V3, "full", "!225,100", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,100/0/default.jpg") },
	{ V3, "full", "^!360,360", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 360, 240, "full/^360,240/0/default.jpg") },

	/* 3.0 section 4.3 rotation examples */
	{ V3, "full", "max", "180", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/180/default.jpg") },
	{ V3, "full", "max", "90", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/90/default.jpg") },
	{ V3, "full", "max", "22.5", "default.png", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/22.5/default.png") },
	{ V3, "full", "max", "!0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/!0/default.jpg") },
	{ V3, "full", "max", "!180", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/!180/default.jpg") },

	/* 3.0 sections 4.4 and 4.5 quality and format examples */
	{ V3, "full", "max", "0", "color.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/color.jpg") },
	{ V3, "full", "max", "0", "gray.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/gray.jpg") },
	{ V3, "full", "max", "0", "bitonal.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/bitonal.jpg") },
	{ V3, "full", "max", "0", "default.png", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.png") },
	{ V3, "full", "max", "0", "default.tif", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.tif") },

	/* 3.0 section 4.6 order of implementation example */
	{ V3, "125,15,120,140", "90,", "!345", "gray.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 120, 140, 90, 105, "125,15,120,140/90,105/!345/gray.jpg") },

	/* 3.0 section 4.8 canonical Link header example, on an 800 x 600 image */
	{ V3, "full", "400,", "0", "default.jpg", 800, 600, NOLIM,
	  OK(0, 0, 800, 600, 400, 300, "full/400,300/0/default.jpg") },
	{ V3, "pct:0,0,100,100", "pct:50", "0.0", "default.jpg", 800, 600, NOLIM,
	  OK(0, 0, 800, 600, 400, 300, "full/400,300/0/default.jpg") },
	{ V3, "0,0,800,600", "!400,400", "0", "default.jpg", 800, 600, NOLIM,
	  OK(0, 0, 800, 600, 400, 300, "full/400,300/0/default.jpg") },

	/* 3.0 section 5.2 example: 6000 x 4000, maxWidth 3000, maxHeight 2000, maxArea 4000000 */
	{ V3, "full", "max", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  OK(0, 0, 6000, 4000, 2449, 1632, "full/max/0/default.jpg") },
	{ V3, "full", "^max", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  OK(0, 0, 6000, 4000, 2449, 1632, "full/max/0/default.jpg") },
	{ V3, "full", "2000,", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  OK(0, 0, 6000, 4000, 2000, 1333, "full/2000,1333/0/default.jpg") },
	{ V3, "full", "3000,", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  FAIL(400, "requested size 3000x2000 exceeds maxArea 4000000") },
	{ V3, "full", "4000,", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  FAIL(400, "requested size 4000x2667 exceeds maxWidth 3000") },
	{ V3, "full", "1000,2500", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  FAIL(400, "requested size 1000x2500 exceeds maxHeight 2000") },
	{ V3, "full", "!5000,5000", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  OK(0, 0, 6000, 4000, 2449, 1632, "full/max/0/default.jpg") },
	{ V3, "full", "pct:50", "0", "default.jpg", 6000, 4000, { 3000, 2000, 4000000, 0 },
	  FAIL(400, "requested size 3000x2000 exceeds maxArea 4000000") },

	/* 2.1 section 4.1 region examples */
	{ V2, "full", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/default.jpg") },
	{ V2, "square", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(50, 0, 200, 200, 200, 200, "50,0,200,200/full/0/default.jpg") },
	{ V2, "125,15,120,140", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 120, 140, 120, 140, "125,15,120,140/full/0/default.jpg") },
	{ V2, "pct:41.6,7.5,40,70", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 120, 140, 120, 140, "125,15,120,140/full/0/default.jpg") },
	{ V2, "125,15,200,200", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 175, 185, 175, 185, "125,15,175,185/full/0/default.jpg") },
	{ V2, "pct:41.6,7.5,66.6,100", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 175, 185, 175, 185, "125,15,175,185/full/0/default.jpg") },

	/* 2.1 section 4.2 size examples */
	{ V2, "full", "max", "0", "default.jpg", EX_W, EX_H, { 200, 0, 0, 0 },
	  OK(0, 0, 300, 200, 200, 133, "full/200,/0/default.jpg") },
	{ V2, "full", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/default.jpg") },
	{ V2, "full", "150,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,/0/default.jpg") },
	{ V2, "full", ",150", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 225, 150, "full/225,/0/default.jpg") },
	{ V2, "full", "pct:50", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,/0/default.jpg") },
	{ V2, "full", "225,100", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 225, 100, "full/225,100/0/default.jpg") },
	{ V2, "full", "!225,100", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,/0/default.jpg") },

	/* 2.1 sections 4.3 to 4.5 rotation, quality and format examples */
	{ V2, "full", "full", "180", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/180/default.jpg") },
	{ V2, "full", "full", "90", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/90/default.jpg") },
	{ V2, "full", "full", "22.5", "default.png", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/22.5/default.png") },
	{ V2, "full", "full", "!0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/!0/default.jpg") },
	{ V2, "full", "full", "!180", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/!180/default.jpg") },
	{ V2, "full", "full", "0", "color.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/color.jpg") },
	{ V2, "full", "full", "0", "gray.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/gray.jpg") },
	{ V2, "full", "full", "0", "bitonal.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/bitonal.jpg") },
	{ V2, "full", "full", "0", "default.png", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/default.png") },
	{ V2, "full", "full", "0", "default.tif", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/default.tif") },

	/* 2.1 order of implementation and canonical examples */
	{ V2, "125,15,120,140", "90,", "!345", "gray.jpg", EX_W, EX_H, NOLIM,
	  OK(125, 15, 120, 140, 90, 105, "125,15,120,140/90,/!345/gray.jpg") },
	{ V2, "full", "400,", "0", "default.jpg", 800, 600, NOLIM,
	  OK(0, 0, 800, 600, 400, 300, "full/400,/0/default.jpg") },
	{ V2, "square", "full", "0", "default.jpg", 200, 200, NOLIM,
	  OK(0, 0, 200, 200, 200, 200, "full/full/0/default.jpg") },
	{ V2, "full", "400,300", "0", "default.jpg", 800, 600, NOLIM,
	  OK(0, 0, 800, 600, 400, 300, "full/400,/0/default.jpg") },
	{ V2, "full", "400,301", "0", "default.jpg", 800, 600, NOLIM,
	  OK(0, 0, 800, 600, 400, 301, "full/400,301/0/default.jpg") },

	/* 2.1 section 5.2 sizes example (6000 x 4000), requested with the canonical "w," */
	{ V2, "full", "150,", "0", "default.jpg", 6000, 4000, NOLIM,
	  OK(0, 0, 6000, 4000, 150, 100, "full/150,/0/default.jpg") },
	{ V2, "full", "600,", "0", "default.jpg", 6000, 4000, NOLIM,
	  OK(0, 0, 6000, 4000, 600, 400, "full/600,/0/default.jpg") },
	{ V2, "full", "3000,", "0", "default.jpg", 6000, 4000, NOLIM,
	  OK(0, 0, 6000, 4000, 3000, 2000, "full/3000,/0/default.jpg") },
	{ V2, "full", "3000,2000", "0", "default.jpg", 6000, 4000, NOLIM,
	  OK(0, 0, 6000, 4000, 3000, 2000, "full/3000,/0/default.jpg") },

	/* v2 upscales freely */
	{ V2, "full", "600,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 600, 400, "full/600,/0/default.jpg") },
	{ V2, "full", "pct:200", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 600, 400, "full/600,/0/default.jpg") },
	{ V2, "full", "!600,600", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 600, 400, "full/600,/0/default.jpg") },
	{ V2, "full", "600,200", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 600, 200, "full/600,200/0/default.jpg") },
	/* but v2 "max" only shrinks to the limits */
	{ V2, "full", "max", "0", "default.jpg", EX_W, EX_H, { 600, 0, 0, 0 },
	  OK(0, 0, 300, 200, 300, 200, "full/full/0/default.jpg") },
	{ V2, "full", "full", "0", "default.jpg", EX_W, EX_H, { 0, 0, 15000, 0 },
	  OK(0, 0, 300, 200, 150, 100, "full/150,/0/default.jpg") },
	{ V2, "full", "600,", "0", "default.jpg", EX_W, EX_H, { 500, 0, 0, 0 },
	  FAIL(400, "requested size 600x400 exceeds maxWidth 500") },

	/* regions: squares, clipping, pct rounding, and out-of-image / zero-sized regions */
	{ V3, "square", "max", "0", "default.jpg", 200, 301, NOLIM,
	  OK(0, 50, 200, 200, 200, 200, "0,50,200,200/max/0/default.jpg") },
	{ V3, "square", "max", "0", "default.jpg", 77, 77, NOLIM,
	  OK(0, 0, 77, 77, 77, 77, "full/max/0/default.jpg") },
	{ V3, "299,199,1000,1000", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(299, 199, 1, 1, 1, 1, "299,199,1,1/max/0/default.jpg") },
	{ V3, "0,0,300,200", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "0,0,999999999,999999999", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "pct:0,0,0.0001,100", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 1, 200, 1, 200, "0,0,1,200/max/0/default.jpg") },
	{ V3, "pct:99.9,0,50,100", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(299, 0, 1, 200, 1, 200, "299,0,1,200/max/0/default.jpg") },
	{ V3, "pct:50,50,50,50", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(150, 100, 150, 100, 150, 100, "150,100,150,100/max/0/default.jpg") },
	{ V3, "pct:0,0,1000000000,1000000000", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "300,0,10,10", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "outside the 300x200 image") },
	{ V3, "0,200,10,10", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "outside the 300x200 image") },
	{ V3, "999999999,0,10,10", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "outside") },
	{ V3, "0,0,0,10", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "invalid region: width and height must be non-zero") },
	{ V3, "0,0,10,0", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "invalid region: width and height must be non-zero") },
	{ V3, "pct:100,0,10,10", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "outside") },
	{ V3, "pct:0,100,10,10", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "outside") },
	{ V3, "pct:0,0,0,10", "max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "non-zero") },
	{ V2, "0,0,10,0", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "non-zero") },
	{ V2, "300,0,10,10", "full", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "outside") },

	/* sizes: v3 upscaling needs "^", explicit zeros, 1px floor */
	{ V3, "full", "300,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "full", "pct:100", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "full", "301,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "upscaling requires ^") },
	{ V3, "full", ",201", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "upscaling requires ^") },
	{ V3, "full", "301,200", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "upscaling requires ^") },
	{ V3, "full", "300,201", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "upscaling requires ^") },
	{ V3, "full", "pct:100.1", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "requires ^") },
	{ V3, "10,10,10,10", "11,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "larger than the 10x10 region") },
	{ V3, "full", "^300,200", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "full", "^150,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,100/0/default.jpg") },
	{ V3, "full", "^max", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "full", "!1000,1000", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 300, 200, "full/max/0/default.jpg") },
	{ V3, "full", "!1000,100", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 150, 100, "full/150,100/0/default.jpg") },
	{ V3, "full", "^301,200", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 301, 200, "full/^301,200/0/default.jpg") },
	{ V3, "full", "0,", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", ",0", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", "0,0", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", "10,0", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", "!0,10", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", "^!10,0", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", "pct:0", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", "^pct:0.0", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "non-zero") },
	{ V2, "full", "0,", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V2, "full", "pct:0", "0", "default.jpg", EX_W, EX_H, NOLIM, FAIL(400, "non-zero") },
	{ V3, "full", "1,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 1, 1, "full/1,1/0/default.jpg") },
	{ V3, "full", "pct:0.1", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 1, 1, "full/1,1/0/default.jpg") },
	{ V3, "full", "10,", "0", "default.jpg", 1000, 1, NOLIM,
	  OK(0, 0, 1000, 1, 10, 1, "full/10,1/0/default.jpg") },
	{ V2, "full", "10,", "0", "default.jpg", 1000, 1, NOLIM,
	  OK(0, 0, 1000, 1, 10, 1, "full/10,/0/default.jpg") },
	{ V3, "full", "!10,10", "0", "default.jpg", 1, 1000, NOLIM,
	  OK(0, 0, 1, 1000, 1, 10, "full/1,10/0/default.jpg") },
	/* rounding: 300 x 200 at 101 wide is 67.33 high, at 103 wide 68.67 */
	{ V3, "full", "101,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 101, 67, "full/101,67/0/default.jpg") },
	{ V3, "full", "103,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 103, 69, "full/103,69/0/default.jpg") },
	{ V3, "full", "pct:33.3", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  OK(0, 0, 300, 200, 100, 67, "full/100,67/0/default.jpg") },

	/* limits: maxHeight defaults to maxWidth; max shrinks, ^max grows, explicit sizes fail */
	{ V3, "full", "max", "0", "default.jpg", 200, 300, { 250, 0, 0, 0 },
	  OK(0, 0, 200, 300, 167, 250, "full/max/0/default.jpg") },
	{ V3, "full", ",260", "0", "default.jpg", 200, 300, { 250, 0, 0, 0 },
	  FAIL(400, "requested size 173x260 exceeds maxHeight 250") },
	{ V3, "full", ",250", "0", "default.jpg", 200, 300, { 250, 0, 0, 0 },
	  OK(0, 0, 200, 300, 167, 250, "full/max/0/default.jpg") },
	{ V3, "full", "max", "0", "default.jpg", EX_W, EX_H, { 0, 0, 15000, 0 },
	  OK(0, 0, 300, 200, 150, 100, "full/max/0/default.jpg") },
	{ V3, "full", "^max", "0", "default.jpg", EX_W, EX_H, { 0, 0, 240000, 0 },
	  OK(0, 0, 300, 200, 600, 400, "full/^max/0/default.jpg") },
	{ V3, "full", "^600,400", "0", "default.jpg", EX_W, EX_H, { 0, 0, 240000, 0 },
	  OK(0, 0, 300, 200, 600, 400, "full/^max/0/default.jpg") },
	{ V3, "full", "^max", "0", "default.jpg", EX_W, EX_H, { 1000, 250, 0, 0 },
	  OK(0, 0, 300, 200, 375, 250, "full/^max/0/default.jpg") },
	{ V3, "full", "^max", "0", "default.jpg", EX_W, EX_H, { 100, 0, 0, 0 },
	  OK(0, 0, 300, 200, 100, 67, "full/max/0/default.jpg") },
	{ V3, "full", "^!1000,1000", "0", "default.jpg", EX_W, EX_H, { 500, 0, 0, 0 },
	  OK(0, 0, 300, 200, 500, 333, "full/^max/0/default.jpg") },
	{ V3, "full", "^!1000,1000", "0", "default.jpg", EX_W, EX_H, { 0, 0, 30000, 0 },
	  OK(0, 0, 300, 200, 212, 141, "full/max/0/default.jpg") },
	{ V3, "full", "^pct:200", "0", "default.jpg", EX_W, EX_H, { 0, 0, 200000, 0 },
	  FAIL(400, "requested size 600x400 exceeds maxArea 200000") },
	{ V3, "full", "151,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 15000, 0 },
	  FAIL(400, "requested size 151x101 exceeds maxArea 15000") },
	{ V3, "full", "150,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 15000, 0 },
	  OK(0, 0, 300, 200, 150, 100, "full/max/0/default.jpg") },
	/* area limits on very elongated regions still give at least 1px and stay inside */
	{ V3, "full", "max", "0", "default.jpg", 1000000, 1, { 0, 0, 100, 0 },
	  OK(0, 0, 1000000, 1, 100, 1, "full/max/0/default.jpg") },
	{ V3, "full", "max", "0", "default.jpg", 1, 1000000, { 0, 0, 100, 0 },
	  OK(0, 0, 1, 1000000, 1, 100, "full/max/0/default.jpg") },

	/* overflow attempts: every one a clean 400 */
	{ V3, "full", "99999999,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "upscaling requires ^") },
	{ V3, "full", "^99999999,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "exceeds the largest supported side 10000000") },
	{ V2, "full", "99999999,", "0", "default.jpg", EX_W, EX_H, NOLIM,
	  FAIL(400, "requested size 99999999x66666666 exceeds the largest supported side") },
	{ V2, "full", "99999999,", "0", "default.jpg", EX_W, EX_H, { 0, 0, 1000000, 0 },
	  FAIL(400, "exceeds the largest supported side") },
	{ V2, "full", "99999999,99999999", "0", "default.jpg", EX_W, EX_H, { 0, 0, 1000000, 0 },
	  FAIL(400, "exceeds the largest supported side") },
	{ V3, "full", "pct:100000", "0", "default.jpg", 50000, 50000, NOLIM,
	  FAIL(400, "requires ^") },
	{ V3, "full", "^pct:100000", "0", "default.jpg", 50000, 50000, NOLIM,
	  FAIL(400, "exceeds the largest supported side") },
	{ V2, "full", "pct:100000", "0", "default.jpg", 50000, 50000, NOLIM,
	  FAIL(400, "exceeds the largest supported side") },
	{ V2, "full", "pct:1000000000", "0", "default.jpg", 1000000000, 1000000000, NOLIM,
	  FAIL(400, "exceeds the largest supported side") },
	{ V2, "full", "1000000000,", "0", "default.jpg", 1, 1000000000, NOLIM,
	  FAIL(400, "exceeds the largest supported side") },
	{ V2, "full", ",1000000000", "0", "default.jpg", 1000000000, 1, NOLIM,
	  FAIL(400, "exceeds the largest supported side") },
	{ V2, "full", "!1000000000,1000000000", "0", "default.jpg", 1, 1000000000, NOLIM,
	  OK(0, 0, 1, 1000000000, 1, 10000000, "full/1,10000000/0/default.jpg") },
	{ V3, "full", "max", "0", "default.jpg", 1000000000, 1000000000, NOLIM,
	  OK(0, 0, 1000000000, 1000000000, 10000000, 10000000, "full/max/0/default.jpg") },
	{ V3, "full", "^max", "0", "default.jpg", EX_W, EX_H,
	  { INT64_MAX, INT64_MAX, INT64_MAX, 0 },
	  OK(0, 0, 300, 200, 10000000, 6666667, "full/^max/0/default.jpg") },
	{ V3, "full", "max", "0", "default.jpg", 0, 200, NOLIM,
	  FAIL(500, "unsupported image size 0x200") },
	{ V3, "full", "max", "0", "default.jpg", 300, -1, NOLIM,
	  FAIL(500, "unsupported image size") },
	{ V3, "full", "max", "0", "default.jpg", 1000000001, 1, NOLIM,
	  FAIL(500, "unsupported image size") },
};

static void test_pipeline(void)
{
	size_t n = sizeof pipeline_cases / sizeof pipeline_cases[0];

	for (size_t i = 0; i < n; i++) {
		const struct pipeline_case *c = &pipeline_cases[i];
		const char *what = ctx(c->v, c->region, c->size, c->rotation, c->qf);
		struct image_request req;
		struct image_geometry g = { -1, -1, -1, -1, -1, -1 };
		struct iiifd_error err = { 0, "" };
		char canon[256];
		int rc;

		rc = image_request_parse(c->v, c->region, c->size, c->rotation, c->qf, &req, &err);
		if (rc == 0)
			rc = image_request_resolve(&req, c->img_w, c->img_h, &c->lim, &g, &err);
		if (c->status) {
			CHECK_INT(rc, -1, what);
			CHECK_INT(err.http_status, c->status, what);
			CHECK(contains(err.msg, c->want), "%s: message '%s' lacks '%s'", what,
			      err.msg, c->want);
			continue;
		}
		CHECK(rc == 0, "%s: unexpected error %d '%s'", what, err.http_status, err.msg);
		if (rc)
			continue;
		CHECK(g.x == c->x && g.y == c->y && g.w == c->w && g.h == c->h,
		      "%s: region %lld,%lld,%lld,%lld, want %lld,%lld,%lld,%lld", what,
		      (long long)g.x, (long long)g.y, (long long)g.w, (long long)g.h,
		      (long long)c->x, (long long)c->y, (long long)c->w, (long long)c->h);
		CHECK(g.out_w == c->out_w && g.out_h == c->out_h,
		      "%s: size %lldx%lld, want %lldx%lld", what, (long long)g.out_w,
		      (long long)g.out_h, (long long)c->out_w, (long long)c->out_h);
		rc = image_request_canonical(&req, &g, c->img_w, c->img_h, &c->lim, canon,
					     sizeof canon);
		CHECK_INT(rc, strlen(c->want), what);
		CHECK_STR(canon, c->want, what);
	}
}

/* ---- parse errors -------------------------------------------------------------------------- */

struct parse_error_case {
	enum image_api_version v;
	const char *region, *size, *rotation, *qf;
	const char *msg; /* substring the message must contain */
};

static const struct parse_error_case parse_error_cases[] = {
	/* region */
	{ V3, "", "max", "0", "default.jpg", "invalid region ''" },
	{ V3, "ful", "max", "0", "default.jpg", "invalid region 'ful'" },
	{ V3, "FULL", "max", "0", "default.jpg", "invalid region 'FULL'" },
	{ V3, "full ", "max", "0", "default.jpg", "invalid region 'full '" },
	{ V3, " full", "max", "0", "default.jpg", "invalid region ' full'" },
	{ V3, "square2", "max", "0", "default.jpg", "invalid region 'square2'" },
	{ V3, "0,0,10", "max", "0", "default.jpg", "invalid region '0,0,10'" },
	{ V3, "0,0,10,10,", "max", "0", "default.jpg", "invalid region '0,0,10,10,'" },
	{ V3, "0,0,10,10,10", "max", "0", "default.jpg", "invalid region '0,0,10,10,10'" },
	{ V3, ",0,10,10", "max", "0", "default.jpg", "invalid region ',0,10,10'" },
	{ V3, "0,,10,10", "max", "0", "default.jpg", "invalid region '0,,10,10'" },
	{ V3, "-1,0,10,10", "max", "0", "default.jpg", "invalid region '-1,0,10,10'" },
	{ V3, "+1,0,10,10", "max", "0", "default.jpg", "invalid region '+1,0,10,10'" },
	{ V3, "1.5,0,10,10", "max", "0", "default.jpg", "invalid region '1.5,0,10,10'" },
	{ V3, "1e3,0,10,10", "max", "0", "default.jpg", "invalid region '1e3,0,10,10'" },
	{ V3, "0x10,0,10,10", "max", "0", "default.jpg", "invalid region '0x10,0,10,10'" },
	{ V3, "0,0,1 0,10", "max", "0", "default.jpg", "invalid region '0,0,1 0,10'" },
	{ V3, "0,0,10,10 ", "max", "0", "default.jpg", "invalid region '0,0,10,10 '" },
	{ V3, "1000000001,0,10,10", "max", "0", "default.jpg", "number too large" },
	{ V3, "0,0,99999999999999999999999,1", "max", "0", "default.jpg", "number too large" },
	{ V3, "pct:", "max", "0", "default.jpg", "invalid region 'pct:'" },
	{ V3, "pct:1,2,3", "max", "0", "default.jpg", "invalid region 'pct:1,2,3'" },
	{ V3, "pct:1,2,3,4,", "max", "0", "default.jpg", "invalid region 'pct:1,2,3,4,'" },
	{ V3, "pct:-1,0,10,10", "max", "0", "default.jpg", "invalid region 'pct:-1,0,10,10'" },
	{ V3, "pct:+1,0,10,10", "max", "0", "default.jpg", "invalid region 'pct:+1,0,10,10'" },
	{ V3, "pct:5.,0,10,10", "max", "0", "default.jpg", "invalid region 'pct:5.,0,10,10'" },
	{ V3, "pct:1e2,0,10,10", "max", "0", "default.jpg", "invalid region 'pct:1e2,0,10,10'" },
	{ V3, "pct:1.2.3,0,1,1", "max", "0", "default.jpg", "invalid region 'pct:1.2.3,0,1,1'" },
	{ V3, "pct:1,,2,3", "max", "0", "default.jpg", "invalid region 'pct:1,,2,3'" },
	{ V3, "pct:1,2,3,4a", "max", "0", "default.jpg", "invalid region 'pct:1,2,3,4a'" },
	{ V3, "PCT:1,2,3,4", "max", "0", "default.jpg", "invalid region 'PCT:1,2,3,4'" },
	{ V3, "pct: 1,2,3,4", "max", "0", "default.jpg", "invalid region 'pct: 1,2,3,4'" },
	{ V3, "pct:nan,0,1,1", "max", "0", "default.jpg", "invalid region 'pct:nan,0,1,1'" },
	{ V3, "pct:1000000001,0,1,1", "max", "0", "default.jpg", "number too large" },
	{ V2, "1.5,0,10,10", "full", "0", "default.jpg", "invalid region '1.5,0,10,10'" },
	{ V2, "", "full", "0", "default.jpg", "invalid region ''" },

	/* size, v3 */
	{ V3, "full", "", "0", "default.jpg", "invalid size ''" },
	{ V3, "full", "^foo", "0", "default.jpg", "invalid size '^foo'" },
	{ V3, "full", "full", "0", "default.jpg", "invalid size 'full'" },
	{ V3, "full", "^full", "0", "default.jpg", "invalid size '^full'" },
	{ V3, "full", "^", "0", "default.jpg", "invalid size '^'" },
	{ V3, "full", "^^max", "0", "default.jpg", "invalid size '^^max'" },
	{ V3, "full", "max^", "0", "default.jpg", "invalid size 'max^'" },
	{ V3, "full", "Max", "0", "default.jpg", "invalid size 'Max'" },
	{ V3, "full", "!max", "0", "default.jpg", "invalid size '!max'" },
	{ V3, "full", "max ", "0", "default.jpg", "invalid size 'max '" },
	{ V3, "full", "!10,", "0", "default.jpg", "invalid size '!10,'" },
	{ V3, "full", "!,10", "0", "default.jpg", "invalid size '!,10'" },
	{ V3, "full", "!10", "0", "default.jpg", "invalid size '!10'" },
	{ V3, "full", "10", "0", "default.jpg", "invalid size '10'" },
	{ V3, "full", ",", "0", "default.jpg", "invalid size ','" },
	{ V3, "full", "^,", "0", "default.jpg", "invalid size '^,'" },
	{ V3, "full", "10,10,", "0", "default.jpg", "invalid size '10,10,'" },
	{ V3, "full", "10,,10", "0", "default.jpg", "invalid size '10,,10'" },
	{ V3, "full", "-10,", "0", "default.jpg", "invalid size '-10,'" },
	{ V3, "full", "+10,", "0", "default.jpg", "invalid size '+10,'" },
	{ V3, "full", "10.5,", "0", "default.jpg", "invalid size '10.5,'" },
	{ V3, "full", "1e3,", "0", "default.jpg", "invalid size '1e3,'" },
	{ V3, "full", " 10,", "0", "default.jpg", "invalid size ' 10,'" },
	{ V3, "full", "10, 10", "0", "default.jpg", "invalid size '10, 10'" },
	{ V3, "full", "pct:", "0", "default.jpg", "invalid size 'pct:'" },
	{ V3, "full", "pct:-5", "0", "default.jpg", "invalid size 'pct:-5'" },
	{ V3, "full", "pct:+5", "0", "default.jpg", "invalid size 'pct:+5'" },
	{ V3, "full", "pct:1e2", "0", "default.jpg", "invalid size 'pct:1e2'" },
	{ V3, "full", "pct:50%", "0", "default.jpg", "invalid size 'pct:50%'" },
	{ V3, "full", "pct:50,", "0", "default.jpg", "invalid size 'pct:50,'" },
	{ V3, "full", "pct:.", "0", "default.jpg", "invalid size 'pct:.'" },
	{ V3, "full", "pct:5.", "0", "default.jpg", "invalid size 'pct:5.'" },
	{ V3, "full", "pct:inf", "0", "default.jpg", "invalid size 'pct:inf'" },
	{ V3, "full", "!^10,10", "0", "default.jpg", "invalid size '!^10,10'" },
	{ V3, "full", "^!^10,10", "0", "default.jpg", "invalid size '^!^10,10'" },
	{ V3, "full", "!!10,10", "0", "default.jpg", "invalid size '!!10,10'" },
	{ V3, "full", ",^240", "0", "default.jpg", "invalid size ',^240'" },
	{ V3, "full", "1000000001,", "0", "default.jpg", "number too large" },
	{ V3, "full", "^,99999999999999999999", "0", "default.jpg", "number too large" },
	{ V3, "full", "pct:10000000000", "0", "default.jpg", "number too large" },

	/* size, v2: no "^" at all */
	{ V2, "full", "^max", "0", "default.jpg", "invalid size '^max'" },
	{ V2, "full", "^10,", "0", "default.jpg", "invalid size '^10,'" },
	{ V2, "full", "^pct:50", "0", "default.jpg", "invalid size '^pct:50'" },
	{ V2, "full", "^!10,10", "0", "default.jpg", "invalid size '^!10,10'" },
	{ V2, "full", "^full", "0", "default.jpg", "invalid size '^full'" },
	{ V2, "full", "", "0", "default.jpg", "invalid size ''" },
	{ V2, "full", "Full", "0", "default.jpg", "invalid size 'Full'" },
	{ V2, "full", "!10,", "0", "default.jpg", "invalid size '!10,'" },
	{ V2, "full", "pct:-1", "0", "default.jpg", "invalid size 'pct:-1'" },

	/* rotation */
	{ V3, "full", "max", "", "default.jpg", "invalid rotation ''" },
	{ V3, "full", "max", "-90", "default.jpg", "invalid rotation '-90'" },
	{ V3, "full", "max", "+90", "default.jpg", "invalid rotation '+90'" },
	{ V3, "full", "max", "361", "default.jpg", "invalid rotation '361'" },
	{ V3, "full", "max", "360.5", "default.jpg", "must be between 0 and 360" },
	{ V3, "full", "max", "360.0000001", "default.jpg", "invalid rotation '360.0000001'" },
	{ V3, "full", "max", "!361", "default.jpg", "invalid rotation '!361'" },
	{ V3, "full", "max", "1e2", "default.jpg", "invalid rotation '1e2'" },
	{ V3, "full", "max", "90.", "default.jpg", "invalid rotation '90.'" },
	{ V3, "full", "max", ".", "default.jpg", "invalid rotation '.'" },
	{ V3, "full", "max", "..5", "default.jpg", "invalid rotation '..5'" },
	{ V3, "full", "max", "!", "default.jpg", "invalid rotation '!'" },
	{ V3, "full", "max", "!!90", "default.jpg", "invalid rotation '!!90'" },
	{ V3, "full", "max", "90!", "default.jpg", "invalid rotation '90!'" },
	{ V3, "full", "max", " 90", "default.jpg", "invalid rotation ' 90'" },
	{ V3, "full", "max", "90 ", "default.jpg", "invalid rotation '90 '" },
	{ V3, "full", "max", "abc", "default.jpg", "invalid rotation 'abc'" },
	{ V3, "full", "max", "!-1", "default.jpg", "invalid rotation '!-1'" },
	{ V3, "full", "max", "0x10", "default.jpg", "invalid rotation '0x10'" },
	{ V3, "full", "max", "nan", "default.jpg", "invalid rotation 'nan'" },
	{ V3, "full", "max", "inf", "default.jpg", "invalid rotation 'inf'" },
	{ V3, "full", "max", "90,0", "default.jpg", "invalid rotation '90,0'" },
	{ V3, "full", "max", "1000000001", "default.jpg", "number too large" },
	{ V2, "full", "full", "-1", "default.jpg", "invalid rotation '-1'" },
	{ V2, "full", "full", "400", "default.jpg", "invalid rotation '400'" },

	/* quality and format */
	{ V3, "full", "max", "0", "", "invalid quality.format ''" },
	{ V3, "full", "max", "0", "default", "invalid quality.format 'default'" },
	{ V3, "full", "max", "0", "default.", "invalid format ''" },
	{ V3, "full", "max", "0", ".jpg", "invalid quality ''" },
	{ V3, "full", "max", "0", "default.JPG", "invalid format 'JPG'" },
	{ V3, "full", "max", "0", "Default.jpg", "invalid quality 'Default'" },
	{ V3, "full", "max", "0", "native.jpg", "invalid quality 'native'" },
	{ V3, "full", "max", "0", "grey.jpg", "invalid quality 'grey'" },
	{ V3, "full", "max", "0", "default.jpeg", "invalid format 'jpeg'" },
	{ V3, "full", "max", "0", "default.tiff", "invalid format 'tiff'" },
	{ V3, "full", "max", "0", "default.jpg.png", "invalid format 'jpg.png'" },
	{ V3, "full", "max", "0", "default .jpg", "invalid quality 'default '" },
	{ V3, "full", "max", "0", "default.jpg ", "invalid format 'jpg '" },
	{ V3, "full", "max", "0", "color.svg", "invalid format 'svg'" },
	{ V2, "full", "full", "0", "native.jpg", "invalid quality 'native'" },
	{ V2, "full", "full", "0", "default.bmp", "invalid format 'bmp'" },
};

static void test_parse_errors(void)
{
	size_t n = sizeof parse_error_cases / sizeof parse_error_cases[0];

	for (size_t i = 0; i < n; i++) {
		const struct parse_error_case *c = &parse_error_cases[i];
		const char *what = ctx(c->v, c->region, c->size, c->rotation, c->qf);
		struct image_request req = { .rotation = -7 };
		struct iiifd_error err = { 0, "" };
		int rc = image_request_parse(c->v, c->region, c->size, c->rotation, c->qf, &req,
					     &err);

		CHECK_INT(rc, -1, what);
		CHECK_INT(err.http_status, 400, what);
		CHECK(contains(err.msg, c->msg), "%s: message '%s' lacks '%s'", what, err.msg,
		      c->msg);
		CHECK(req.rotation == -7, "%s: output written on failure", what);
	}
}

static void test_parse_misc(void)
{
	struct image_request req;
	struct iiifd_error err = { 0, "" };

	CHECK_INT(image_request_parse(V3, NULL, "max", "0", "default.jpg", &req, &err), -1,
		  "NULL region");
	CHECK_INT(err.http_status, 400, "NULL region status");
	err.http_status = 0;
	CHECK_INT(image_request_parse(V3, "full", "max", "0", NULL, &req, &err), -1, "NULL qf");
	CHECK_INT(err.http_status, 400, "NULL qf status");
	err.http_status = 0;
	CHECK_INT(image_request_parse((enum image_api_version)4, "full", "max", "0",
				      "default.jpg", &req, &err),
		  -1, "version 4");
	CHECK_INT(err.http_status, 400, "version 4 status");
	CHECK_INT(image_request_parse(V3, "x", "max", "0", "default.jpg", &req, NULL), -1,
		  "NULL err is allowed");
}

/* ---- parsed fields ------------------------------------------------------------------------- */

struct parse_field_case {
	enum image_api_version v;
	const char *region, *size, *rotation, *qf;
	enum image_region_kind rkind;
	double r[4];
	enum image_size_kind skind;
	bool upscale;
	double sw, sh;
	bool mirror;
	double rot;
	enum image_quality q;
	enum image_format f;
};

static const struct parse_field_case parse_field_cases[] = {
	{ V3, "full", "max", "0", "default.jpg", IMAGE_REGION_FULL, { 0 }, IMAGE_SIZE_MAX, false,
	  0, 0, false, 0, IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_JPG },
	{ V3, "square", "^max", "!22.5", "color.png", IMAGE_REGION_SQUARE, { 0 }, IMAGE_SIZE_MAX,
	  true, 0, 0, true, 22.5, IMAGE_QUALITY_COLOR, IMAGE_FORMAT_PNG },
	{ V3, "125,15,120,140", "90,", "!345", "gray.jpg", IMAGE_REGION_PIXELS,
	  { 125, 15, 120, 140 }, IMAGE_SIZE_WIDTH, false, 90, 0, true, 345, IMAGE_QUALITY_GRAY,
	  IMAGE_FORMAT_JPG },
	{ V3, "pct:41.6,7.5,66.6,100", "^,240", "0.5", "bitonal.tif", IMAGE_REGION_PERCENT,
	  { 41.6, 7.5, 66.6, 100 }, IMAGE_SIZE_HEIGHT, true, 0, 240, false, 0.5,
	  IMAGE_QUALITY_BITONAL, IMAGE_FORMAT_TIF },
	{ V3, "0,0,1,1", "pct:12.5", "360", "default.gif", IMAGE_REGION_PIXELS, { 0, 0, 1, 1 },
	  IMAGE_SIZE_PERCENT, false, 12.5, 0, false, 360, IMAGE_QUALITY_DEFAULT,
	  IMAGE_FORMAT_GIF },
	{ V3, "007,0,1000000000,1", "^pct:120", "360.0", "default.jp2", IMAGE_REGION_PIXELS,
	  { 7, 0, 1000000000, 1 }, IMAGE_SIZE_PERCENT, true, 120, 0, false, 360,
	  IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_JP2 },
	{ V3, "full", "225,100", "22.50", "default.pdf", IMAGE_REGION_FULL, { 0 },
	  IMAGE_SIZE_EXACT, false, 225, 100, false, 22.5, IMAGE_QUALITY_DEFAULT,
	  IMAGE_FORMAT_PDF },
	{ V3, "full", "^360,360", "0", "default.webp", IMAGE_REGION_FULL, { 0 },
	  IMAGE_SIZE_EXACT, true, 360, 360, false, 0, IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_WEBP },
	{ V3, "full", "!225,100", "0", "default.jpg", IMAGE_REGION_FULL, { 0 },
	  IMAGE_SIZE_CONFINED, false, 225, 100, false, 0, IMAGE_QUALITY_DEFAULT,
	  IMAGE_FORMAT_JPG },
	{ V3, "full", "^!360,360", "0", "default.jpg", IMAGE_REGION_FULL, { 0 },
	  IMAGE_SIZE_CONFINED, true, 360, 360, false, 0, IMAGE_QUALITY_DEFAULT,
	  IMAGE_FORMAT_JPG },
	{ V3, "pct:0.0000000001,0,100,100", "max", "0.0000000001", "default.jpg",
	  IMAGE_REGION_PERCENT, { 1e-10, 0, 100, 100 }, IMAGE_SIZE_MAX, false, 0, 0, false,
	  1e-10, IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_JPG },
	/* n is a floating point number: ".5" is 0.5 (IIIF validator) */
	{ V3, "pct:.5,0,50,50", "pct:.5", ".5", "default.jpg", IMAGE_REGION_PERCENT,
	  { 0.5, 0, 50, 50 }, IMAGE_SIZE_PERCENT, false, 0.5, 0, false, 0.5,
	  IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_JPG },
	{ V2, "full", "pct:.5", "!.5", "default.jpg", IMAGE_REGION_FULL, { 0 },
	  IMAGE_SIZE_PERCENT, true, 0.5, 0, true, 0.5, IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_JPG },
	/* v2: "full" and "max" both mean the maximum, and upscaling is always allowed */
	{ V2, "full", "full", "0", "default.jpg", IMAGE_REGION_FULL, { 0 }, IMAGE_SIZE_MAX, true,
	  0, 0, false, 0, IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_JPG },
	{ V2, "square", "max", "90", "gray.png", IMAGE_REGION_SQUARE, { 0 }, IMAGE_SIZE_MAX,
	  true, 0, 0, false, 90, IMAGE_QUALITY_GRAY, IMAGE_FORMAT_PNG },
	{ V2, "pct:10,20,30,40", "pct:12.5", "!0", "color.jpg", IMAGE_REGION_PERCENT,
	  { 10, 20, 30, 40 }, IMAGE_SIZE_PERCENT, true, 12.5, 0, true, 0, IMAGE_QUALITY_COLOR,
	  IMAGE_FORMAT_JPG },
	{ V2, "full", ",150", "0", "default.jpg", IMAGE_REGION_FULL, { 0 }, IMAGE_SIZE_HEIGHT,
	  true, 0, 150, false, 0, IMAGE_QUALITY_DEFAULT, IMAGE_FORMAT_JPG },
	{ V2, "full", "!225,100", "0", "default.jpg", IMAGE_REGION_FULL, { 0 },
	  IMAGE_SIZE_CONFINED, true, 225, 100, false, 0, IMAGE_QUALITY_DEFAULT,
	  IMAGE_FORMAT_JPG },
};

static void test_parse_fields(void)
{
	size_t n = sizeof parse_field_cases / sizeof parse_field_cases[0];

	for (size_t i = 0; i < n; i++) {
		const struct parse_field_case *c = &parse_field_cases[i];
		const char *what = ctx(c->v, c->region, c->size, c->rotation, c->qf);
		struct image_request req;
		struct iiifd_error err = { 0, "" };
		int rc = image_request_parse(c->v, c->region, c->size, c->rotation, c->qf, &req,
					     &err);

		CHECK(rc == 0, "%s: unexpected error '%s'", what, err.msg);
		if (rc)
			continue;
		CHECK_INT(req.version, c->v, what);
		CHECK_INT(req.region_kind, c->rkind, what);
		if (c->rkind == IMAGE_REGION_PIXELS || c->rkind == IMAGE_REGION_PERCENT) {
			for (int k = 0; k < 4; k++)
				CHECK(req.region[k] == c->r[k], "%s: region[%d] %.17g, want %.17g",
				      what, k, req.region[k], c->r[k]);
		}
		CHECK_INT(req.size_kind, c->skind, what);
		CHECK_INT(req.upscale, c->upscale, what);
		CHECK(req.size_w == c->sw, "%s: size_w %.17g, want %.17g", what, req.size_w, c->sw);
		if (c->skind != IMAGE_SIZE_PERCENT && c->skind != IMAGE_SIZE_MAX)
			CHECK(req.size_h == c->sh, "%s: size_h %g, want %g", what, req.size_h,
			      c->sh);
		CHECK_INT(req.mirror, c->mirror, what);
		CHECK(req.rotation == c->rot, "%s: rotation %.17g, want %.17g", what, req.rotation,
		      c->rot);
		CHECK_INT(req.quality, c->q, what);
		CHECK_INT(req.format, c->f, what);
	}
}

/* Every quality with every format parses, and names map back. */
static void test_quality_format_grid(void)
{
	static const char *const qualities[] = { "default", "color", "gray", "bitonal" };
	static const char *const formats[] = { "jpg", "tif", "png", "gif", "jp2", "pdf", "webp" };

	for (int q = 0; q < 4; q++) {
		for (int f = 0; f < 7; f++) {
			char qf[32];
			struct image_request req;
			struct iiifd_error err = { 0, "" };
			int rc;

			snprintf(qf, sizeof qf, "%s.%s", qualities[q], formats[f]);
			for (int v = 2; v <= 3; v++) {
				rc = image_request_parse((enum image_api_version)v, "full", "max",
							 "0", qf, &req, &err);
				CHECK(rc == 0, "%s: unexpected error '%s'", qf, err.msg);
				if (rc)
					continue;
				CHECK_STR(image_quality_name(req.quality), qualities[q], qf);
				CHECK_STR(image_format_name(req.format), formats[f], qf);
			}
		}
	}
}

/* ---- names --------------------------------------------------------------------------------- */

static void test_names(void)
{
	static const struct {
		const char *name, *mime;
		int format;
	} table[] = {
		{ "jpg", "image/jpeg", IMAGE_FORMAT_JPG },
		{ "tif", "image/tiff", IMAGE_FORMAT_TIF },
		{ "png", "image/png", IMAGE_FORMAT_PNG },
		{ "gif", "image/gif", IMAGE_FORMAT_GIF },
		{ "jp2", "image/jp2", IMAGE_FORMAT_JP2 },
		{ "pdf", "application/pdf", IMAGE_FORMAT_PDF },
		{ "webp", "image/webp", IMAGE_FORMAT_WEBP },
	};
	static const char *const unknown[] = { "", "jpeg", "JPG", "tiff", "jpg ", "svg", "j" };

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		CHECK_INT(image_format_from_name(table[i].name), table[i].format, table[i].name);
		CHECK_STR(image_format_name((enum image_format)table[i].format), table[i].name,
			  table[i].name);
		CHECK_STR(image_format_mime((enum image_format)table[i].format), table[i].mime,
			  table[i].name);
	}
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		CHECK_INT(image_format_from_name(unknown[i]), -1, unknown[i]);
	CHECK_INT(image_format_from_name(NULL), -1, "NULL format name");
	CHECK_STR(image_quality_name(IMAGE_QUALITY_DEFAULT), "default", "default");
	CHECK_STR(image_quality_name(IMAGE_QUALITY_COLOR), "color", "color");
	CHECK_STR(image_quality_name(IMAGE_QUALITY_GRAY), "gray", "gray");
	CHECK_STR(image_quality_name(IMAGE_QUALITY_BITONAL), "bitonal", "bitonal");
	CHECK_STR(image_format_name(IMAGE_FORMAT_COUNT), "unknown", "format out of range");
	CHECK_STR(image_format_mime(IMAGE_FORMAT_COUNT), "application/octet-stream",
		  "mime out of range");
	CHECK_STR(image_quality_name((enum image_quality)9), "unknown", "quality out of range");
}

/* ---- canonical rotation and truncation ----------------------------------------------------- */

static void test_canonical_rotation(void)
{
	static const struct {
		const char *in, *want;
	} table[] = {
		{ "0", "0" },		{ "90", "90" },		{ "90.0", "90" },
		{ "22.5", "22.5" },	{ "22.50", "22.5" },	{ "007.50", "7.5" },
		{ "0.5", "0.5" },	{ "0.1", "0.1" },	{ "1.25", "1.25" },
		{ ".5", "0.5" },	{ "!.25", "!0.25" },
		{ "!0", "!0" },		{ "!0.0", "!0" },	{ "!345", "!345" },
		{ "360", "360" },	{ "360.000", "360" },
		{ "359.9999999999", "359.9999999999" },
		{ "0.0000000001", "0.0000000001" },		{ "!12.3456789", "!12.3456789" },
		{ "0.00000000001", "0" },			{ "359.99999999999", "360" },
	};

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		struct image_request req;
		struct image_geometry g;
		struct iiifd_error err = { 0, "" };
		char buf[128], want[128];
		int rc = image_request_parse(V3, "full", "max", table[i].in, "default.jpg", &req,
					     &err);

		CHECK(rc == 0, "%s: unexpected error '%s'", table[i].in, err.msg);
		if (rc)
			continue;
		rc = image_request_resolve(&req, 10, 10, NULL, &g, &err);
		CHECK(rc == 0, "%s: unexpected error '%s'", table[i].in, err.msg);
		if (rc)
			continue;
		image_request_canonical(&req, &g, 10, 10, NULL, buf, sizeof buf);
		snprintf(want, sizeof want, "full/max/%s/default.jpg", table[i].want);
		CHECK_STR(buf, want, table[i].in);
	}
}

static void test_canonical_truncation(void)
{
	struct image_request req;
	struct image_geometry g;
	struct iiifd_error err = { 0, "" };
	const char *full = "125,15,120,140/90,105/!345/gray.jpg";
	char buf[64];
	int rc;

	rc = image_request_parse(V3, "125,15,120,140", "90,", "!345", "gray.jpg", &req, &err);
	CHECK_INT(rc, 0, "truncation parse");
	rc = image_request_resolve(&req, EX_W, EX_H, NULL, &g, &err);
	CHECK_INT(rc, 0, "truncation resolve");
	memset(buf, 'x', sizeof buf);
	CHECK_INT(image_request_canonical(&req, &g, EX_W, EX_H, NULL, buf, 10), strlen(full),
		  "truncated length");
	CHECK_STR(buf, "125,15,12", "truncated text");
	CHECK(buf[10] == 'x', "wrote past n");
	CHECK_INT(image_request_canonical(&req, &g, EX_W, EX_H, NULL, NULL, 0), strlen(full),
		  "length with n = 0");
	CHECK_INT(image_request_canonical(&req, &g, EX_W, EX_H, NULL, buf, strlen(full)),
		  strlen(full), "length with n = len");
	CHECK(strlen(buf) == strlen(full) - 1, "n = len keeps room for NUL: '%s'", buf);
	CHECK_INT(image_request_canonical(&req, &g, EX_W, EX_H, NULL, buf, sizeof buf),
		  strlen(full), "full length");
	CHECK_STR(buf, full, "full text");
}

/* ---- property loop ------------------------------------------------------------------------- */

static uint64_t prop_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64: deterministic, so failures reproduce */
static int64_t prop_rand(int64_t lo, int64_t hi)
{
	prop_state ^= prop_state << 13;
	prop_state ^= prop_state >> 7;
	prop_state ^= prop_state << 17;
	return lo + (int64_t)(prop_state % (uint64_t)(hi - lo + 1));
}

/* Values are drawn into locals first: argument evaluation order differs between compilers. */
static void prop_region(char *buf, size_t n, int64_t w, int64_t h)
{
	long long kind = prop_rand(0, 4);
	long long x = prop_rand(0, w - 1), y = prop_rand(0, h - 1);
	long long rw = prop_rand(1, w + 5), rh = prop_rand(1, h + 5);
	long long px = prop_rand(0, 98), pf = prop_rand(0, 9), py = prop_rand(0, 99);
	long long pw = prop_rand(0, 120), ph = prop_rand(1, 120);

	if (kind == 0)
		snprintf(buf, n, "full");
	else if (kind == 1)
		snprintf(buf, n, "square");
	else if (kind <= 3)
		snprintf(buf, n, "%lld,%lld,%lld,%lld", x, y, rw, rh);
	else
		snprintf(buf, n, "pct:%lld.%lld,%lld,%lld.5,%lld", px, pf, py, pw, ph);
}

/* Returns the size kind chosen so the checks know what to expect. */
static enum image_size_kind prop_size(char *buf, size_t n, enum image_api_version v,
				      int64_t rw, int64_t rh)
{
	const char *up = v == V3 && prop_rand(0, 1) ? "^" : "";
	int64_t a = prop_rand(1, 2 * (rw > rh ? rw : rh) + 3);
	int64_t b = prop_rand(1, 2 * (rw > rh ? rw : rh) + 3);
	long long pct = prop_rand(0, 250), frac = prop_rand(1, 9);

	switch (prop_rand(0, 5)) {
	case 0:
		snprintf(buf, n, "%smax", up);
		return IMAGE_SIZE_MAX;
	case 1:
		snprintf(buf, n, "%s%lld,", up, (long long)a);
		return IMAGE_SIZE_WIDTH;
	case 2:
		snprintf(buf, n, "%s,%lld", up, (long long)b);
		return IMAGE_SIZE_HEIGHT;
	case 3:
		snprintf(buf, n, "%spct:%lld.%lld", up, pct, frac);
		return IMAGE_SIZE_PERCENT;
	case 4:
		snprintf(buf, n, "%s!%lld,%lld", up, (long long)a, (long long)b);
		return IMAGE_SIZE_CONFINED;
	default:
		snprintf(buf, n, "%s%lld,%lld", up, (long long)a, (long long)b);
		return IMAGE_SIZE_EXACT;
	}
}

/* The shorter output side is within 1px of what the region's aspect ratio gives it. */
static bool prop_aspect_ok(const struct image_geometry *g)
{
	double rw = (double)g->w, rh = (double)g->h;

	if (g->out_w == 1 || g->out_h == 1)
		return true;
	if (rw >= rh)
		return fabs((double)g->out_h - rh * (double)g->out_w / rw) <= 1.0;
	return fabs((double)g->out_w - rw * (double)g->out_h / rh) <= 1.0;
}

struct prop_stats {
	int ok, failed;
};

static void prop_check_canonical(const struct image_request *req, const struct image_geometry *g,
				  int64_t iw, int64_t ih, const struct image_limits *lim,
				  const char *what)
{
	char canon[256], *parts[4];
	struct image_request req2;
	struct image_geometry g2;
	struct iiifd_error err = { 0, "" };
	int rc;

	image_request_canonical(req, g, iw, ih, lim, canon, sizeof canon);
	CHECK(split4(canon, parts), "%s: canonical has not four parts", what);
	rc = image_request_parse(req->version, parts[0], parts[1], parts[2], parts[3], &req2, &err);
	if (rc == 0)
		rc = image_request_resolve(&req2, iw, ih, lim, &g2, &err);
	CHECK(rc == 0, "%s: canonical fails: %s", what, err.msg);
	if (rc)
		return;
	CHECK(memcmp(g, &g2, sizeof g2) == 0,
	      "%s: canonical %s/%s gives %lld,%lld,%lld,%lld %lldx%lld, not %lldx%lld", what,
	      parts[0], parts[1], (long long)g2.x, (long long)g2.y, (long long)g2.w,
	      (long long)g2.h, (long long)g2.out_w, (long long)g2.out_h, (long long)g->out_w,
	      (long long)g->out_h);
}

static void prop_check_ok(const struct image_request *req, enum image_size_kind kind,
			  const struct image_geometry *g, int64_t iw, int64_t ih,
			  const struct image_limits *lim, const char *what)
{
	int64_t mh = lim->max_height ? lim->max_height : lim->max_width;

	CHECK(g->x >= 0 && g->y >= 0 && g->w >= 1 && g->h >= 1 && g->x + g->w <= iw &&
		      g->y + g->h <= ih,
	      "%s: region %lld,%lld,%lld,%lld outside %lldx%lld", what, (long long)g->x,
	      (long long)g->y, (long long)g->w, (long long)g->h, (long long)iw, (long long)ih);
	CHECK(g->out_w >= 1 && g->out_h >= 1, "%s: zero-sized output", what);
	CHECK((!lim->max_width || g->out_w <= lim->max_width) && (!mh || g->out_h <= mh) &&
		      (!lim->max_area || g->out_w * g->out_h <= lim->max_area),
	      "%s: %lldx%lld breaks limits", what, (long long)g->out_w, (long long)g->out_h);
	if (req->version == V3 && !req->upscale)
		CHECK(g->out_w <= g->w && g->out_h <= g->h, "%s: upscaled without ^", what);
	if (kind != IMAGE_SIZE_EXACT)
		CHECK(prop_aspect_ok(g), "%s: %lldx%lld from %lldx%lld loses the aspect ratio",
		      what, (long long)g->out_w, (long long)g->out_h, (long long)g->w,
		      (long long)g->h);
	if (kind == IMAGE_SIZE_WIDTH)
		CHECK_INT(g->out_w, req->size_w, what);
	if (kind == IMAGE_SIZE_HEIGHT)
		CHECK_INT(g->out_h, req->size_h, what);
	if (kind == IMAGE_SIZE_CONFINED)
		CHECK(g->out_w <= req->size_w && g->out_h <= req->size_h,
		      "%s: %lldx%lld not confined", what, (long long)g->out_w, (long long)g->out_h);
	if (kind == IMAGE_SIZE_PERCENT)
		CHECK(fabs(g->out_w - g->w * req->size_w / 100) <= 1 ||
			      (g->out_w == 1 && g->w * req->size_w / 100 < 1),
		      "%s: pct width %lld from %lld", what, (long long)g->out_w, (long long)g->w);
	prop_check_canonical(req, g, iw, ih, lim, what);
}

static void prop_one(enum image_api_version v, int64_t iw, int64_t ih,
		     const struct image_limits *lim, struct prop_stats *st)
{
	char region[96], size[64], what[256];
	struct image_request req;
	struct image_geometry g;
	struct iiifd_error err = { 0, "" };
	enum image_size_kind kind;
	int rc;

	prop_region(region, sizeof region, iw, ih);
	kind = prop_size(size, sizeof size, v, iw, ih);
	snprintf(what, sizeof what, "v%d %lldx%lld lim %lld/%lld/%lld %s/%s", (int)v,
		 (long long)iw, (long long)ih, (long long)lim->max_width,
		 (long long)lim->max_height, (long long)lim->max_area, region, size);
	rc = image_request_parse(v, region, size, "0", "default.jpg", &req, &err);
	CHECK(rc == 0, "%s: generated request does not parse: %s", what, err.msg);
	if (rc)
		return;
	rc = image_request_resolve(&req, iw, ih, lim, &g, &err);
	if (rc) {
		/* the generator never makes zero sizes or far-outside regions, so only these */
		CHECK(err.http_status == 400 &&
			      (contains(err.msg, "requires ^") || contains(err.msg, "exceeds") ||
			       contains(err.msg, "outside")),
		      "%s: unexpected failure %d '%s'", what, err.http_status, err.msg);
		st->failed++;
		return;
	}
	st->ok++;
	/* these never fail: they shrink to whatever the limits allow */
	prop_check_ok(&req, kind, &g, iw, ih, lim, what);
}

static void test_properties(void)
{
	static const int64_t sizes[][2] = {
		{ 1, 1 },     { 1, 1000 },  { 1000, 1 },   { 300, 200 }, { 200, 300 },
		{ 7, 13 },    { 6000, 4000 }, { 999999, 3 }, { 4096, 4096 }, { 12345, 678 },
	};
	static const struct image_limits limits[] = {
		{ 0, 0, 0, 0 },	{ 200, 0, 0, 0 },	   { 0, 0, 15000, 0 }, { 3000, 2000, 4000000, 0 },
		{ 500, 100, 0, 0 }, { 64, 64, 1000, 0 }, { 0, 0, 1, 0 },	    { 5000, 0, 250000, 0 },
	};
	struct prop_stats st = { 0, 0 };

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
			for (int i = 0; i < 150; i++) {
				prop_one(V3, sizes[s][0], sizes[s][1], &limits[l], &st);
				prop_one(V2, sizes[s][0], sizes[s][1], &limits[l], &st);
			}
		}
	}
	/* the loop must exercise both outcomes, or it proves little */
	CHECK(st.ok > 10000, "only %d resolved requests", st.ok);
	CHECK(st.failed > 1000, "only %d rejected requests", st.failed);
}

/* "max" and "!w,h" never fail on limits: they shrink to them. */
static void test_max_never_fails(void)
{
	static const struct image_limits limits[] = {
		{ 0, 0, 0, 0 }, { 1, 0, 0, 0 }, { 0, 0, 1, 0 }, { 7, 3, 11, 0 }, { 100000, 0, 0, 0 },
	};

	static const char *const sizes[] = { "max", "^max", "!5,9", "^!50,50" };

	for (int64_t w = 1; w <= 40; w += 3) {
		for (int64_t h = 1; h <= 40; h += 4) {
			for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
				for (int k = 0; k < 4; k++) {
					struct image_request req;
					struct image_geometry g;
					struct iiifd_error err = { 0, "" };
					char what[96];
					int rc;

					snprintf(what, sizeof what, "%lldx%lld lim %zu %s",
						 (long long)w, (long long)h, l, sizes[k]);
					rc = image_request_parse(V3, "full", sizes[k], "0",
								 "default.jpg", &req, &err);
					if (rc == 0)
						rc = image_request_resolve(&req, w, h, &limits[l],
									   &g, &err);
					CHECK(rc == 0, "%s: failed: %s", what, err.msg);
					if (rc == 0)
						prop_check_ok(&req, req.size_kind, &g, w, h,
							      &limits[l], what);
				}
			}
		}
	}
}

/* The size after rotation, which the encoder limits are checked against before decoding. */
static void test_output_size_and_encoder_limits(void)
{
	static const struct {
		const char *rotation;
		int64_t w, h; /* of a 1000x500 output; libvips gives 1061x1061, 1116x933, 1009x517 */
	} rot[] = {
		{ "0", 1000, 500 },   { "90", 500, 1000 },	{ "180", 1000, 500 },
		{ "!270", 500, 1000 }, { "360", 1000, 500 }, { "45", 1061, 1061 },
		{ "30", 1117, 934 },  { "1", 1009, 518 },
	};
	for (size_t i = 0; i < sizeof rot / sizeof rot[0]; i++) {
		struct image_request req;
		struct image_geometry g;
		struct iiifd_error err = { 0, "" };
		int64_t w = 0, h = 0;
		int rc = image_request_parse(V3, "full", "max", rot[i].rotation, "default.jpg", &req,
					     &err);
		if (rc == 0)
			rc = image_request_resolve(&req, 1000, 500, NULL, &g, &err);
		CHECK(rc == 0, "%s: %s", rot[i].rotation, err.msg);
		image_request_output_size(&req, &g, &w, &h);
		CHECK(w == rot[i].w && h == rot[i].h, "%s: got %lldx%lld, want %lldx%lld",
		      rot[i].rotation, (long long)w, (long long)h, (long long)rot[i].w,
		      (long long)rot[i].h);
	}
	static const struct {
		enum image_format f;
		int64_t max; /* 0: no limit below the request's own */
		const char *name;
	} enc[] = {
		{ IMAGE_FORMAT_JPG, 65500, "jpg" },   { IMAGE_FORMAT_GIF, 65535, "gif" },
		{ IMAGE_FORMAT_WEBP, 16383, "webp" }, { IMAGE_FORMAT_PDF, 14400, "pdf" },
		{ IMAGE_FORMAT_PNG, 0, "png" },       { IMAGE_FORMAT_TIF, 0, "tif" },
		{ IMAGE_FORMAT_JP2, 0, "jp2" },
	};
	for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
		struct iiifd_error err = { 0, "" };
		int64_t max = enc[i].max ? enc[i].max : 10000000;
		CHECK(image_format_check_size(enc[i].f, max, 1, &err) == 0, "%s at %lld: %s",
		      enc[i].name, (long long)max, err.msg);
		CHECK(image_format_check_size(enc[i].f, 1, max, &err) == 0, "%s", enc[i].name);
		if (!enc[i].max)
			continue;
		char limit[32];
		snprintf(limit, sizeof limit, "%lld", (long long)enc[i].max);
		CHECK(image_format_check_size(enc[i].f, 1, max + 1, &err) < 0 &&
			      err.http_status == 400 && strstr(err.msg, enc[i].name) &&
			      strstr(err.msg, limit),
		      "%s over its limit: %d %s", enc[i].name, err.http_status, err.msg);
	}
}

int main(void)
{
	UNIT_RUN(test_pipeline);
	UNIT_RUN(test_parse_errors);
	UNIT_RUN(test_parse_misc);
	UNIT_RUN(test_parse_fields);
	UNIT_RUN(test_quality_format_grid);
	UNIT_RUN(test_names);
	UNIT_RUN(test_canonical_rotation);
	UNIT_RUN(test_canonical_truncation);
	UNIT_RUN(test_properties);
	UNIT_RUN(test_max_never_fails);
	UNIT_RUN(test_output_size_and_encoder_limits);
	return unit_report("request");
}
