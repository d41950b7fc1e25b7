/*
 * sitemap.h: /sitemap.xml (sitemaps.org 0.9) listing the page of every Collection and Manifest,
 * and /robots.txt pointing at it, so that search engines find the collection pages.
 */
#ifndef IIIFD_WEB_SITEMAP_H
#define IIIFD_WEB_SITEMAP_H

#include "http/message.h"
#include "presentation/service.h"

/* Collections read and URLs listed at most: a sitemap holds 50000 URLs; the walk stays cheap. */
#define SITEMAP_MAX_COLLECTIONS 2000
#define SITEMAP_MAX_URLS 20000

/* Walks the Collections from the root (breadth first, bounded as above) and answers the XML. */
void sitemap_answer(const struct pres_service *svc, const struct http_request *req,
		    struct http_response *resp);

/* "Sitemap: {origin}/sitemap.xml". */
void sitemap_robots(const struct pres_service *svc, const struct http_request *req,
		    struct http_response *resp);

#endif
