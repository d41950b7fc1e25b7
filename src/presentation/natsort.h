/*
 * natsort.h: "natural" file name order, as people number pages: page2 before page10.
 */
#ifndef IIIFD_PRESENTATION_NATSORT_H
#define IIIFD_PRESENTATION_NATSORT_H

/*
 * strcmp-like: runs of digits compare by numeric value (leading zeros ignored, then fewer zeros
 * first), other characters case-insensitively; names equal under those rules fall back to strcmp
 * so the order is total and stable.
 */
int natsort_compare(const char *a, const char *b);

#endif
