/*
 * canvas.c: builds Canvas JSON. Dimensions come from the same probes the Image API uses, and
 * durations from libavformat, so what a Canvas claims is what the services deliver.
 */
#include "presentation/canvas.h"

#include <ctype.h>
#include <glib.h>
#include <string.h>

#include "annotation/ingest.h"
#include "core/log.h"
#include "db/db.h"
#include "maps/serve.h"
#include "media/probe.h"
#include "presentation/language.h"
#include "presentation/sidecar.h"

#define PRES_WAVEFORM_WIDTH 1200
#define PRES_WAVEFORM_HEIGHT 300

json_t *pres_label(const char *text)
{
	return json_pack("{s:[s]}", "none", text);
}

char *pres_label_text(const json_t *map)
{
	const char *key;
	json_t *values;
	json_object_foreach((json_t *)map, key, values)
		if (json_string_value(json_array_get(values, 0)))
			return g_strdup(json_string_value(json_array_get(values, 0)));
	return g_strdup("");
}

/* The file name without its extension: the default label. */
static char *canvas_stem(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && dot != name ? g_strndup(name, (gsize)(dot - name)) : g_strdup(name);
}

/* An AnnotationPage with one painting Annotation of body on canvas_id. Steals body. */
static json_t *canvas_painting_page(const char *canvas_id, json_t *body)
{
	char *page = g_strdup_printf("%s/page", canvas_id);
	char *anno = g_strdup_printf("%s/page/1", canvas_id);
	json_t *p = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:o, s:s}]}", "id", page, "type",
			      "AnnotationPage", "items", "id", anno, "type", "Annotation",
			      "motivation", "painting", "body", body, "target", canvas_id);
	g_free(page);
	g_free(anno);
	return p;
}

/* {"id": "{canvas}/annotations/{name}", "type": "AnnotationPage"} (with a label when given). */
static json_t *canvas_page_ref(const char *canvas_id, const char *name, const char *label)
{
	char *id = g_strdup_printf("%s/annotations/%s", canvas_id, name);
	json_t *ref = json_pack("{s:s, s:s}", "id", id, "type", "AnnotationPage");
	if (label)
		json_object_set_new(ref, "label", json_pack("{s:[s]}", "none", label));
	g_free(id);
	return ref;
}

/*
 * Lists the store's AnnotationPages of the Canvas in its annotations: one per motivation, with
 * OCR in one granularity only, so each line of text shows once. Lines are listed and the words
 * page (DB_PAGE_WORDS) is linked from seeAlso, or the other way round with canvas-words. On an
 * audio or video Canvas with caption files, the caption files are its supplementing annotations:
 * their cues are in the store for search (hits target #t=), but a second page of them would show
 * every caption twice, so the store's supplementing page is not listed there.
 */
/*
 * Whether an OCR file (ALTO "name.xml" or hOCR "name.hocr") next to the image f is waiting to
 * be imported: its lines and words pages will exist then, so the Manifest lists them already
 * (a request for them waits for the import).
 */
static bool canvas_ocr_importing(const struct pres_context *c, const struct pres_file *f,
				 int page)
{
	if (!c->ingest || f->kind != TREE_IMAGE || page != 0 || !f->folder)
		return false;
	char *stem = canvas_stem(f->name), *dir = g_path_get_dirname(f->rel);
	const char *folder = strcmp(dir, ".") ? dir : "";
	bool found = false;
	for (int k = 0; k < 2 && !found; k++) {
		char *name = g_strdup_printf("%s.%s", stem, k ? "hocr" : "xml");
		char *src = *folder ? g_strdup_printf("%s/%s", folder, name) : g_strdup(name);
		for (size_t i = 0; i < f->folder->companion_count && !found; i++)
			found = !strcmp(f->folder->companions[i], name) &&
				ingest_queue_pending(c->ingest, src);
		g_free(src);
		g_free(name);
	}
	g_free(stem);
	g_free(dir);
	return found;
}

