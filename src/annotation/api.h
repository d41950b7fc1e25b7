/*
 * api.h: annotations over HTTP: the write API in the shape of the W3C Web Annotation Protocol
 * (a container per Manifest). Canvas AnnotationPages are in page_stream.h.
 */
#ifndef IIIFD_ANNOTATION_API_H
#define IIIFD_ANNOTATION_API_H

#include <jansson.h>

#include "db/db.h"
#include "http/message.h"
#include "presentation/canvas_index.h"

#define ANNO_API_MAX_BODY (1 << 20) /* bytes of one annotation sent to the write API */

#define ANNO_API_DEFAULT_WRITER "api" /* creator of writes made with a token without a name */

/*
 * Whether req may write: 0 with the writer's name in who (who_len bytes), or -1 with err (403
 * when writes are off or the token is unknown, 401 without a Bearer token, adding
 * WWW-Authenticate to resp when resp is not NULL). tokens is the api-token setting:
 * "name=token, name2=token2" or a bare token (named ANNO_API_DEFAULT_WRITER).
 */
int anno_api_authorise(const char *tokens, const struct http_request *req,
		       struct http_response *resp, char *who, size_t who_len,
		       struct iiifd_error *err);

/* The Manifest a container belongs to. Borrowed. */
struct anno_api_manifest {
	const struct pres_canvas_index *idx;
	const char *rel;   /* path below the root */
	const json_t *doc; /* the built Manifest, for GET of the container (its Canvases'
			    * georeferencing is listed from it); NULL for other requests */
};

/*
 * {manifest}/annotations (id NULL: GET lists, POST creates) and {manifest}/annotations/{id}
 * (GET, PUT with If-Match, DELETE). Writes need "Authorization: Bearer {token}"; token "" means
 * writes are refused. Georeference Annotations (motivation georeferencing) are validated by the
 * maps parser and served as the Canvas embeds them (annotation/georef.h); the listing holds
 * those of the files next to the images too, first. Fills resp completely.
 */
void anno_api_container(struct db *db, const struct anno_api_manifest *m, const char *origin,
			const char *token, const char *id, const struct http_request *req,
			struct http_response *resp);

#endif
