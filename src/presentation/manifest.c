/*
 * manifest.c: assembles Manifests (folder or single file) and Collections: listing, sidecars,
 * Canvases, Ranges, navPlace. Sidecar problems are logged once per file version.
 */
#include "presentation/manifest.h"

#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "annotation/search.h"
#include "core/log.h"
#include "core/strings.h"
#include "maps/serve.h"
#include "presentation/canvas.h"
#include "presentation/sidecar.h"
#include "presentation/tree.h"

#define PRES_CONTEXT "http://iiif.io/api/presentation/3/context.json"
#define PRES_NAVPLACE_CONTEXT "http://iiif.io/api/extension/navplace/context.json"

static bool manifest_has_companion(const struct tree_listing *l, const char *name)
{
	for (size_t i = 0; i < l->companion_count; i++)
		if (strcmp(l->companions[i], name) == 0)
			return true;
	return false;
}

/* Loads the sidecar dir/name; problems are logged with file and line. */
static void manifest_sidecar_load(const char *dir, const char *name, struct sidecar *sc)
{
	char *path = g_build_filename(dir, name, NULL);
	struct sidecar_problems problems = { 0 };
	sidecar_load(path, sc, &problems);
	if (problems.count && sidecar_report_once(path, ""))
		for (int i = 0; i < problems.count && i < SIDECAR_MAX_PROBLEMS; i++)
			log_warn("%s:%d: %s", path, problems.items[i].line, problems.items[i].msg);
	g_free(path);
}

/* Loads dir/name if the listing has it. */
static bool manifest_sidecar(const char *dir, const struct tree_listing *l, const char *name,
			     struct sidecar *sc)
{
	memset(sc, 0, sizeof *sc);
	if (!manifest_has_companion(l, name))
		return false;
	manifest_sidecar_load(dir, name, sc);
	return true;
}

/* The sidecar's label, or the given name, as a language map. New reference. */
static json_t *manifest_label(const struct sidecar *sc, const char *name)
{
	json_t *label = sc->props ? json_object_get(sc->props, "label") : NULL;
	return label ? json_incref(label) : pres_label(name);
}

static json_t *manifest_skeleton(const struct pres_context *c, const char *id, const char *type,
				 const struct sidecar *sc, const char *name)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:o}", "@context", PRES_CONTEXT, "id", id, "type",
			      type, "label", manifest_label(sc, name));
	if (sc->props)
		json_object_update_missing(m, sc->props);
	if (c->db)
		json_object_set_new(m, "service", search_services(id));
	json_t *place = json_object_get(m, "navPlace");
	if (place) {
		char *fc = g_strdup_printf("%s/feature-collection/1", id);
		json_object_set_new(place, "id", json_string(fc));
		size_t i;
		json_t *feature;
		json_array_foreach(json_object_get(place, "features"), i, feature) {
			char *fid = g_strdup_printf("%s/feature/%zu", id, i + 1);
			json_object_set_new(feature, "id", json_string(fid));
			g_free(fid);
		}
		g_free(fc);
		json_object_set_new(m, "@context",
				    json_pack("[s, s]", PRES_NAVPLACE_CONTEXT, PRES_CONTEXT));
	}
	return m;
}

/* A Range of the table of contents in toc_path (names it lacks are logged once per version). */
static json_t *manifest_range(const char *manifest_id, const char *toc_path, const json_t *node,
			      const json_t *file_ids, int *counter, int depth)
{
	char *id = g_strdup_printf("%s/range/%d", manifest_id, (*counter)++);
	json_t *label = json_object_get(node, "label");
	json_t *r = json_pack("{s:s, s:s, s:O, s:[]}", "id", id, "type", "Range", "label",
			      label ? label : pres_label("Section"), "items");
	json_t *items = json_object_get(r, "items");
	size_t i, j;
	json_t *name, *child, *cid;
	json_array_foreach(json_object_get(node, "canvases"), i, name) {
		json_t *ids = json_object_get(file_ids, json_string_value(name));
		if (!ids && json_is_string(name) &&
		    sidecar_report_once(toc_path, json_string_value(name)))
			log_warn("%s: table of contents names '%s', which is not in the manifest",
				 toc_path, json_string_value(name));
		json_array_foreach(ids, j, cid)
			json_array_append_new(items, json_pack("{s:O, s:s}", "id", cid, "type",
							       "Canvas"));
	}
	json_array_foreach(json_object_get(node, "items"), i, child) {
		json_t *sub = depth < 16 ? manifest_range(manifest_id, toc_path, child, file_ids,
							  counter, depth + 1)
					 : NULL;
		if (sub && json_array_size(json_object_get(sub, "items")))
			json_array_append_new(items, sub);
		else
			json_decref(sub);
	}
	g_free(id);
	return r;
}