/* Appends name to the list of page names unless it is there (names: malloc'd strings). */
static void canvas_add_name(char ***names, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return;
	char **grown = realloc(*names, (*n + 1) * sizeof **names);
	if (!grown)
		return;
	*names = grown;
	if ((grown[*n] = strdup(name)))
		(*n)++;
}

/*
 * Lists the store's pages of the Canvas in its annotations; returns whether the store holds
 * georeferencing for it (embedded by canvas_georef(), not listed as a page here).
 */
static bool canvas_annotation_refs(const struct pres_context *c, json_t *canvas,
				   const char *canvas_id, const struct pres_file *f, int page)
{
	bool has_captions = json_object_get(canvas, "annotations") != NULL, georef = false;
	char **names = NULL;
	size_t n = 0;
	if (!c->db || db_target_motivations(c->db, f->rel, page, &names, &n, NULL) < 0)
		return false;
	if (n == 0 && canvas_ocr_importing(c, f, page)) {
		canvas_add_name(&names, &n, "supplementing");
		canvas_add_name(&names, &n, DB_PAGE_WORDS);
	}
	bool words = false, lines = false;
	for (size_t i = 0; i < n; i++) {
		words |= strcmp(names[i], DB_PAGE_WORDS) == 0;
		lines |= strcmp(names[i], "supplementing") == 0;
	}
	/* the level not listed, when both exist: linked from seeAlso */
	const char *aside = words && lines ? (c->words_listed ? "supplementing" : DB_PAGE_WORDS)
					   : NULL;
	json_t *refs = json_object_get(canvas, "annotations");
	if (!refs) {
		refs = json_array();
		json_object_set_new(canvas, "annotations", refs);
	}
	for (size_t i = 0; i < n; i++) {
		bool captioned = has_captions && strcmp(names[i], "supplementing") == 0;
		if (strcmp(names[i], MAPS_PAGE_NAME) == 0)
			georef = true; /* embedded by canvas_georef(), not a page of its own */
		else if (aside && strcmp(names[i], aside) == 0)
			json_object_set_new(canvas, "seeAlso",
					    json_pack("[o]", canvas_page_ref(canvas_id, aside,
						      c->words_listed ? "Lines of text"
								      : "Words of text")));
		else if (!captioned)
			json_array_append_new(refs, canvas_page_ref(canvas_id, names[i], NULL));
		free(names[i]);
	}
	free(names);
	if (json_array_size(refs) == 0)
		json_object_del(canvas, "annotations");
	return georef;
}

/*
 * Georeferencing for an image Canvas: the files next to a single-page image, and what the write
 * API stored for the Canvas (read only when stored says the store has some).
 */
static void canvas_georef(const struct pres_context *c, json_t *canvas,
			  const struct maps_canvas *cv, const struct pres_file *f,
			  const struct pres_canvas_spec *spec, bool stored)
{
	struct anno_list list = { 0 };
	if (stored && db_list_target(c->db, f->rel, spec->page, MAPS_PAGE_NAME, &list, NULL) < 0)
		list.count = 0;
	struct maps_stored *st = g_new0(struct maps_stored, list.count + 1);
	char **ids = g_new0(char *, list.count + 1);
	for (size_t i = 0; i < list.count; i++) {
		ids[i] = g_strdup_printf("%s/annotations/%s", cv->manifest_id, list.items[i].id);
		st[i] = (struct maps_stored){ .id = ids[i], .key = list.items[i].id,
					      .json = list.items[i].text };
	}
	bool files = spec->npages == 1 && f->folder;
	maps_canvas_decorate(canvas, cv, &(struct maps_sources){
		.abs = files ? f->abs : NULL, .companions = files ? f->folder->companions : NULL,
		.companion_count = files ? f->folder->companion_count : 0, .stored = st,
		.stored_count = list.count });
	g_strfreev(ids);
	g_free(st);
	anno_list_release(&list);
}

