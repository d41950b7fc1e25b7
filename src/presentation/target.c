/*
 * target.c: turns a Presentation URL into the folder or file it names (trying each
 * "collection"/"manifest" segment in turn, since folder and file names may contain those words)
 * and finds the sub-resource a longer URL names inside the built document.
 */
#include "presentation/target.h"

#include <stdlib.h>
#include <string.h>

#include "annotation/webanno.h"
#include "core/strings.h"
#include "presentation/context.h"
#include "presentation/service.h"
#include "presentation/tree.h"

gchar **pres_path_segments(const char *path)
{
	gchar **segs = g_strsplit(path, "/", -1);
	for (int i = 0; segs[i]; i++) {
		char decoded[1024];
		if (strings_url_decode(segs[i], strlen(segs[i]), decoded, sizeof decoded) < 0) {
			g_strfreev(segs);
			return NULL;
		}
		g_free(segs[i]);
		segs[i] = g_strdup(decoded);
	}
	return segs;
}

/*
 * Does segs[0..i) name something that can be the requested kind of document? A remote root
 * that fails to answer (anything but "no such file") sets failed, so the request says so
 * rather than 404.
 */
static bool pres_target_at(const struct pres_service *svc, gchar **segs, int i,
			   struct pres_target *t, struct iiifd_error *failed)
{
	bool collection = strcmp(segs[i], "collection") == 0;
	if (!collection && strcmp(segs[i], "manifest") != 0)
		return false;
	char *abs = NULL;
	gchar *saved = segs[i];
	segs[i] = NULL; /* join only the segments before the keyword */
	char *rel = g_strjoinv("/", segs);
	segs[i] = saved;
	struct iiifd_error why = { 0 };
	bool ok = pres_resolve(svc->root_real, rel, NULL, true, &abs, &why) == 0;
	bool folder = ok;
	if (!ok && !collection && pres_resolve(svc->root_real, rel, NULL, false, &abs, &why) == 0) {
		enum tree_kind k = tree_classify(rel);
		ok = k == TREE_IMAGE || k == TREE_MEDIA;
	}
	if (!ok && why.http_status && why.http_status != 404 && !failed->http_status)
		*failed = why;
	free(abs);
	if (!ok || (collection && !folder)) {
		g_free(rel);
		return false;
	}
	t->rel = rel;
	t->is_folder = folder;
	t->collection = collection;
	t->tail = segs + i + 1;
	return true;
}

static int pres_find_target(const struct pres_service *svc, gchar **segs, struct pres_target *t,
			    struct iiifd_error *err)
{
	struct iiifd_error failed = { 0 };
	for (int i = 0; segs[i]; i++)
		if (pres_target_at(svc, segs, i, t, &failed))
			return 0;
	if (failed.http_status) /* the storage of a remote root did not answer */
		return iiifd_error_set(err, failed.http_status, "the storage: %s", failed.msg);
	return iiifd_error_set(err, 404, "no Collection or Manifest at this URL");
}

int pres_target_resolve(const struct pres_service *svc, const char *path, gchar ***segs,
			struct pres_target *t, struct iiifd_error *err)
{
	*t = (struct pres_target){ 0 };
	*segs = pres_path_segments(path);
	if (!*segs)
		return iiifd_error_set(err, 400, "malformed %%-escape in the URL");
	if (strcmp(path, "collection") == 0) {
		*t = (struct pres_target){ .rel = g_strdup(""), .is_folder = true,
					   .collection = true, .tail = *segs + 1 };
		return 0;
	}
	return pres_find_target(svc, *segs, t, err);
}

void pres_target_release(struct pres_target *t)
{
	g_free(t->rel);
	*t = (struct pres_target){ 0 };
}

char *pres_target_folder(const struct pres_target *t)
{
	char *folder = t->is_folder ? g_strdup(t->rel) : g_path_get_dirname(t->rel);
	if (strcmp(folder, ".") == 0)
		folder[0] = '\0';
	return folder;
}

/* Depth-first search for the object whose id (3.0) or @id (2.1) is id. Borrowed. */
static json_t *pres_find_id(json_t *node, const char *key, const char *id)
{
	if (json_is_object(node)) {
		const char *k;
		json_t *v;
		json_t *own = json_object_get(node, key);
		if (own && json_is_string(own) && strcmp(json_string_value(own), id) == 0)
			return node;
		json_object_foreach(node, k, v) {
			json_t *found = pres_find_id(v, key, id);
			if (found)
				return found;
		}
	} else if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v) {
			json_t *found = pres_find_id(v, key, id);
			if (found)
				return found;
		}
	}
	return NULL;
}

/* The document or, for a URL below it, the embedded resource with that id (with @context). */
json_t *pres_target_select(json_t *doc, int version, gchar **tail, struct iiifd_error *err)
{
	if (!tail[0])
		return json_incref(doc);
	const char *key = version == 3 ? "id" : "@id";
	char *rest = g_strjoinv("/", tail);
	char *id = g_strdup_printf("%s/%s", json_string_value(json_object_get(doc, key)), rest);
	json_t *found = pres_find_id(doc, key, id);
	json_t *out = NULL;
	if (found && json_object_size(found) > 2) {
		out = webanno_with_context(found, json_incref(json_object_get(doc, "@context")));
	} else {
		iiifd_error_set(err, 404, "no resource '%s' in this document", rest);
	}
	g_free(rest);
	g_free(id);
	return out;
}

char *pres_target_service_url(const struct pres_context *c, const struct pres_target *t,
			      const char *name)
{
	char *id = t->collection ? pres_url_collection(c, t->rel) : pres_url_manifest(c, t->rel);
	char *url = g_strdup_printf("%s/%s", id, name);
	g_free(id);
	return url;
}