/* The Canvas with this id among items (borrowed), or NULL. */
static const json_t *manifest_canvas_by_id(const json_t *items, const char *id)
{
	size_t i;
	const json_t *c;
	json_array_foreach(items, i, c)
		if (id && !strcmp(json_string_value(json_object_get(c, "id")), id))
			return c;
	return NULL;
}

/*
 * Why chapter ch cannot be a Range of the Canvas canvas_id (NULL when it can): there is no such
 * Canvas, it has no duration (not audio or video), or the chapter ends after the media does
 * (more than 50 ms: probed durations and typed ones differ by a frame).
 */
static const char *manifest_chapter_misfit(const json_t *ch, const json_t *canvas, char *why,
					   size_t n)
{
	const json_t *d = canvas ? json_object_get(canvas, "duration") : NULL;
	double end = json_number_value(json_object_get(ch, "end"));
	if (!canvas)
		return "names no file of this Manifest (a folder's chapters need 'file:')";
	if (!d)
		return "is on a file that is not audio or video";
	if (end > json_number_value(d) + 0.05) {
		snprintf(why, n, "ends at %g s, after the media (%.3f s)", end, json_number_value(d));
		return why;
	}
	return NULL;
}

/*
 * The chapters of a sidecar as time Ranges. A chapter is on the Canvas of its `file:` (in a
 * folder's Manifest) or on canvas_id (a single file's); those that fit no Canvas are logged
 * once per sidecar version and left out, so no Range points outside its media.
 */
static json_t *manifest_chapters(const char *manifest_id, const char *sidecar_path,
				 const json_t *chapters, const json_t *items,
				 const json_t *file_ids, const char *canvas_id, int *counter)
{
	json_t *ranges = json_array();
	size_t i;
	json_t *ch;
	json_array_foreach(chapters, i, ch) {
		char start[32], end[32], why[160];
		const char *file = json_string_value(json_object_get(ch, "file"));
		const char *cid = file ? json_string_value(json_array_get(
						 json_object_get(file_ids, file), 0))
				       : canvas_id;
		const char *misfit = manifest_chapter_misfit(ch, manifest_canvas_by_id(items, cid),
							     why, sizeof why);
		if (misfit) {
			char *label = pres_label_text(json_object_get(ch, "label"));
			char *key = g_strdup_printf("chapter %s", label);
			if (sidecar_report_once(sidecar_path, key))
				log_warn("%s: chapter '%s' %s; left out", sidecar_path, label, misfit);
			g_free(key);
			g_free(label);
			continue;
		}
		strings_number(json_number_value(json_object_get(ch, "start")), start, sizeof start);
		strings_number(json_number_value(json_object_get(ch, "end")), end, sizeof end);
		char *id = g_strdup_printf("%s/range/%d", manifest_id, (*counter)++);
		char *target = g_strdup_printf("%s#t=%s,%s", cid, start, end);
		json_array_append_new(ranges, json_pack("{s:s, s:s, s:O, s:[{s:s, s:s}]}", "id", id,
							"type", "Range", "label",
							json_object_get(ch, "label"), "items", "id",
							target, "type", "Canvas"));
		g_free(id);
		g_free(target);
	}
	return ranges;
}

/* Per-file Canvas properties: {file}.yml, then the folder sidecar's canvases.{file}. */
static json_t *manifest_canvas_props(const char *dir, const struct tree_listing *l,
				     const char *name, const struct sidecar *folder_sc)
{
	struct sidecar file_sc;
	char *sidecar_name = g_strdup_printf("%s.yml", name);
	json_t *props = json_object();
	if (manifest_sidecar(dir, l, sidecar_name, &file_sc) && file_sc.props)
		json_object_update(props, file_sc.props);
	sidecar_release(&file_sc);
	g_free(sidecar_name);
	json_t *override = folder_sc->canvases ? json_object_get(folder_sc->canvases, name) : NULL;
	if (override)
		json_object_update(props, override);
	return props;
}