static void canvas_merge_props(json_t *canvas, const json_t *props)
{
	if (props && json_is_object(props))
		json_object_update(canvas, (json_t *)props);
}

static json_t *canvas_image_page(const struct pres_context *c, const char *canvas_id,
				 const struct pres_file *f, const struct pres_canvas_spec *spec,
				 const char *label)
{
	char *ident = pres_image_identifier(f->rel, spec->page, spec->npages);
	json_t *canvas = json_pack("{s:s, s:s, s:o, s:I, s:I}", "id", canvas_id, "type", "Canvas",
				   "label", pres_label(label), "height", (json_int_t)spec->height,
				   "width", (json_int_t)spec->width);
	json_t *thumb = pres_thumbnail(c, ident, spec->width, spec->height);
	if (thumb)
		json_object_set_new(canvas, "thumbnail", json_pack("[o]", thumb));
	json_object_set_new(canvas, "items",
			    json_pack("[o]", canvas_painting_page(
						     canvas_id, pres_image_body(c, ident, spec->width,
										spec->height))));
	g_free(ident);
	return canvas;
}

static json_t *canvas_image(const struct pres_context *c, const char *id,
			    const struct pres_file *f, const struct pres_canvas_spec *spec)
{
	char *stem = canvas_stem(f->name);
	char *label = spec->npages > 1 ? g_strdup_printf("%s (%d)", stem, spec->page + 1)
				       : g_strdup(stem);
	json_t *canvas = canvas_image_page(c, id, f, spec, label);
	g_free(label);
	g_free(stem);
	return canvas;
}

/* "name.vtt" -> NULL language, "name.fr.vtt" -> "fr"; 0 when caption is not for stem. */
static int canvas_caption_language(const char *caption, const char *stem, char *lang, size_t n)
{
	size_t sl = strlen(stem), cl = strlen(caption);
	if (cl < sl + 4 || strncmp(caption, stem, sl) != 0 || strcmp(caption + cl - 4, ".vtt") != 0)
		return 0;
	const char *mid = caption + sl;
	size_t ml = cl - sl - 4; /* "" or ".fr" */
	lang[0] = '\0';
	if (ml == 0)
		return 1;
	if (mid[0] != '.' || ml - 1 >= n || ml < 3)
		return 0;
	for (size_t i = 1; i < ml; i++)
		if (!isalnum((unsigned char)mid[i]) && mid[i] != '-')
			return 0;
	memcpy(lang, mid + 1, ml - 1);
	lang[ml - 1] = '\0';
	return 1;
}

static json_t *canvas_caption(const struct pres_context *c, const char *canvas_id, int k,
			      const char *folder_rel, const char *caption, const char *lang)
{
	char *rel = pres_join(folder_rel, caption);
	char *url = pres_url_media(c, rel);
	char *id = g_strdup_printf("%s/captions/%d", canvas_id, k);
	json_t *body = json_pack("{s:s, s:s, s:s}", "id", url, "type", "Text", "format", "text/vtt");
	/* viewers list a track by its label: the language's own name, not the file name */
	const char *name = pres_language_name(lang);
	if (*lang) {
		json_object_set_new(body, "language", json_string(lang));
		json_object_set_new(body, "label", json_pack("{s:[s]}", lang, name ? name : lang));
	} else {
		json_object_set_new(body, "label", json_pack("{s:[s]}", "none", "Captions"));
	}
	json_t *anno = json_pack("{s:s, s:s, s:s, s:o, s:s}", "id", id, "type", "Annotation",
				 "motivation", "supplementing", "body", body, "target", canvas_id);
	g_free(rel);
	g_free(url);
	g_free(id);
	return anno;
}

