/*
 * dataset.c: `iiifd dataset SCOPE --format F --out DIR`: reads the chosen annotations of the
 * Manifests below SCOPE from the store, groups them by Canvas (with the Canvas, Image service and
 * rights from the Manifest as served), renders each image or crop through the Image API pipeline
 * and hands it to the format's writer, with a provenance line per image and a progress bar.
 */
#include "tools/dataset.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/georef.h"
#include "auth/policy.h"
#include "auth/state.h"
#include "core/config.h"
#include "db/db.h"
#include "image/pipeline.h"
#include "presentation/canvas_index.h"
#include "presentation/manifest.h"
#include "tools/cli.h"
#include "tools/progress.h"

struct dataset_run {
	const struct dataset_opts *o;
	struct dataset_remote *remote; /* NULL: the local store and images */
	struct pres_context c;
	struct db *db;
	GPtrArray *canvases;  /* struct dataset_canvas * */
	GHashTable *by_key;   /* "file\npage" -> canvas */
	GHashTable *labels;   /* label set */
	FILE *provenance;
	struct dataset_writer *w;
	struct tools_progress progress;
	int written, failed;
	struct auth_state *auth; /* owned; the root's access policies (auth/) */
	int protected_left;      /* Canvases left out for their access policy */
};

void dataset_canvas_free(void *p)
{
	struct dataset_canvas *c = p;
	g_free(c->manifest);
	g_free(c->manifest_id);
	g_free(c->canvas_id);
	g_free(c->service_id);
	g_free(c->rights);
	g_free(c->file);
	anno_list_release(&c->records);
	g_free(c);
}

static bool dataset_in(gchar **list, const char *v)
{
	if (!list)
		return true;
	for (gchar **p = list; *p; p++)
		if (v && strcmp(*p, v) == 0)
			return true;
	return false;
}

bool dataset_rights_ok(gchar **prefixes, const char *rights)
{
	if (!prefixes)
		return true;
	for (gchar **p = prefixes; *p; p++)
		if (rights && g_str_has_prefix(rights, *p))
			return true;
	return false;
}

/* The Canvas of a record: made from the Manifest as served, the first time it is met. */
/*
 * Whether the images and text of file (below the root) are open to everyone: a training set
 * leaves the library, so what an access policy protects stays out unless --include-protected.
 */
static bool dataset_open_to_all(struct dataset_run *run, const char *file)
{
	if (run->o->include_protected)
		return true;
	char *abs = g_build_filename(run->c.root_real, file, NULL);
	struct auth_policy *p = auth_policy_for(run->auth, abs);
	time_t now = time(NULL);
	bool open = !p || (auth_policy_is_open(auth_policy_kind(p, AUTH_RES_IMAGE), now) &&
			   auth_policy_is_open(auth_policy_kind(p, AUTH_RES_TEXT), now));
	auth_policy_put(p);
	g_free(abs);
	return open;
}