/* navPlace anywhere in the document needs the extension context first on the top object. */
static void manifest_navplace_context(json_t *m, const json_t *items)
{
	size_t i;
	json_t *canvas;
	json_array_foreach(items, i, canvas)
		if (json_object_get(canvas, "navPlace"))
			json_object_set_new(m, "@context",
					    json_pack("[s, s]", PRES_NAVPLACE_CONTEXT, PRES_CONTEXT));
}

static void manifest_finish(json_t *m, json_t *items, json_t *structures)
{
	manifest_navplace_context(m, items);
	maps_manifest_finish(m, items, PRES_CONTEXT);
	json_t *first = json_array_get(items, 0);
	json_t *thumb = first ? json_object_get(first, "thumbnail") : NULL;
	if (!json_object_get(m, "thumbnail") && thumb)
		json_object_set(m, "thumbnail", thumb);
	json_object_set_new(m, "items", items);
	if (structures && json_array_size(structures))
		json_object_set_new(m, "structures", structures);
	else
		json_decref(structures);
}

static json_t *manifest_folder(const struct pres_context *c, const char *rel, const char *abs,
			       const struct tree_listing *l, const char *id)
{
	struct sidecar sc;
	manifest_sidecar(abs, l, "manifest.yml", &sc);
	char *name = *rel ? g_path_get_basename(rel) : g_strdup("iiifd");
	json_t *m = manifest_skeleton(c, id, "Manifest", &sc, name);
	json_t *items = json_array(), *file_ids = json_object();
	int next = 1;
	for (size_t i = 0; i < l->count; i++) {
		const struct tree_entry *e = &l->entries[i];
		char *frel = pres_join(rel, e->name), *fabs = g_build_filename(abs, e->name, NULL);
		struct pres_file f = { frel, fabs, e->name, e->kind, l };
		json_t *props = manifest_canvas_props(abs, l, e->name, &sc);
		json_t *ids = json_array();
		pres_canvases_add(c, id, &f, props, items, &next, ids);
		json_object_set_new(file_ids, e->name, ids);
		json_decref(props);
		g_free(frel);
		g_free(fabs);
	}
	json_t *structures = json_array();
	int counter = 1;
	size_t i;
	json_t *node;
	char *toc_path = g_build_filename(abs, "manifest.yml", NULL);
	json_array_foreach(sc.toc, i, node) {
		json_t *range = manifest_range(id, toc_path, node, file_ids, &counter, 0);
		if (json_array_size(json_object_get(range, "items")))
			json_array_append_new(structures, range);
		else
			json_decref(range); /* a Range must have items: skip one naming no file */
	}
	if (sc.chapters) {
		json_t *chapters = manifest_chapters(id, toc_path, sc.chapters, items, file_ids,
						     NULL, &counter);
		json_array_extend(structures, chapters);
		json_decref(chapters);
	}
	g_free(toc_path);
	manifest_finish(m, items, structures);
	json_decref(file_ids);
	sidecar_release(&sc);
	g_free(name);
	return m;
}

static json_t *manifest_file(const struct pres_context *c, const char *rel, const char *abs,
			     const char *dir, const struct tree_listing *l, const char *id)
{
	char *name = g_path_get_basename(rel), *sidecar_name = g_strdup_printf("%s.yml", name);
	struct sidecar sc;
	manifest_sidecar(dir, l, sidecar_name, &sc);
	json_t *m = manifest_skeleton(c, id, "Manifest", &sc, name);
	json_t *items = json_array(), *ids = json_array();
	struct pres_file f = { rel, abs, name, tree_classify(name), l };
	int next = 1;
	pres_canvases_add(c, id, &f, NULL, items, &next, ids);
	json_t *structures = NULL;
	if (sc.chapters && json_array_size(ids)) {
		char *path = g_build_filename(dir, sidecar_name, NULL);
		json_t *file_ids = json_pack("{s:O}", name, ids);
		int counter = 1;
		structures = manifest_chapters(id, path, sc.chapters, items, file_ids,
					       json_string_value(json_array_get(ids, 0)), &counter);
		json_decref(file_ids);
		g_free(path);
	}
	manifest_finish(m, items, structures);
	json_decref(ids);
	sidecar_release(&sc);
	g_free(name);
	g_free(sidecar_name);
	return m;
}