/* The supplementing AnnotationPage of a media file's captions, or NULL when it has none. */
static json_t *canvas_captions(const struct pres_context *c, const char *canvas_id,
			       const struct pres_file *f)
{
	char *stem = canvas_stem(f->name), lang[16];
	char *folder_rel = g_path_get_dirname(f->rel);
	const char *folder = strcmp(folder_rel, ".") == 0 ? "" : folder_rel;
	json_t *annos = json_array();
	for (size_t i = 0; i < f->folder->companion_count; i++)
		if (canvas_caption_language(f->folder->companions[i], stem, lang, sizeof lang))
			json_array_append_new(annos,
					      canvas_caption(c, canvas_id,
							     (int)json_array_size(annos) + 1, folder,
							     f->folder->companions[i], lang));
	g_free(stem);
	g_free(folder_rel);
	if (json_array_size(annos) == 0) {
		json_decref(annos);
		return NULL;
	}
	char *id = g_strdup_printf("%s/captions", canvas_id);
	json_t *page = json_pack("{s:s, s:s, s:o}", "id", id, "type", "AnnotationPage", "items",
				 annos);
	g_free(id);
	return page;
}

/* A Canvas showing the video's poster frame or the audio's waveform. */
static json_t *canvas_placeholder(const struct pres_context *c, const char *canvas_id,
				  const struct pres_file *f, const struct media_info *m)
{
	int64_t w = m->kind == MEDIA_VIDEO ? m->width : PRES_WAVEFORM_WIDTH;
	int64_t h = m->kind == MEDIA_VIDEO ? m->height : PRES_WAVEFORM_HEIGHT;
	char *base_ident = pres_image_identifier(f->rel, 0, 1);
	char *ident = g_strdup_printf("%s;%s", base_ident,
				      m->kind == MEDIA_VIDEO ? "poster" : "waveform");
	char *id = g_strdup_printf("%s/placeholder", canvas_id);
	json_t *p = json_pack("{s:s, s:s, s:o, s:I, s:I, s:[o]}", "id", id, "type", "Canvas",
			      "label",
			      pres_label(m->kind == MEDIA_VIDEO ? "Poster frame" : "Waveform"),
			      "height", (json_int_t)h, "width", (json_int_t)w, "items",
			      canvas_painting_page(id, pres_image_body(c, ident, w, h)));
	g_free(base_ident);
	g_free(ident);
	g_free(id);
	return p;
}

static json_t *canvas_media_body(const struct pres_context *c, const struct pres_file *f,
				 const struct media_info *m)
{
	char *url = pres_url_media(c, f->rel);
	json_t *body = json_pack("{s:s, s:s, s:s, s:f}", "id", url, "type",
				 m->kind == MEDIA_VIDEO ? "Video" : "Sound", "format", m->mime,
				 "duration", m->duration);
	if (m->kind == MEDIA_VIDEO) {
		json_object_set_new(body, "width", json_integer(m->width));
		json_object_set_new(body, "height", json_integer(m->height));
	}
	g_free(url);
	return body;
}

static json_t *canvas_media(const struct pres_context *c, const char *id,
			    const struct pres_file *f, const struct media_info *m)
{
	char *stem = canvas_stem(f->name);
	json_t *canvas = json_pack("{s:s, s:s, s:o, s:f}", "id", id, "type", "Canvas", "label",
				   pres_label(stem), "duration", m->duration);
	if (m->kind == MEDIA_VIDEO) {
		json_object_set_new(canvas, "height", json_integer(m->height));
		json_object_set_new(canvas, "width", json_integer(m->width));
	}
	json_t *thumb = pres_file_thumbnail(c, f);
	if (thumb)
		json_object_set_new(canvas, "thumbnail", json_pack("[o]", thumb));
	json_object_set_new(canvas, "placeholderCanvas", canvas_placeholder(c, id, f, m));
	json_object_set_new(canvas, "items",
			    json_pack("[o]", canvas_painting_page(id, canvas_media_body(c, f, m))));
	json_t *captions = canvas_captions(c, id, f);
	if (captions)
		json_object_set_new(canvas, "annotations", json_pack("[o]", captions));
	g_free(stem);
	return canvas;
}