static struct dataset_canvas *dataset_canvas_of(struct dataset_run *run,
						const struct anno_record *r, struct iiifd_error *err)
{
	char *key = g_strdup_printf("%s\n%d", r->target_file, r->page);
	struct dataset_canvas *c = g_hash_table_lookup(run->by_key, key);
	if (c || g_hash_table_contains(run->by_key, key)) {
		g_free(key);
		return c;
	}
	if (!dataset_open_to_all(run, r->target_file)) {
		run->protected_left++;
		g_hash_table_insert(run->by_key, key, NULL);
		return NULL;
	}
	bool folder = false;
	char *manifest = pres_manifest_of_file(run->c.root_real, r->target_file, &folder);
	struct pres_canvas_index idx = {0};
	json_t *doc = NULL;
	size_t n = 0;
	if (pres_canvas_index_build(&run->c, manifest, folder, &idx, err) == 0 &&
	    (n = pres_canvas_index_find(&idx, r->target_file, r->page)) > 0 &&
	    idx.items[n - 1].width > 0)
		doc = pres_manifest_build(&run->c, manifest, folder, err);
	json_t *canvas = doc ? json_array_get(json_object_get(doc, "items"), n - 1) : NULL;
	json_t *body = json_object_get(json_array_get(json_object_get(json_array_get(
		json_object_get(canvas, "items"), 0), "items"), 0), "body");
	const char *service = json_string_value(
		json_object_get(json_array_get(json_object_get(body, "service"), 0), "id"));
	const char *rights = json_string_value(json_object_get(doc, "rights"));
	if (service && dataset_rights_ok(run->o->rights, rights)) {
		c = g_new0(struct dataset_canvas, 1);
		c->manifest = g_strdup(manifest);
		c->manifest_id = g_strdup(json_string_value(json_object_get(doc, "id")));
		c->canvas_id = g_strdup(json_string_value(json_object_get(canvas, "id")));
		c->service_id = g_strdup(service);
		c->rights = g_strdup(rights);
		c->file = g_strdup(r->target_file);
		c->page = r->page;
		c->width = idx.items[n - 1].width;
		c->height = idx.items[n - 1].height;
		c->split = dataset_split_of(manifest, run->o->seed, run->o->train, run->o->val);
		g_ptr_array_add(run->canvases, c);
	}
	g_hash_table_insert(run->by_key, key, c); /* NULL: a Canvas left out (rights, audio) */
	json_decref(doc);
	pres_canvas_index_release(&idx);
	g_free(manifest);
	return c;
}

bool dataset_wanted(const struct dataset_opts *o, const struct anno_record *r)
{
	if (anno_georef_record(r)) /* its text is the annotation's JSON, not a label */
		return false;
	if (o->has_score && !(r->has_score && r->score >= o->score_min && r->score <= o->score_max))
		return false;
	if (!r->text || !*r->text || (!r->has_xywh && o->crops))
		return false;
	if (o->granularity && !(r->granularity && strcmp(r->granularity, o->granularity) == 0))
		return false;
	return dataset_in(o->labels, r->text);
}

/* Reads the chosen records of the scope page by page into their Canvases. */
static int dataset_gather(struct dataset_run *run, struct iiifd_error *err)
{
	const struct dataset_opts *o = run->o;
	const char *motivations[2] = {o->motivation, NULL};
	int64_t after = 0, next = 0;
	struct db_query q = {.scope = o->scope, .scope_is_folder = true,
			     .motivations = o->motivation ? motivations : NULL, .limit = 1000,
			     .keyset = true, .next_after = &next, .has_score = o->has_score,
			     .score_min = o->score_min, .score_max = o->score_max};
	for (;;) {
		struct anno_list page = {0};
		int64_t total;
		q.after = after;
		if (db_search(run->db, &q, &page, &total, err) < 0)
			return -1;
		for (size_t i = 0; i < page.count; i++) {
			struct anno_record *r = &page.items[i];
			struct dataset_canvas *c = dataset_wanted(o, r) ? dataset_canvas_of(run, r, err)
									: NULL;
			struct anno_record *keep = c ? anno_list_add(&c->records) : NULL;
			if (keep) {
				*keep = *r;
				memset(r, 0, sizeof *r);
				g_hash_table_add(run->labels, g_strdup(keep->text));
			}
		}
		size_t n = page.count;
		anno_list_release(&page);
		if (n == 0 || next == 0)
			return 0;
		after = next;
	}
}