json_t *pres_manifest_build(const struct pres_context *c, const char *rel, bool is_folder,
			    struct iiifd_error *err)
{
	char *abs = g_build_filename(c->root_real, rel, NULL);
	char *dir = is_folder ? g_strdup(abs) : g_path_get_dirname(abs);
	struct tree_listing l;
	json_t *m = NULL;
	if (tree_list(c->root_real, dir, &l, err) == 0) {
		char *id = pres_url_manifest(c, rel);
		if (is_folder && l.has_subfolders)
			iiifd_error_set(err, 404, "this folder is a Collection, not a Manifest");
		else if (is_folder && l.count == 0)
			iiifd_error_set(err, 404, "this folder has nothing to show");
		else if (is_folder)
			m = manifest_folder(c, rel, abs, &l, id);
		else
			m = manifest_file(c, rel, abs, dir, &l, id);
		if (m && json_array_size(json_object_get(m, "items")) == 0) {
			json_decref(m); /* a Manifest must have a Canvas: nothing here can be shown */
			m = NULL;
			iiifd_error_set(err, 404, "nothing here can be shown (see iiifd check)");
		}
		g_free(id);
		tree_listing_release(&l);
	}
	g_free(abs);
	g_free(dir);
	return m;
}

/* {id, type, label}: the label from the sidecar_name file of the folder dir, else name. */
static json_t *manifest_reference(const struct pres_context *c, const char *id, const char *type,
				  const char *dir, const char *sidecar_name, const char *name)
{
	struct sidecar sc = { 0 };
	if (tree_has_companion(c->root_real, dir, sidecar_name)) /* no listing of a whole book */
		manifest_sidecar_load(dir, sidecar_name, &sc);
	json_t *ref = json_pack("{s:s, s:s, s:o}", "id", id, "type", type, "label",
				manifest_label(&sc, name));
	sidecar_release(&sc);
	return ref;
}

json_t *pres_manifest_ref(const struct pres_context *c, const char *rel, bool is_folder)
{
	char *abs = g_build_filename(c->root_real, rel, NULL);
	char *dir = is_folder ? g_strdup(abs) : g_path_get_dirname(abs);
	char *name = *rel ? g_path_get_basename(rel) : g_strdup("iiifd");
	char *sidecar_name = is_folder ? g_strdup("manifest.yml") : g_strdup_printf("%s.yml", name);
	char *id = pres_url_manifest(c, rel);
	json_t *ref = manifest_reference(c, id, "Manifest", dir, sidecar_name, name);
	g_free(id);
	g_free(sidecar_name);
	g_free(name);
	g_free(dir);
	g_free(abs);
	return ref;
}

json_t *pres_collection_ref(const struct pres_context *c, const char *rel)
{
	char *abs = g_build_filename(c->root_real, rel, NULL);
	char *name = *rel ? g_path_get_basename(rel) : g_path_get_basename(abs);
	char *id = pres_url_collection(c, rel);
	json_t *ref = manifest_reference(c, id, "Collection", abs, "collection.yml", name);
	g_free(id);
	g_free(name);
	g_free(abs);
	return ref;
}

static json_t *collection_find_thumbnail(const struct pres_context *c, const char *rel,
					 const char *abs, int depth);

/* The thumbnail of the first file in listing l of folder rel, or in its sub-folders. */
static json_t *collection_listing_thumbnail(const struct pres_context *c, const char *rel,
					    const char *abs, const struct tree_listing *l, int depth)
{
	json_t *thumb = NULL;
	for (size_t i = 0; !thumb && i < l->count; i++) {
		const struct tree_entry *e = &l->entries[i];
		char *frel = pres_join(rel, e->name), *fabs = g_build_filename(abs, e->name, NULL);
		struct pres_file f = { frel, fabs, e->name, e->kind, l };
		thumb = e->kind == TREE_FOLDER ? collection_find_thumbnail(c, frel, fabs, depth - 1)
					       : pres_file_thumbnail(c, &f);
		g_free(frel);
		g_free(fabs);
	}
	return thumb;
}

