/*
 * media_routes.c: the audio, video and WebVTT files Manifests point at (/iiif/media/), served
 * with byte ranges behind the access gate, and their Auth 2.0 probe.
 */
#include "presentation/service.h"

#include <stdlib.h>
#include <string.h>

#include "auth/gate.h"
#include "core/config_live.h"
#include "core/metrics.h"
#include "http/files.h"
#include "media/probe.h"
#include "presentation/target.h"
#include "storage/root.h"

/*
 * The media file at the raw path below /iiif/media/ (or the probe's): its path below the root
 * in *rel (g_free), its path or object spec in *abs (free) and its MIME type as the result.
 * NULL with err (404 when the path names no media file).
 */
static const char *pres_media_resolve(const struct pres_service *svc, const char *path,
				      char **rel, char **abs, struct iiifd_error *err)
{
	gchar **segs = pres_path_segments(path);
	*rel = segs ? g_strjoinv("/", segs) : NULL;
	*abs = NULL;
	g_strfreev(segs);
	const char *mime = *rel ? media_mime_for_path(*rel) : NULL;
	if (!mime) {
		iiifd_error_set(err, 404, "no media file here");
		return NULL;
	}
	return pres_resolve(svc->root_real, *rel, NULL, false, abs, err) == 0 ? mime : NULL;
}

void pres_media_probe(const struct pres_service *svc, const char *path,
		      const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	char *rel, *abs;
	if (pres_media_resolve(svc, path, &rel, &abs, &err)) {
		struct auth_gate g;
		auth_gate_open(svc->auth, abs, AUTH_RES_MEDIA, req, &g);
		auth_gate_probe(svc->auth, g.policy, req, NULL, NULL, NULL, resp);
		auth_gate_release(&g);
	} else {
		http_response_error(resp, &err);
	}
	free(abs);
	g_free(rel);
}

/* Serves the file at abs, from a local root or, in byte ranges, from an object store. */
static void pres_media_serve(const char *abs, const char *mime, const char *cache_control,
			     const struct http_request *req, struct http_response *resp)
{
	if (!storage_spec_is_remote(abs))
		http_files_serve(req, abs, mime, cache_control, resp);
	else /* an object of a remote root: ranged GETs, never the whole object */
		http_files_serve_remote(req, abs, mime, cache_control, resp);
}

void pres_media_handle(const struct pres_service *svc, const char *path,
		       const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	char *rel, *abs;
	struct auth_gate g = { 0 };
	resp->route = METRICS_ROUTE_MEDIA;
	const char *mime = pres_media_resolve(svc, path, &rel, &abs, &err);
	if (mime)
		auth_gate_open(svc->auth, abs, AUTH_RES_MEDIA, req, &g);
	if (mime && g.policy && g.access != AUTH_FULL) { /* every byte range of it too */
		auth_gate_log_denial(svc->auth, &g, req, rel);
		iiifd_error_set(&err, 401, "this media file is access-controlled");
		http_response_error(resp, &err);
	} else if (mime) {
		const char *cc = g.policy ? AUTH_PRIVATE_CACHE : config_live_now()->cache_control;
		pres_media_serve(abs, mime, cc, req, resp);
	} else {
		http_response_error(resp, &err);
	}
	auth_gate_release(&g);
	free(abs);
	g_free(rel);
}