/* "books/b1" canvas 3 (crop 2) -> "books-b1_p3_7.jpg": unique, stable, safe as a file name. */
static void dataset_name(struct dataset_sample *s, size_t k)
{
	const struct dataset_canvas *c = s->canvas;
	const char *base = strrchr(c->file, '/');
	char stem[96];
	snprintf(stem, sizeof stem, "%s", base ? base + 1 : c->file);
	char *dot = strrchr(stem, '.');
	if (dot)
		*dot = '\0';
	char *m = g_strdup(c->manifest);
	for (char *p = m; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			*p = '-';
	for (char *p = stem; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			*p = '-';
	if (k)
		snprintf(s->name, sizeof s->name, "%.60s_%.60s_p%d_%zu.jpg", m, stem, c->page, k);
	else
		snprintf(s->name, sizeof s->name, "%.60s_%.60s_p%d.jpg", m, stem, c->page);
	g_free(m);
}

/* Renders the sample's region at the chosen size as JPEG into its file. */
static int dataset_render(struct dataset_run *run, const struct image_source *src,
			  struct dataset_sample *s, struct iiifd_error *err)
{
	char region[96];
	snprintf(region, sizeof region, "%lld,%lld,%lld,%lld", (long long)s->rx, (long long)s->ry,
		 (long long)s->rw, (long long)s->rh);
	struct image_request req;
	struct image_geometry g;
	struct image_encode_options enc = {.jpeg_quality = 90, .webp_quality = 80};
	void *bytes = NULL;
	size_t len = 0;
	if (run->remote) {
		if (dataset_remote_pixels(run->remote, s, run->o->size, &bytes, &len, &s->out_w,
					  &s->out_h, err->msg, sizeof err->msg) < 0)
			return -1;
	} else if (image_request_parse(IMAGE_API_V3, region, run->o->size, "0", "default.jpg",
				       &req, err) < 0 ||
		   image_request_resolve(&req, src->width, src->height, &run->c.limits, &g, err) <
			   0 ||
		   image_pipeline_render(src, &req, &g, &enc, &bytes, &len, err) < 0) {
		return -1;
	} else {
		s->out_w = g.out_w;
		s->out_h = g.out_h;
	}
	const char *dir = dataset_writer_image_dir(run->w, s->canvas->split);
	s->path = g_strdup_printf("%s/%s", dir, s->name);
	char *abs = g_strdup_printf("%s/%s", run->o->out, s->path);
	char *folder = g_path_get_dirname(abs);
	g_mkdir_with_parents(folder, 0755);
	int rc = g_file_set_contents(abs, bytes, (gssize)len, NULL)
			 ? 0
			 : iiifd_error_set(err, 500, "cannot write %s", abs);
	g_free(folder);
	g_free(abs);
	g_free(bytes);
	return rc;
}

static int dataset_emit(struct dataset_run *run, const struct image_source *src,
			struct dataset_sample *s, struct iiifd_error *err)
{
	char msg[256];
	if (dataset_render(run, src, s, err) < 0)
		return -1;
	if (dataset_writer_add(run->w, s, msg, sizeof msg) < 0)
		return iiifd_error_set(err, 500, "%s", msg);
	char *line = dataset_provenance(s, run->o->size);
	fprintf(run->provenance, "%s\n", line);
	g_free(line);
	run->written++;
	return 0;
}

/* The samples of one Canvas: the whole page, or one crop per annotation. */
static int dataset_canvas_samples(struct dataset_run *run, const struct dataset_canvas *c,
				  struct iiifd_error *err)
{
	struct image_source src = {0};
	int rc = 0;
	if (!run->remote) {
		char *abs = g_build_filename(run->c.root_real, c->file, NULL);
		rc = image_source_open(abs, c->page, &src, err);
		g_free(abs);
	}
	if (rc < 0)
		return -1;
	struct dataset_sample s = {.canvas = c, .rw = c->width, .rh = c->height};
	if (!run->o->crops) {
		dataset_name(&s, 0);
		rc = dataset_emit(run, &src, &s, err);
		g_free(s.path);
	}
	for (size_t k = 0; run->o->crops && rc == 0 && k < c->records.count; k++) {
		const struct anno_record *r = &c->records.items[k];
		s = (struct dataset_sample){.canvas = c, .only = r};
		s.rx = (int64_t)floor(r->x), s.ry = (int64_t)floor(r->y);
		s.rw = (int64_t)ceil(r->x + r->w) - s.rx, s.rh = (int64_t)ceil(r->y + r->h) - s.ry;
		s.rw = s.rx + s.rw > c->width ? c->width - s.rx : s.rw;
		s.rh = s.ry + s.rh > c->height ? c->height - s.ry : s.rh;
		if (s.rw <= 0 || s.rh <= 0)
			continue;
		dataset_name(&s, k + 1);
		rc = dataset_emit(run, &src, &s, err);
		g_free(s.path);
	}
	if (!run->remote)
		image_source_release(&src);
	return rc;
}

static int dataset_by_canvas(gconstpointer a, gconstpointer b)
{
	const struct dataset_canvas *x = *(struct dataset_canvas *const *)a;
	const struct dataset_canvas *y = *(struct dataset_canvas *const *)b;
	int c = strcmp(x->file, y->file);
	return c ? c : x->page - y->page;
}

static int dataset_by_label(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Renders and writes every Canvas's samples, then the writer's own files. */
static int dataset_write_all(struct dataset_run *run, struct iiifd_error *err)
{
	guint n_labels = 0;
	char **labels = (char **)g_hash_table_get_keys_as_array(run->labels, &n_labels);
	qsort(labels, n_labels, sizeof *labels, dataset_by_label);
	g_ptr_array_sort(run->canvases, dataset_by_canvas);
	char *prov = g_strdup_printf("%s/provenance.jsonl", run->o->out);
	run->provenance = fopen(prov, "w");
	int rc = run->provenance ? 0 : iiifd_error_set(err, 500, "cannot write %s", prov);
	run->w = dataset_writer_new(run->o->format, run->o->out, labels, n_labels);
	tools_progress_start(&run->progress, "dataset", "Canvases", run->canvases->len, 0, false,
			     run->o->quiet);
	for (guint i = 0; rc == 0 && i < run->canvases->len; i++) {
		const struct dataset_canvas *c = g_ptr_array_index(run->canvases, i);
		struct iiifd_error one = {0};
		int failed = dataset_canvas_samples(run, c, &one) < 0;
		if (failed) {
			tools_progress_print(&run->progress, stderr, "iiifd dataset: %s page %d: %s\n",
					     c->file, c->page + 1, one.msg);
			run->failed++;
		}
		tools_progress_add(&run->progress, 1, 0, failed);
	}
	tools_progress_finish(&run->progress);
	char msg[256];
	if (rc == 0 && dataset_writer_end(run->w, msg, sizeof msg) < 0)
		rc = iiifd_error_set(err, 500, "%s", msg);
	if (run->provenance && fclose(run->provenance) != 0 && rc == 0)
		rc = iiifd_error_set(err, 500, "cannot write %s", prov);
	run->provenance = NULL;
	dataset_writer_free(run->w);
	run->w = NULL;
	g_free(prov);
	g_free(labels);
	return rc;
}

/* From a remote server: the Manifest or Collection at url. */
static int dataset_run_remote(const struct dataset_opts *o, const char *url)
{
	struct iiifd_error err = {0};
	struct dataset_run run = {.o = o, .remote = dataset_remote_new(o->rate)};
	run.canvases = g_ptr_array_new_with_free_func(dataset_canvas_free);
	run.labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int rc = 1;
	if (!run.remote) {
		fprintf(stderr, "iiifd dataset: libcurl failed to start\n");
	} else if (dataset_remote_gather(run.remote, url, o, run.canvases, run.labels, err.msg,
					 sizeof err.msg) < 0 ||
		   dataset_write_all(&run, &err) < 0) {
		fprintf(stderr, "iiifd dataset: %s\n", err.msg);
	} else {
		printf("%d images from %u Canvases in %s (%lld requests)%s\n", run.written,
		       run.canvases->len, o->out, (long long)dataset_remote_requests(run.remote),
		       run.failed ? "; some Canvases failed (see above)" : "");
		rc = run.failed ? 1 : 0;
	}
	g_ptr_array_free(run.canvases, TRUE);
	g_hash_table_destroy(run.labels);
	dataset_remote_free(run.remote);
	return rc;
}

static int dataset_run_all(const struct iiifd_config *cfg, const struct dataset_opts *o)
{
	char root[PATH_MAX];
	struct iiifd_error err = {0};
	struct dataset_run run = {.o = o};
	/* a shared store (database) when set, else data-dir's file, which must exist */
	char *db_path = *cfg->database ? g_strdup(cfg->database)
				       : g_build_filename(cfg->data_dir, "annotations.sqlite", NULL);
	char *base = *cfg->public_url ? g_strdup(cfg->public_url)
				      : g_strdup_printf("http://%s:%d", cfg->host, cfg->port);
	int rc = 1;
	if (!realpath(cfg->root, root)) {
		fprintf(stderr, "iiifd dataset: root '%s' does not exist\n", cfg->root);
	} else if ((!*cfg->database && !g_file_test(db_path, G_FILE_TEST_IS_REGULAR)) ||
		   db_open(db_path, &run.db, &err) < 0) {
		fprintf(stderr, "iiifd dataset: no annotation store in %s (run iiifd import)\n",
			cfg->data_dir);
	} else {
		run.c = (struct pres_context){.root_real = root, .base = base,
					      .sources = image_source_cache_new(4096),
					      .media = media_probe_cache_new(4096),
					      .limits = {cfg->max_width, cfg->max_height,
							 cfg->max_area, cfg->max_upscale},
					      .db = run.db};
		run.auth = auth_state_new(cfg, root, &err);
		run.canvases = g_ptr_array_new_with_free_func(dataset_canvas_free);
		run.by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		run.labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		if (!run.auth || dataset_gather(&run, &err) < 0 ||
		    dataset_write_all(&run, &err) < 0) {
			fprintf(stderr, "iiifd dataset: %s\n", err.msg);
		} else {
			if (run.protected_left)
				fprintf(stderr, "iiifd dataset: %d Canvases left out: an access policy"
						" protects them (--include-protected takes them in)\n",
					run.protected_left);
			printf("%d images from %u Canvases in %s%s\n", run.written,
			       run.canvases->len, o->out,
			       run.failed ? "; some Canvases failed (see above)" : "");
			rc = run.failed ? 1 : 0;
		}
		g_ptr_array_free(run.canvases, TRUE);
		g_hash_table_destroy(run.by_key);
		g_hash_table_destroy(run.labels);
		auth_state_free(run.auth);
		image_source_cache_free(run.c.sources);
		media_probe_cache_free(run.c.media);
		db_close(run.db);
	}
	g_free(base);
	g_free(db_path);
	return rc;
}

/* ---- command line ---------------------------------------------------------------------------- */

static const char dataset_usage[] =
	"usage: iiifd dataset [--config FILE] [--root ROOT] [--data-dir DIR] [--public-url URL]\n"
	"                     --format coco|yolo|voc|csv|jsonl --out DIR [--motivation M]\n"
	"                     [--label L,L...] [--granularity G] [--min-score S] [--max-score S]\n"
	"                     [--images full|crops] [--size N] [--split TRAIN,VAL,TEST]\n"
	"                     [--seed TEXT] [--rights PREFIX,...] [--include-protected]\n"
	"                     [--rate N] [--quiet] SCOPE\n"
	"  SCOPE: a Manifest or Collection folder below the root (\"\" for all), or the URL of a\n"
	"  remote Presentation 3 Manifest or Collection (at most --rate requests a second, 5)\n";

static int dataset_format_of(const char *name, enum dataset_format *f)
{
	static const char *const names[] = {"coco", "yolo", "voc", "csv", "jsonl"};
	for (int i = 0; name && i < 5; i++)
		if (strcmp(name, names[i]) == 0) {
			*f = (enum dataset_format)i;
			return 0;
		}
	return -1;
}

static int dataset_score(const char *flag, const char *text, double *v)
{
	char *end;
	*v = text ? g_ascii_strtod(text, &end) : 0;
	if (text && (end == text || *end || !(*v >= 0 && *v <= 1))) {
		fprintf(stderr, "iiifd dataset: --%s '%s' is not a number from 0 to 1\n", flag, text);
		return -1;
	}
	return 0;
}

static int dataset_split_arg(const char *text, struct dataset_opts *o)
{
	int t = 80, v = 10, s = 10;
	char extra;
	if (text && (sscanf(text, "%d,%d,%d%c", &t, &v, &s, &extra) != 3 || t < 0 || v < 0 ||
		     s < 0 || t + v + s != 100)) {
		fprintf(stderr, "iiifd dataset: --split '%s' is not TRAIN,VAL,TEST percentages "
				"adding up to 100\n", text);
		return -1;
	}
	o->train = t, o->val = v;
	return 0;
}

/* The values of the dataset's own flags, as given (NULL: absent). */
struct dataset_args {
	const char *format, *labels, *rights, *min, *max, *images, *size, *split, *rate;
};

/* Takes the dataset's value flags out of argv into a and o; -1 when one lacks its value. */
static int dataset_args_take(int *argc, char **argv, struct dataset_opts *o,
			     struct dataset_args *a)
{
	const struct {
		const char *name;
		const char **value;
	} flags[] = {
		{"format", &a->format},	      {"out", &o->out},	       {"motivation", &o->motivation},
		{"granularity", &o->granularity}, {"label", &a->labels}, {"rights", &a->rights},
		{"min-score", &a->min},	      {"max-score", &a->max}, {"images", &a->images},
		{"size", &a->size},	      {"split", &a->split},    {"seed", &o->seed},
		{"rate", &a->rate},
	};
	bool missing = false;
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		bool m;
		*flags[i].value = tools_cli_take_value(argc, argv, flags[i].name, &m);
		missing |= m;
	}
	o->quiet = tools_cli_take_switch(argc, argv, "quiet");
	o->include_protected = tools_cli_take_switch(argc, argv, "include-protected");
	o->seed = o->seed ? o->seed : "iiifd";
	if (missing || !a->format || !o->out) {
		fprintf(stderr, "iiifd dataset: %s\n", missing ? "a flag is missing its value"
							      : "--format and --out are required");
		return -1;
	}
	return 0;
}

/* --format and --images. */
static int dataset_kind_args(const struct dataset_args *a, struct dataset_opts *o)
{
	if (dataset_format_of(a->format, &o->format) < 0) {
		fprintf(stderr, "iiifd dataset: --format '%s' is not coco, yolo, voc, csv or jsonl\n",
			a->format);
		return -1;
	}
	o->crops = o->format == DATASET_CSV || o->format == DATASET_JSONL ||
		   (a->images && strcmp(a->images, "crops") == 0);
	if (a->images && strcmp(a->images, "crops") != 0 && strcmp(a->images, "full") != 0) {
		fprintf(stderr, "iiifd dataset: --images '%s' is not full or crops\n", a->images);
		return -1;
	}
	return 0;
}

/* --size and --rate. */
static int dataset_number_args(const struct dataset_args *a, struct dataset_opts *o,
			       char **size_buf)
{
	int n = 0;
	if (a->size && (tools_cli_int("size", a->size, 1, 65535, &n, &(struct iiifd_error){0}) < 0)) {
		fprintf(stderr, "iiifd dataset: --size '%s' is not a whole number of pixels\n",
			a->size);
		return -1;
	}
	char *end = NULL;
	o->rate = a->rate ? g_ascii_strtod(a->rate, &end) : 5;
	if (a->rate && (end == a->rate || *end || !(o->rate > 0 && o->rate <= 1000))) {
		fprintf(stderr, "iiifd dataset: --rate '%s' is not a number of requests a second "
				"from 0 to 1000\n", a->rate);
		return -1;
	}
	*size_buf = a->size ? g_strdup_printf("!%d,%d", n, n) : g_strdup("max");
	o->size = *size_buf;
	return 0;
}

/* Reads the dataset's own flags out of argv. */
static int dataset_opts_take(int *argc, char **argv, struct dataset_opts *o, char **size_buf)
{
	struct dataset_args a = {0};
	if (dataset_args_take(argc, argv, o, &a) < 0 || dataset_kind_args(&a, o) < 0 ||
	    dataset_number_args(&a, o, size_buf) < 0)
		return -1;
	o->labels = a.labels ? g_strsplit(a.labels, ",", -1) : NULL;
	o->rights = a.rights ? g_strsplit(a.rights, ",", -1) : NULL;
	o->has_score = a.min || a.max;
	if (dataset_score("min-score", a.min, &o->score_min) < 0 ||
	    dataset_score("max-score", a.max, &o->score_max) < 0 ||
	    dataset_split_arg(a.split, o) < 0)
		return -1;
	if (!a.max)
		o->score_max = 1;
	return 0;
}

/* The output folder: created, or an existing empty one. */
static int dataset_out_ready(const char *out)
{
	GDir *d = g_dir_open(out, 0, NULL);
	if (d) {
		bool empty = g_dir_read_name(d) == NULL;
		g_dir_close(d);
		if (!empty)
			fprintf(stderr, "iiifd dataset: %s is not empty\n", out);
		return empty ? 0 : -1;
	}
	if (g_mkdir_with_parents(out, 0755) < 0) {
		fprintf(stderr, "iiifd dataset: cannot create %s\n", out);
		return -1;
	}
	return 0;
}

int tools_dataset_main(int argc, char **argv)
{
	struct dataset_opts o = {.train = 80, .val = 10};
	struct iiifd_config cfg;
	struct iiifd_error err = {0};
	char **flags = calloc((size_t)argc + 1, sizeof *flags);
	char **pos = calloc((size_t)argc + 1, sizeof *pos);
	char *size_buf = NULL, *scope = NULL;
	int nflags = 0, npos = 0, rc = 2;
	iiifd_config_init(&cfg);
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		printf("%s", dataset_usage);
		rc = 0;
	} else if (!flags || !pos || dataset_opts_take(&argc, argv, &o, &size_buf) < 0) {
		fprintf(stderr, "%s", dataset_usage);
	} else if (tools_cli_split_settings(argc, argv, flags, &nflags, pos, &npos, NULL, NULL),
		   npos != 1) {
		fprintf(stderr, "iiifd dataset: give one SCOPE\n%s", dataset_usage);
	} else if (iiifd_config_parse_args(&cfg, nflags, flags, &err) < 0) {
		fprintf(stderr, "iiifd dataset: %s\n%s", err.msg, dataset_usage);
	} else if (dataset_out_ready(o.out) < 0) {
		rc = 1;
	} else if ((g_str_has_prefix(pos[0], "http://") || g_str_has_prefix(pos[0], "https://")) &&
		   tools_cli_vips_start("dataset") == 0) {
		rc = dataset_run_remote(&o, pos[0]);
		tools_cli_vips_stop();
	} else if (tools_cli_vips_start("dataset") == 0) {
		scope = g_strdup(pos[0]);
		while (*scope && scope[strlen(scope) - 1] == '/')
			scope[strlen(scope) - 1] = '\0';
		o.scope = strcmp(scope, ".") == 0 ? "" : scope;
		rc = dataset_run_all(&cfg, &o);
		tools_cli_vips_stop();
	} else {
		rc = 1;
	}
	g_strfreev(o.labels);
	g_strfreev(o.rights);
	g_free(size_buf);
	g_free(scope);
	free(flags);
	free(pos);
	iiifd_config_release(&cfg);
	return rc;
}