size_t pres_file_canvases(const struct pres_context *c, const char *abs, enum tree_kind kind,
			  struct pres_canvas_spec **out, struct iiifd_error *err)
{
	*out = NULL;
	size_t n = 0;
	if (kind == TREE_MEDIA) {
		struct pres_canvas_spec spec = { .page = 0, .npages = 1 };
		if (media_probe_cached(c->media, abs, &spec.media, err) < 0)
			return 0;
		bool video = spec.media.kind == MEDIA_VIDEO;
		spec.width = video ? spec.media.width : 0;
		spec.height = video ? spec.media.height : 0;
		*out = g_memdup2(&spec, sizeof spec);
		return 1;
	}
	for (int page = 0, npages = 1; kind == TREE_IMAGE && page < npages; page++) {
		const struct image_source *src = image_source_cache_get(c->sources, abs, page, err);
		if (!src)
			break;
		npages = src->npages;
		*out = g_realloc_n(*out, n + 1, sizeof **out);
		(*out)[n++] = (struct pres_canvas_spec){ .page = page, .npages = npages,
							  .width = src->width,
							  .height = src->height };
		image_source_cache_put(c->sources, src);
	}
	return n;
}

json_t *pres_file_thumbnail(const struct pres_context *c, const struct pres_file *f)
{
	struct iiifd_error err = { 0 };
	json_t *thumb = NULL;
	char *ident = pres_image_identifier(f->rel, 0, 1);
	if (f->kind == TREE_IMAGE) {
		const struct image_source *src = image_source_cache_get(c->sources, f->abs, 0, &err);
		if (src) {
			g_free(ident);
			ident = pres_image_identifier(f->rel, 0, src->npages);
			thumb = pres_thumbnail(c, ident, src->width, src->height);
			image_source_cache_put(c->sources, src);
		}
	} else if (f->kind == TREE_MEDIA) {
		struct media_info m;
		if (media_probe_cached(c->media, f->abs, &m, &err) == 0) {
			bool video = m.kind == MEDIA_VIDEO;
			char *derived = g_strdup_printf("%s;%s", ident, video ? "poster" : "waveform");
			thumb = pres_thumbnail(c, derived, video ? m.width : PRES_WAVEFORM_WIDTH,
					       video ? m.height : PRES_WAVEFORM_HEIGHT);
			g_free(derived);
		}
	}
	g_free(ident);
	return thumb;
}

int pres_canvases_add(const struct pres_context *c, const char *manifest_id,
		      const struct pres_file *f, const json_t *props, json_t *items, int *next,
		      json_t *ids)
{
	struct iiifd_error err = { 0 };
	struct pres_canvas_spec *specs;
	size_t n = pres_file_canvases(c, f->abs, f->kind, &specs, &err);
	if (err.http_status && sidecar_report_once(f->abs, "canvas")) /* once per file version */
		log_warn("%s: %s its manifest: %s", f->abs, n ? "pages left out of" : "left out of",
			 err.msg);
	for (size_t i = 0; i < n; i++) {
		char *id = g_strdup_printf("%s/canvas/%d", manifest_id, (*next)++);
		json_t *canvas = f->kind == TREE_MEDIA ? canvas_media(c, id, f, &specs[i].media)
						       : canvas_image(c, id, f, &specs[i]);
		bool stored = canvas_annotation_refs(c, canvas, id, f, specs[i].page);
		if (f->kind == TREE_IMAGE)
			canvas_georef(c, canvas, &(struct maps_canvas){ .canvas_id = id,
				      .manifest_id = manifest_id, .width = (double)specs[i].width,
				      .height = (double)specs[i].height }, f, &specs[i], stored);
		canvas_merge_props(canvas, props);
		json_array_append_new(items, canvas);
		json_array_append_new(ids, json_string(id));
		g_free(id);
	}
	g_free(specs);
	return (int)n;
}