/* The thumbnail of the first file found in a folder, looking into sub-folders up to depth. */
static json_t *collection_find_thumbnail(const struct pres_context *c, const char *rel,
					 const char *abs, int depth)
{
	struct tree_listing l;
	struct iiifd_error err = { 0 };
	if (depth < 0 || tree_list(c->root_real, abs, &l, &err) < 0)
		return NULL;
	json_t *thumb = collection_listing_thumbnail(c, rel, abs, &l, depth);
	tree_listing_release(&l);
	return thumb;
}

/* A Collection member for one entry of a Collection folder, or NULL. */
static json_t *collection_member(const struct pres_context *c, const char *rel, const char *abs,
				 const struct tree_listing *l, const struct tree_entry *e)
{
	char *crel = pres_join(rel, e->name), *cabs = g_build_filename(abs, e->name, NULL);
	struct sidecar sc = { 0 };
	json_t *member = NULL;
	struct tree_listing child;
	struct iiifd_error err = { 0 };
	if (e->kind != TREE_FOLDER) {
		char *sidecar_name = g_strdup_printf("%s.yml", e->name);
		manifest_sidecar(abs, l, sidecar_name, &sc);
		g_free(sidecar_name);
		char *id = pres_url_manifest(c, crel);
		member = json_pack("{s:s, s:s, s:o}", "id", id, "type", "Manifest", "label",
				   manifest_label(&sc, e->name));
		struct pres_file f = { crel, cabs, e->name, e->kind, l };
		json_t *thumb = pres_file_thumbnail(c, &f);
		if (thumb)
			json_object_set_new(member, "thumbnail", json_pack("[o]", thumb));
		g_free(id);
	} else if (tree_list(c->root_real, cabs, &child, &err) == 0) {
		bool collection = child.has_subfolders;
		manifest_sidecar(cabs, &child, collection ? "collection.yml" : "manifest.yml", &sc);
		char *id = collection ? pres_url_collection(c, crel) : pres_url_manifest(c, crel);
		member = json_pack("{s:s, s:s, s:o}", "id", id, "type",
				   collection ? "Collection" : "Manifest", "label",
				   manifest_label(&sc, e->name));
		json_t *thumb = collection_listing_thumbnail(c, crel, cabs, &child, 2);
		if (thumb) {
			json_object_set_new(member, "thumbnail", json_pack("[o]", thumb));
		} else if (!collection) {
			json_decref(member); /* no file in it can be read: no Manifest to list */
			member = NULL;
		}
		g_free(id);
		tree_listing_release(&child);
	}
	sidecar_release(&sc);
	g_free(crel);
	g_free(cabs);
	return member;
}

json_t *pres_collection_build(const struct pres_context *c, const char *rel,
			      struct iiifd_error *err)
{
	char *abs = g_build_filename(c->root_real, rel, NULL);
	struct tree_listing l;
	json_t *coll = NULL;
	if (tree_list(c->root_real, abs, &l, err) == 0) {
		if (*rel && !l.has_subfolders) {
			iiifd_error_set(err, 404, "this folder is a Manifest, not a Collection");
		} else {
			struct sidecar sc;
			manifest_sidecar(abs, &l, "collection.yml", &sc);
			char *id = pres_url_collection(c, rel);
			char *name = *rel ? g_path_get_basename(rel) : g_path_get_basename(abs);
			coll = manifest_skeleton(c, id, "Collection", &sc, name);
			json_t *items = json_array();
			for (size_t i = 0; i < l.count; i++) {
				json_t *member = collection_member(c, rel, abs, &l, &l.entries[i]);
				if (member)
					json_array_append_new(items, member);
			}
			json_object_set_new(coll, "items", items);
			sidecar_release(&sc);
			g_free(id);
			g_free(name);
		}
		tree_listing_release(&l);
	}
	g_free(abs);
	return coll;
}
