/*
 * lang.h: the browser's languages (Accept-Language, RFC 9110 §12.5.4) and the choice of one
 * entry of a IIIF language map for them.
 */
#ifndef IIIFD_WEB_LANG_H
#define IIIFD_WEB_LANG_H

#include <jansson.h>
#include <stdbool.h>

#define LANG_MAX 16      /* languages kept from a header; the rest are ignored */
#define LANG_TAG_MAX 36  /* longest tag kept (BCP 47 tags in practice are far shorter) */

/* A client's languages, most wanted first; q=0 ones (refused) left out. */
struct lang_list {
	int count;
	char tags[LANG_MAX][LANG_TAG_MAX]; /* lower case; "*" for any */
};

/*
 * Parses an Accept-Language value (NULL or "" = no preference) with http_accept_next(): entries
 * that are not language ranges are skipped, never fatal; entries with equal q keep their order.
 */
void lang_list_parse(const char *header, struct lang_list *out);

/*
 * The key of map (a IIIF language map: {"en": [...], "none": [...]}) to show: the first of the
 * client's languages the map has (exactly, then by prefix: en-GB takes en, en takes en-US),
 * else "none", else "en", else the map's first key. NULL when map is not a non-empty object.
 * Borrowed from map.
 */
const char *lang_pick(const json_t *map, const struct lang_list *langs);

#endif
