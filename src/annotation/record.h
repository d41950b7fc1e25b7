/*
 * record.h: one annotation as iiifd stores it, independent of where it came from (ALTO, hOCR,
 * WebVTT, COCO, CSV, or the write API) and of how it is served (Web Annotation JSON).
 * Targets name a file below the root (and a page of it), not a Canvas URL, so annotations stay
 * attached when Canvases are renumbered.
 */
#ifndef IIIFD_ANNOTATION_RECORD_H
#define IIIFD_ANNOTATION_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct anno_record {
	/* every string is owned (malloc'd) and may be NULL unless noted */
	char *id;            /* the store's id (set by the store on insert) */
	char *manifest;      /* path below the root of the Manifest it belongs to (folder or file) */
	char *target_file;   /* path below the root of the image/media file (required) */
	int page;            /* 0-based page of target_file */
	char *motivation;    /* required: supplementing, tagging, commenting, ... */
	char *text;          /* body value (plain text) */
	char *language;      /* BCP 47 code of text */
	char *granularity;   /* textGranularity: page, block, paragraph, line, word, glyph */
	bool has_xywh;
	double x, y, w, h;   /* region on the Canvas, in Canvas (image) pixels */
	bool has_time;
	double start, end;   /* seconds, for audio/video */
	bool has_score;
	double score;        /* classifier/detector confidence, 0..1 */
	char *creator;       /* URI or name of a person or agent */
	char *generator;     /* the software or model that made it */
	char *source;        /* path below the root of the file it was imported from; NULL = API */
	char *created;       /* "YYYY-MM-DDThh:mm:ssZ", set by the store when NULL */
	int64_t seq;         /* order within its source (reading order); 0 for API writes */
	char *line_id;       /* for words: id of the line record in the same import (reading aid) */
	/*
	 * Outline in Canvas pixels (served as an SvgSelector next to the #xywh= box, which is its
	 * bounding box): rings separated by ';', each "x,y x,y x,y ..." (see annotation/polygon.h).
	 */
	char *polygon;
};

struct anno_list {
	struct anno_record *items; /* owned */
	size_t count, cap;
};

/* Appends a zeroed record and returns it (NULL when out of memory). */
struct anno_record *anno_list_add(struct anno_list *list);
void anno_list_release(struct anno_list *list);
void anno_record_release(struct anno_record *rec);

/* strdup that accepts NULL. */
char *anno_strdup(const char *s);

#endif
