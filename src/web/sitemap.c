/*
 * sitemap.c: the sitemap is made from the Collection documents themselves, read breadth first
 * from the root, so it lists exactly the pages a visitor can reach by following members.
 */
#include "web/sitemap.h"

#include <string.h>

#include "core/config_live.h"
#include "core/html.h"
#include "core/strings.h"
#include "web/page.h"

static void sitemap_url(GString *xml, const struct page *pg, const char *pres_path)
{
	GString *url = g_string_new(pg->origin);
	g_string_truncate(url, url->len - strlen(pg->prefix)); /* page_view_url adds the prefix */
	page_view_url(pg, url, pres_path);
	g_string_append(xml, "<url><loc>");
	html_escape(xml, url->str); /* the five escapes are XML's too */
	g_string_append(xml, "</loc></url>\n");
	g_string_free(url, TRUE);
}

void sitemap_answer(const struct pres_service *svc, const struct http_request *req,
		    struct http_response *resp)
{
	struct page pg;
	page_init(&pg, config_live_now(), svc->fallback_host, req); /* reloadable */
	GString *xml = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				    "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	GQueue todo = G_QUEUE_INIT;
	g_queue_push_tail(&todo, g_strdup("collection"));
	int collections = 0, urls = 0;
	char *path;
	while ((path = g_queue_pop_head(&todo))) {
		struct iiifd_error err = { 0 };
		bool coll = false;
		json_t *doc = collections < SITEMAP_MAX_COLLECTIONS && urls < SITEMAP_MAX_URLS
				      ? pres_service_document(svc, path, req, &coll, &err)
				      : NULL;
		if (doc && coll) {
			collections++;
			sitemap_url(xml, &pg, path), urls++;
		}
		size_t i;
		const json_t *m;
		json_array_foreach(coll ? json_object_get(doc, "items") : NULL, i, m) {
			const char *type = json_string_value(json_object_get(m, "type"));
			const char *member = page_pres_path(&pg, json_string_value(json_object_get(m, "id")));
			if (!member || urls >= SITEMAP_MAX_URLS)
				continue;
			if (type && strcmp(type, "Collection") == 0)
				g_queue_push_tail(&todo, g_strdup(member));
			else
				sitemap_url(xml, &pg, member), urls++;
		}
		json_decref(doc);
		g_free(path);
	}
	g_string_append(xml, "</urlset>\n");
	char etag[40];
	strings_etag(xml->str, etag, sizeof etag);
	http_response_header(resp, "Content-Type", "application/xml; charset=utf-8");
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (http_response_validators(resp, req, etag, 0, "public, max-age=3600")) {
		g_string_free(xml, TRUE);
	} else {
		size_t len = xml->len;
		http_response_body(resp, g_string_free(xml, FALSE), len, g_free);
		resp->compressible = true;
	}
	page_release(&pg);
}

void sitemap_robots(const struct pres_service *svc, const struct http_request *req,
		    struct http_response *resp)
{
	struct page pg;
	page_init(&pg, config_live_now(), svc->fallback_host, req); /* reloadable */
	http_response_header(resp, "Cache-Control", "public, max-age=3600");
	http_response_text(resp, 200, "User-agent: *\nAllow: /\nSitemap: %s/sitemap.xml\n",
			   pg.origin);
	page_release(&pg);
}
