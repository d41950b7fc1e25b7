/*
 * tiles.c: walks the tiles and sizes that info.json advertises and answers each request with the
 * server's own parse/resolve/render code, writing the bytes where a static host will find them.
 */
#include "tools/tiles.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

#include "auth/policy.h"
#include "core/config.h"
#include "image/info.h"
#include "image/passthrough.h"
#include "image/pipeline.h"
#include "tools/cli.h"
#include "tools/progress.h"

#define TILES_PARAM_MAX 96  /* one region or size path segment */
#define TILES_PATH_MAX 256  /* region/size/rotation/quality.format */
#define TILES_ID_MAX 2048

struct tiles_options {
	const char *in;
	char outdir[PATH_MAX - 32]; /* without trailing slashes; room left for ".tmp-PID" */
	char id[TILES_ID_MAX]; /* without trailing slashes */
	enum image_api_version version;
	struct iiifd_config cfg; /* server defaults, with --tile-size and --quality applied */
	int tile_forced;         /* --tile-size given: it wins over a tiled source's own tiles */
	bool quiet;              /* --quiet: no progress */
	bool include_protected;  /* --include-protected: write it even under an access policy */
};

struct tiles_job {
	const struct tiles_options *o;
	char dir[PATH_MAX]; /* the temporary tree being written, renamed to outdir at the end */
	struct image_source src;
	struct image_info_options info;
	struct image_encode_options encode;
	long images, links;
	struct tools_progress progress; /* one step per request written */
};

/* ---- geometry (what viewers request) ------------------------------------------------------ */

int64_t tools_tiles_count(int64_t extent, int tile, int s)
{
	int64_t step = (int64_t)tile * s;
	return (extent + step - 1) / step;
}

void tools_tiles_tile(int64_t width, int64_t height, int tile_w, int tile_h, int s, int64_t col,
		      int64_t row, struct tools_tiles_tile *t)
{
	int64_t step_w = (int64_t)tile_w * s, step_h = (int64_t)tile_h * s;
	t->x = col * step_w;
	t->y = row * step_h;
	t->w = t->x + step_w > width ? width - t->x : step_w;
	t->h = t->y + step_h > height ? height - t->y : step_h;
	t->out_w = (t->w + s - 1) / s;
	t->out_h = (t->h + s - 1) / s;
}

void tools_tiles_params(enum image_api_version version, const struct tools_tiles_tile *t,
			char *region, size_t region_n, char *size, size_t size_n)
{
	snprintf(region, region_n, "%lld,%lld,%lld,%lld", (long long)t->x, (long long)t->y,
		 (long long)t->w, (long long)t->h);
	if (version == IMAGE_API_V2)
		snprintf(size, size_n, "%lld,", (long long)t->out_w);
	else
		snprintf(size, size_n, "%lld,%lld", (long long)t->out_w, (long long)t->out_h);
}

/* ---- files -------------------------------------------------------------------------------- */

