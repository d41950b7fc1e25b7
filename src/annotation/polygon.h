/*
 * polygon.h: region outlines as records keep them (struct anno_record.polygon): rings separated
 * by ';', each "x,y x,y x,y ..." in Canvas pixels, at least three points a ring. Built by the
 * importers (PAGE XML, COCO, Label Studio, YOLO), served as SVG (SvgSelector), read back by the
 * dataset exporter. Pure functions.
 */
#ifndef IIIFD_ANNOTATION_POLYGON_H
#define IIIFD_ANNOTATION_POLYGON_H

#include <stdbool.h>
#include <stddef.h>

#include "annotation/import.h"

/* Far above any real outline; keeps hostile input bounded. */
#define POLYGON_MAX_POINTS 100000

/* An outline being built; release with polygon_builder_release(). */
struct polygon_builder {
	struct import_buf text; /* the outline so far (text.data NULL until the first point) */
	size_t points;      /* in all rings */
	size_t ring_points; /* in the ring being built */
	size_t ring_start;  /* offset of the ring being built in text */
	double box[4];      /* x0 y0 x1 y1 of every point kept */
	double x0, y0, px, py, twice_area; /* the ring's first and last point, shoelace sum */
	bool oom;
};

/* Starts a new ring (the previous one is dropped when it has fewer than 3 points). */
void polygon_ring_start(struct polygon_builder *b);
/*
 * Adds a point, clamped to 0..cw x 0..ch, skipping one equal to the previous (after rounding
 * to 0.01 px). Returns -1 past POLYGON_MAX_POINTS or out of memory.
 */
int polygon_point(struct polygon_builder *b, double x, double y, double cw, double ch);
/* Ends the outline: its text (caller frees) or NULL when no ring has 3 points or area. */
char *polygon_finish(struct polygon_builder *b, double box[4]);
void polygon_builder_release(struct polygon_builder *b);

/*
 * Parses an outline into a newly allocated array of x,y pairs (*n points) and ring lengths
 * (*rings entries in *ring_len). Returns 0, or -1 for text that is not an outline.
 */
int polygon_parse(const char *text, double **xy, size_t *n, size_t **ring_len, size_t *rings);

/* The outline as an SVG document for an SvgSelector (g_free); characters that have no place in
 * an outline (quotes, markup) are left out. */
char *polygon_svg(const char *text);

#endif
