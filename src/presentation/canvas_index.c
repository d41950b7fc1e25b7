/*
 * canvas_index.c: walks a Manifest's files as canvas.c does (same listing, same probes through
 * the shared caches, same skipping of unreadable files), so Canvas numbers agree.
 */
#include "presentation/canvas_index.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "media/probe.h"
#include "presentation/tree.h"

static int index_push(struct pres_canvas_index *idx, const char *file, int page, int64_t w,
		      int64_t h, double duration)
{
	struct pres_canvas_ref *items = realloc(idx->items, sizeof *items * (idx->count + 1));
	if (!items)
		return -1;
	idx->items = items;
	items[idx->count] = (struct pres_canvas_ref){ strdup(file), page, w, h, duration };
	idx->count++;
	return 0;
}

static void index_add_file(const struct pres_context *c, struct pres_canvas_index *idx,
			   const char *rel, enum tree_kind kind)
{
	struct iiifd_error err = { 0 };
	char *abs = g_build_filename(c->root_real, rel, NULL);
	if (kind == TREE_IMAGE) {
		int npages = 1;
		for (int page = 0; page < npages; page++) {
			const struct image_source *src =
				image_source_cache_get(c->sources, abs, page, &err);
			if (!src)
				break;
			npages = src->npages;
			index_push(idx, rel, page, src->width, src->height, 0);
			image_source_cache_put(c->sources, src);
		}
	} else if (kind == TREE_MEDIA) {
		struct media_info m;
		if (media_probe_cached(c->media, abs, &m, &err) == 0)
			index_push(idx, rel, 0, m.kind == MEDIA_VIDEO ? m.width : 0,
				   m.kind == MEDIA_VIDEO ? m.height : 0, m.duration);
	}
	g_free(abs);
}

int pres_canvas_index_build(const struct pres_context *c, const char *rel, bool is_folder,
			    struct pres_canvas_index *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (!is_folder) {
		index_add_file(c, out, rel, tree_classify(rel));
	} else {
		struct tree_listing l;
		char *abs = g_build_filename(c->root_real, rel, NULL);
		int rc = tree_list(c->root_real, abs, &l, err);
		g_free(abs);
		if (rc < 0)
			return -1;
		for (size_t i = 0; !l.has_subfolders && i < l.count; i++) {
			char *frel = pres_join(rel, l.entries[i].name);
			index_add_file(c, out, frel, l.entries[i].kind);
			g_free(frel);
		}
		tree_listing_release(&l);
	}
	if (out->count == 0)
		return iiifd_error_set(err, 404, "no Manifest with Canvases here");
	out->manifest_id = pres_url_manifest(c, rel);
	return 0;
}

void pres_canvas_index_release(struct pres_canvas_index *idx)
{
	for (size_t i = 0; i < idx->count; i++)
		free(idx->items[i].file);
	free(idx->items);
	g_free(idx->manifest_id);
	memset(idx, 0, sizeof *idx);
}

size_t pres_canvas_index_find(const struct pres_canvas_index *idx, const char *file, int page)
{
	for (size_t i = 0; i < idx->count; i++)
		if (idx->items[i].page == page && strcmp(idx->items[i].file, file) == 0)
			return i + 1;
	return 0;
}

char *pres_manifest_of_file(const char *root_real, const char *file, bool *is_folder)
{
	char *folder = g_path_get_dirname(file);
	if (strcmp(folder, ".") == 0) {
		g_free(folder);
		*is_folder = false; /* files in the root Collection are Manifests of their own */
		return g_strdup(file);
	}
	char *abs = g_build_filename(root_real, folder, NULL);
	struct tree_listing l;
	struct iiifd_error err = { 0 };
	bool collection = tree_list(root_real, abs, &l, &err) < 0 || l.has_subfolders;
	if (err.http_status == 0)
		tree_listing_release(&l);
	g_free(abs);
	*is_folder = !collection;
	if (collection) {
		g_free(folder);
		return g_strdup(file);
	}
	return folder;
}