/* job->dir + "/" + rel into buf; -1 if it does not fit. */
static int tiles_path(const struct tiles_job *job, const char *rel, char *buf, size_t n)
{
	int k = snprintf(buf, n, "%s/%s", job->dir, rel);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* Creates the folders of rel (a path below job->dir ending in a file name). */
static int tiles_mkdirs(const struct tiles_job *job, const char *rel, struct iiifd_error *err)
{
	char full[PATH_MAX];
	if (tiles_path(job, rel, full, sizeof full) < 0)
		return iiifd_error_set(err, 500, "%s: path too long", rel);
	for (char *p = full + strlen(job->dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		int rc = mkdir(full, 0777);
		int saved = errno;
		*p = '/';
		if (rc < 0 && saved != EEXIST)
			return iiifd_error_set(err, 500, "cannot create folder for %s: %s", full,
					       strerror(saved));
	}
	return 0;
}

static int tiles_exists(const struct tiles_job *job, const char *rel)
{
	char full[PATH_MAX];
	struct stat st;
	return tiles_path(job, rel, full, sizeof full) == 0 && lstat(full, &st) == 0;
}

static int tiles_write_file(const struct tiles_job *job, const char *rel, const void *data,
			    size_t len, struct iiifd_error *err)
{
	char full[PATH_MAX];
	if (tiles_mkdirs(job, rel, err) < 0 || tiles_path(job, rel, full, sizeof full) < 0)
		return -1;
	FILE *f = fopen(full, "wb");
	if (!f)
		return iiifd_error_set(err, 500, "cannot create %s: %s", full, strerror(errno));
	size_t put = fwrite(data, 1, len, f);
	int closed = fclose(f);
	if (put != len || closed != 0)
		return iiifd_error_set(err, 500, "cannot write %s: %s", full, strerror(errno));
	return 0;
}

/* A hard link from rel to an existing file: same bytes, no extra space. 0 also if it exists. */
static int tiles_link(const struct tiles_job *job, const char *existing, const char *rel,
		      struct iiifd_error *err)
{
	char from[PATH_MAX], to[PATH_MAX];
	if (tiles_mkdirs(job, rel, err) < 0 || tiles_path(job, existing, from, sizeof from) < 0 ||
	    tiles_path(job, rel, to, sizeof to) < 0)
		return -1;
	return link(from, to) == 0 || errno == EEXIST ? 0 : -1;
}

static int tiles_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void tiles_remove_tree(const char *dir)
{
	nftw(dir, tiles_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- rendering ---------------------------------------------------------------------------- */

/* Produces the response body exactly as the image service does: stored tile, else the pipeline. */
static int tiles_emit(struct tiles_job *job, const struct image_request *req,
		      const struct image_geometry *g, const char *rel, struct iiifd_error *err)
{
	void *body = NULL;
	size_t len = 0;
	int stored = image_passthrough(&job->src, req, g, &body, &len);
	if (!stored && image_pipeline_render(&job->src, req, g, &job->encode, &body, &len, err) < 0)
		return -1;
	int rc = tiles_write_file(job, rel, body, len, err);
	if (stored)
		free(body);
	else
		g_free(body);
	job->images += rc == 0;
	if (rc == 0)
		tools_progress_add(&job->progress, 0, (int64_t)len, 0);
	return rc;
}

/* Puts the source and the URL in front of the reason, so the one error line says it all. */
static int tiles_fail(const struct tiles_job *job, const char *rel, struct iiifd_error *err)
{
	char why[sizeof err->msg];
	snprintf(why, sizeof why, "%s", err->msg);
	return iiifd_error_set(err, err->http_status, "%s: %s: %s", job->o->in, rel, why);
}

/*
 * Writes the answer to ".../{region}/{size}/0/default.jpg" at that path, and links the canonical
 * form of the same request to it when that differs (v3 writes "max" for an unscaled region,
 * v2 "full"; viewers ask for "w,h" / "w,"). A path already written holds the same answer.
 */
static int tiles_request(struct tiles_job *job, const char *region, const char *size,
			 struct iiifd_error *err)
{
	struct image_request req;
	struct image_geometry g;
	char rel[TILES_PATH_MAX], canonical[TILES_PATH_MAX];
	const struct image_source *src = &job->src;
	snprintf(rel, sizeof rel, "%s/%s/0/default.jpg", region, size);
	if (image_request_parse(job->o->version, region, size, "0", "default.jpg", &req, err) < 0 ||
	    image_request_resolve(&req, src->width, src->height, &job->info.limits, &g, err) < 0)
		return tiles_fail(job, rel, err);
	image_request_canonical(&req, &g, src->width, src->height, &job->info.limits, canonical,
				sizeof canonical);
	if (!tiles_exists(job, rel) && tiles_emit(job, &req, &g, rel, err) < 0)
		return tiles_fail(job, rel, err);
	tools_progress_add(&job->progress, 1, 0, 0);
	if (strcmp(canonical, rel) == 0)
		return 0;
	if (tiles_link(job, rel, canonical, err) == 0)
		return job->links++, 0;
	/* a filesystem without hard links */
	return tiles_emit(job, &req, &g, canonical, err) < 0 ? tiles_fail(job, canonical, err) : 0;
}

static int tiles_level(struct tiles_job *job, int tile_w, int tile_h, int s,
		       struct iiifd_error *err)
{
	int64_t cols = tools_tiles_count(job->src.width, tile_w, s);
	int64_t rows = tools_tiles_count(job->src.height, tile_h, s);
	char region[TILES_PARAM_MAX], size[TILES_PARAM_MAX];
	struct tools_tiles_tile t;
	for (int64_t row = 0; row < rows; row++) {
		for (int64_t col = 0; col < cols; col++) {
			tools_tiles_tile(job->src.width, job->src.height, tile_w, tile_h, s, col,
					 row, &t);
			tools_tiles_params(job->o->version, &t, region, sizeof region, size,
					   sizeof size);
			if (tiles_request(job, region, size, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Every tile at every scale factor that info.json lists. */
static int tiles_all_tiles(struct tiles_job *job, json_t *info, struct iiifd_error *err)
{
	json_t *tiles, *factor;
	size_t i, j;
	json_array_foreach(json_object_get(info, "tiles"), i, tiles) {
		int tw = (int)json_integer_value(json_object_get(tiles, "width"));
		json_t *height = json_object_get(tiles, "height");
		int th = height ? (int)json_integer_value(height) : tw;
		json_array_foreach(json_object_get(tiles, "scaleFactors"), j, factor) {
			int s = (int)json_integer_value(factor);
			if (tw < 1 || th < 1 || s < 1)
				return iiifd_error_set(err, 500, "bad tiles entry in info.json");
			if (tiles_level(job, tw, th, s, err) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * The `sizes` images ("full/w,h" or "full/w,"), then "full/max" ("full/full" in 2.1), which
 * level 0 requires and which is usually one of them already.
 */
static int tiles_all_sizes(struct tiles_job *job, json_t *info, struct iiifd_error *err)
{
	json_t *size;
	size_t i;
	char param[TILES_PARAM_MAX];
	int v2 = job->o->version == IMAGE_API_V2;
	json_array_foreach(json_object_get(info, "sizes"), i, size) {
		long long w = json_integer_value(json_object_get(size, "width"));
		long long h = json_integer_value(json_object_get(size, "height"));
		if (v2)
			snprintf(param, sizeof param, "%lld,", w);
		else
			snprintf(param, sizeof param, "%lld,%lld", w, h);
		if (tiles_request(job, "full", param, err) < 0)
			return -1;
	}
	return tiles_request(job, "full", v2 ? "full" : "max", err);
}

/* How many requests tiles_all_tiles and tiles_all_sizes will make, for the progress. */
static int64_t tiles_requests(const struct tiles_job *job, json_t *info)
{
	json_t *tiles, *factor;
	size_t i, j;
	int64_t n = (int64_t)json_array_size(json_object_get(info, "sizes")) + 1;
	json_array_foreach(json_object_get(info, "tiles"), i, tiles) {
		int tw = (int)json_integer_value(json_object_get(tiles, "width"));
		json_t *height = json_object_get(tiles, "height");
		int th = height ? (int)json_integer_value(height) : tw;
		json_array_foreach(json_object_get(tiles, "scaleFactors"), j, factor) {
			int s = (int)json_integer_value(factor);
			if (tw > 0 && th > 0 && s > 0)
				n += tools_tiles_count(job->src.width, tw, s) *
				     tools_tiles_count(job->src.height, th, s);
		}
	}
	return n;
}

static int tiles_info(const struct tiles_job *job, json_t *info, struct iiifd_error *err)
{
	char full[PATH_MAX];
	if (tiles_path(job, "info.json", full, sizeof full) < 0 ||
	    json_dump_file(info, full, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return iiifd_error_set(err, 500, "cannot write %s/info.json", job->dir);
	return 0;
}

/* ---- the command -------------------------------------------------------------------------- */

/* Settings as image_service_init() derives them from the same configuration. */
static void tiles_settings(struct tiles_job *job)
{
	const struct iiifd_config *cfg = &job->o->cfg;
	job->info.limits.max_width = cfg->max_width;
	job->info.limits.max_height = cfg->max_height ? cfg->max_height : cfg->max_width;
	job->info.limits.max_area = cfg->max_area;
	job->info.default_tile_size = cfg->tile_size;
	job->info.rights = cfg->rights;
	job->info.formats = 1u << IMAGE_FORMAT_JPG;
	job->info.level0 = true;
	job->encode.jpeg_quality = cfg->jpeg_quality;
	job->encode.webp_quality = cfg->webp_quality;
	/* the server's own render paths, so a static tile equals the server's answer to its URL */
	job->encode.direct = cfg->direct_render;
}

/* OUTDIR may be missing or an empty folder (rename() replaces an empty one); never anything else. */
static int tiles_check_outdir(const char *outdir, struct iiifd_error *err)
{
	struct stat st;
	if (lstat(outdir, &st) < 0)
		return errno == ENOENT ? 0
				       : iiifd_error_set(err, 500, "%s: %s", outdir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return iiifd_error_set(err, 500, "%s: exists and is not a folder", outdir);
	DIR *d = opendir(outdir);
	if (!d)
		return iiifd_error_set(err, 500, "%s: %s", outdir, strerror(errno));
	struct dirent *e;
	int entries = 0;
	while ((e = readdir(d)))
		entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	if (entries)
		return iiifd_error_set(err, 500, "%s: folder is not empty; remove it first", outdir);
	return 0;
}

static int tiles_generate(struct tiles_job *job, struct iiifd_error *err)
{
	const struct tiles_options *o = job->o;
	/* a read-only view of the source that, with --tile-size, does not mention stored tiles */
	struct image_source advertised = job->src;
	if (o->tile_forced)
		advertised.tile_width = advertised.tile_height = 0;
	json_t *info = image_info_build(o->version, o->id, &advertised, &job->info);
	int rc = info ? 0 : iiifd_error_set(err, 500, "out of memory");
	if (rc == 0) {
		tools_progress_start(&job->progress, "tiles", "images", tiles_requests(job, info), 0,
				     true, o->quiet);
		rc = tiles_all_tiles(job, info, err);
		if (rc == 0)
			rc = tiles_all_sizes(job, info, err);
		tools_progress_finish(&job->progress);
	}
	if (rc == 0)
		rc = tiles_info(job, info, err);
	if (rc == 0 && rename(job->dir, o->outdir) < 0)
		rc = iiifd_error_set(err, 500, "cannot rename %s to %s: %s", job->dir, o->outdir,
				     strerror(errno));
	json_decref(info);
	return rc;
}

static int tiles_run(const struct tiles_options *o, struct iiifd_error *err)
{
	struct tiles_job job = { .o = o };
	if (tools_cli_open_source(o->in, &job.src, err) < 0)
		return -1;
	tiles_settings(&job);
	int rc = tiles_check_outdir(o->outdir, err);
	snprintf(job.dir, sizeof job.dir, "%s.tmp-%ld", o->outdir, (long)getpid());
	if (rc == 0 && mkdir(job.dir, 0777) < 0)
		rc = iiifd_error_set(err, 500, "cannot create %s: %s", job.dir, strerror(errno));
	else if (rc == 0 && (rc = tiles_generate(&job, err)) < 0)
		tiles_remove_tree(job.dir);
	if (rc == 0)
		printf("iiifd tiles: wrote %s: info.json (Image API %d, level 0), %ld images, "
		       "%ld canonical-URL links\n",
		       o->outdir, (int)o->version, job.images, job.links);
	image_source_release(&job.src);
	return rc;
}

static void tiles_usage(FILE *out, const struct iiifd_config *defaults)
{
	fprintf(out,
		"usage: iiifd tiles IN OUTDIR --id BASE_URL [--version 2|3] [--tile-size N] "
		"[--quality Q] [--quiet]\n"
		"  Writes a static level 0 IIIF Image API tree for IN into OUTDIR (which must be\n"
		"  missing or empty): every tile at every scale factor, the `sizes` images and\n"
		"  info.json, for hosting on a plain web server or CDN at BASE_URL.\n"
		"  --id BASE_URL     the URL OUTDIR will be published at (the info.json id)\n"
		"  --version 2|3     Image API version (default 3)\n"
		"  --tile-size N     tile edge in pixels (default: the source's own tiles, else %d)\n"
		"  --quality Q       JPEG quality 1-100 (default %d)\n"
		"  --quiet           no progress on standard error\n"
		"  --include-protected  also when an access.yml protects IN (the tree is public)\n",
		defaults->tile_size, defaults->jpeg_quality);
}

/* Copies s without trailing slashes into buf (size n); -1 if it is empty or too long. */
static int tiles_trim(const char *s, char *buf, size_t n)
{
	size_t len = strlen(s);
	while (len > 1 && s[len - 1] == '/')
		len--;
	if (len == 0 || len >= n)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

static int tiles_parse(int argc, char **argv, struct tiles_options *o, struct iiifd_error *err)
{
	const char *id = NULL, *version = NULL, *tile = NULL, *quality = NULL, *pos[2];
	const struct tools_cli_flag flags[] = { { "id", &id, NULL },		 { "version", &version, NULL },
						{ "tile-size", &tile, NULL }, { "quality", &quality, NULL },
						{ "quiet", NULL, &o->quiet },
						{ "include-protected", NULL, &o->include_protected },
						{ NULL, NULL, NULL } };
	int v = 3, rc = tools_cli_parse(argc, argv, flags, pos, 2, err);
	if (rc != 0)
		return rc;
	o->in = pos[0];
	if (tiles_trim(pos[1], o->outdir, sizeof o->outdir) < 0 || strcmp(o->outdir, "/") == 0)
		return iiifd_error_set(err, 400, "'%s' cannot be the output folder", pos[1]);
	if (!id || tiles_trim(id, o->id, sizeof o->id) < 0)
		return iiifd_error_set(err, 400, "--id BASE_URL is required (the URL of OUTDIR)");
	if (version && tools_cli_int("version", version, 2, 3, &v, err) < 0)
		return -1;
	o->version = v == 2 ? IMAGE_API_V2 : IMAGE_API_V3;
	if (quality && tools_cli_int("quality", quality, 1, 100, &o->cfg.jpeg_quality, err) < 0)
		return -1;
	o->tile_forced = tile != NULL;
	if (tile && iiifd_config_set(&o->cfg, "tile-size", tile, err) < 0)
		return -1;
	return 0;
}

/*
 * A static tree is open to anyone who finds it: an image that an access policy protects
 * (the nearest access.yml in IN's folder or above, auth/policy.h) is refused with 403 unless
 * --include-protected. An access.yml with errors protects, as in the server.
 */
static int tiles_policy_check(const struct tiles_options *o, struct iiifd_error *err)
{
	char real[PATH_MAX];
	if (o->include_protected || !realpath(o->in, real))
		return 0; /* a missing IN is reported when it is opened */
	for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
		*slash = '\0';
		char *file = g_strdup_printf("%s/%s", *real ? real : "", AUTH_POLICY_FILE);
		if (!g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
			g_free(file);
			continue;
		}
		struct sidecar_problems problems = { 0 };
		struct auth_policy *p = auth_policy_load(file, "", &problems);
		bool open = p && auth_policy_is_open(auth_policy_kind(p, AUTH_RES_IMAGE), time(NULL));
		auth_policy_free(p);
		int rc = open ? 0
			      : iiifd_error_set(err, 403, "%s protects %s: a static tree is public to "
							"all (--include-protected writes it anyway)",
						file, o->in);
		g_free(file);
		return rc;
	}
	return 0;
}

int tools_tiles_main(int argc, char **argv)
{
	struct tiles_options *o = calloc(1, sizeof *o);
	struct iiifd_error err = { 0 };
	if (!o) {
		fprintf(stderr, "iiifd tiles: out of memory\n");
		return 1;
	}
	iiifd_config_init(&o->cfg);
	int rc = tiles_parse(argc, argv, o, &err);
	if (rc == 1) {
		tiles_usage(stdout, &o->cfg);
		rc = 0;
	} else if (rc < 0) {
		fprintf(stderr, "iiifd tiles: %s\n(see iiifd tiles --help)\n", err.msg);
		rc = 2;
	} else if (tools_cli_vips_start("tiles") < 0) {
		rc = 1;
	} else {
		rc = tiles_policy_check(o, &err) < 0 || tiles_run(o, &err) < 0 ? 1 : 0;
		if (rc)
			fprintf(stderr, "iiifd tiles: %s\n", err.msg);
		tools_cli_vips_stop();
	}
	iiifd_config_release(&o->cfg);
	free(o);
	return rc;
}
