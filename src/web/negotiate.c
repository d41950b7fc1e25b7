/*
 * negotiate.c: page or JSON, from the qualities http/accept.c gives each media type (the most
 * specific matching entry of the Accept header wins, as RFC 9110 says).
 */
#include "web/negotiate.h"

#include <glib.h>

#include "http/accept.h"

bool negotiate_prefers_html(const char *accept)
{
	if (!accept || !*accept) /* no preference: IIIF clients get what they always got */
		return false;
	double html = MAX(http_accept_media_quality(accept, "text/html"),
			  http_accept_media_quality(accept, "application/xhtml+xml"));
	double json = MAX(http_accept_media_quality(accept, "application/json"),
			  http_accept_media_quality(accept, "application/ld+json"));
	return html > 0 && html > json;
}
