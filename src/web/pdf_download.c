/*
 * pdf_download.c: the Manifest PDF. The Canvases come from the Presentation API's Canvas index
 * (the same numbering as the Manifest), each image page is rendered like the Image API request
 * full/{w},/0/default.jpg, and the JPEGs go straight into image/pdf.c's writer. Everything runs
 * under one large admission slot so a PDF never holds more than one render's memory nor crowds
 * out tile clients.
 */
#include "web/pdf_download.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "auth/gate.h"
#include "core/config_live.h"
#include "core/path.h"
#include "core/strings.h"
#include "image/admission.h"
#include "image/pdf.h"
#include "image/pipeline.h"
#include "presentation/canvas_index.h"
#include "presentation/tree.h"

#define PDF_FILENAME_MAX 100

struct pdf_job {
	const struct image_service *image;
	const char *root;
	int width;                      /* asked-for page image width */
	int fd;                         /* the unlinked temporary file the PDF is written to */
	struct image_pdf_writer *writer;
	const struct pres_canvas_ref **pages; /* the image Canvases, in Manifest order */
	size_t npages;
};

void pdf_download_filename(const char *rel, char *out, size_t n)
{
	size_t len = 0;
	bool replaced = false;
	for (const char *p = rel; *p && len < PDF_FILENAME_MAX && len + 5 < n; p++) {
		char c = *p;
		bool keep = g_ascii_isalnum(c) || c == '-' || c == '_' || (c == '.' && len > 0);
		if (c == '/')
			c = '-', keep = true;
		if (keep) {
			out[len++] = c;
			replaced = false;
		} else if (!replaced) {
			out[len++] = '_';
			replaced = true;
		}
	}
	if (len == 0 && n > 8)
		len = (size_t)snprintf(out, n, "manifest");
	snprintf(out + len, n - len, ".pdf");
}

/* "books/b1/manifest" -> "books/b1" (decoded); "manifest" -> "" (the root). */
static int pdf_parse_path(const char *path, char *rel, size_t n, struct iiifd_error *err)
{
	static const char suffix[] = "/manifest";
	size_t len = strlen(path), k = sizeof suffix - 1;
	if (strcmp(path, "manifest") == 0) {
		rel[0] = '\0';
		return 0;
	}
	if (len <= k || strcmp(path + len - k, suffix) != 0)
		return iiifd_error_set(err, 404, "expected /pdf/{path}/manifest");
	if (strings_url_decode(path, len - k, rel, n) < 0)
		return iiifd_error_set(err, 400, "malformed %%-escape in the URL");
	return 0;
}

/* Whether rel is a Manifest the Presentation API serves: a folder, or an image or A/V file. */
static int pdf_resolve(const char *root, const char *rel, bool *is_folder,
		       struct iiifd_error *err)
{
	char *abs = NULL;
	*is_folder = pres_resolve(root, rel, NULL, true, &abs, NULL) == 0; /* local or a bucket */
	if (!*is_folder && *rel && pres_resolve(root, rel, NULL, false, &abs, NULL) == 0) {
		enum tree_kind kind = tree_classify(rel);
		free(abs);
		return kind == TREE_IMAGE || kind == TREE_MEDIA
			       ? 0
			       : iiifd_error_set(err, 404, "no Manifest at this path");
	}
	free(abs);
	return *is_folder ? 0 : iiifd_error_set(err, 404, "no Manifest at this path");
}

static int pdf_width(const struct http_request *req, int max, int *width,
		     struct iiifd_error *err)
{
	char *arg = NULL, *end;
	if (http_request_arg_checked(req, "width", &arg, err) < 0)
		return -1;
	*width = PDF_DOWNLOAD_DEFAULT_WIDTH < max ? PDF_DOWNLOAD_DEFAULT_WIDTH : max;
	if (!arg)
		return 0;
	errno = 0;
	long v = strtol(arg, &end, 10);
	bool number = *arg >= '0' && *arg <= '9' && !*end && errno == 0 && v >= 1;
	free(arg);
	if (!number)
		return iiifd_error_set(err, 400, "width must be a whole number of pixels");
	if (v > max)
		return iiifd_error_set(err, 400,
				       "width %ld is over this server's limit of %d (pdf-max-width)",
				       v, max);
	*width = (int)v;
	return 0;
}

/* The image Canvases of idx (audio and video Canvases have no page), capped at max. */
static int pdf_select(const struct pres_canvas_index *idx, int max, struct pdf_job *job,
		      struct iiifd_error *err)
{
	job->pages = calloc(idx->count ? idx->count : 1, sizeof *job->pages);
	if (!job->pages)
		return iiifd_error_set(err, 500, "out of memory");
	for (size_t i = 0; i < idx->count; i++) {
		const struct pres_canvas_ref *r = &idx->items[i];
		if (r->duration == 0 && r->width > 0 && r->height > 0 &&
		    tree_classify(r->file) == TREE_IMAGE)
			job->pages[job->npages++] = r;
	}
	if (job->npages == 0)
		return iiifd_error_set(err, 404, "this Manifest has no image Canvases");
	if (job->npages > (size_t)max)
		return iiifd_error_set(err, 400,
				       "this Manifest has %zu image pages; a PDF may have at most "
				       "%d (pdf-max-pages)",
				       job->npages, max);
	return 0;
}

/* The page's Image API request: full/{w},/0/default.jpg, never wider than the image itself. */
static int pdf_geometry(const struct pdf_job *job, const struct image_source *src,
			struct image_request *req, struct image_geometry *g,
			struct iiifd_error *err)
{
	char size[32];
	snprintf(size, sizeof size, "%lld,",
		 (long long)(src->width < job->width ? src->width : job->width));
	if (image_request_parse(IMAGE_API_V3, "full", size, "0", "default.jpg", req, err) < 0)
		return -1;
	struct image_limits limits;
	image_service_limits(config_live_now(), &limits); /* reloadable */
	return image_request_resolve(req, src->width, src->height, &limits, g, err);
}

/* Opens page i's source (put it back with image_source_cache_put). */
static const struct image_source *pdf_source(const struct pdf_job *job, size_t i,
					     struct iiifd_error *err)
{
	char *abs = g_build_filename(job->root, job->pages[i]->file, NULL);
	const struct image_source *src =
		image_source_cache_get(job->image->sources, abs, job->pages[i]->page, err);
	g_free(abs);
	return src;
}

/* The most memory one page's render is expected to need: what the slot asks of the budget. */
static int pdf_estimate(const struct pdf_job *job, int64_t *bytes, struct iiifd_error *err)
{
	*bytes = 0;
	for (size_t i = 0; i < job->npages; i++) {
		struct image_request req;
		struct image_geometry g;
		const struct image_source *src = pdf_source(job, i, err);
		int rc = src ? pdf_geometry(job, src, &req, &g, err) : -1;
		if (rc == 0) {
			int64_t b = image_pipeline_estimate_bytes(src, &req, &g);
			*bytes = b > *bytes ? b : *bytes;
		}
		image_source_cache_put(job->image->sources, src);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int pdf_sink_fd(void *cls, const void *data, size_t len)
{
	const struct pdf_job *job = cls;
	for (const char *p = data; len > 0;) {
		ssize_t n = write(job->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Adds the JPEG as a page; its size and bands come from its header (libvips reads no pixels). */
static int pdf_add_jpeg(struct pdf_job *job, const void *jpeg, size_t len,
			struct iiifd_error *err)
{
	VipsImage *head = vips_image_new_from_buffer(jpeg, len, "", NULL);
	if (!head) {
		vips_error_clear();
		return iiifd_error_set(err, 500, "a rendered page is not a JPEG");
	}
	int rc = image_pdf_writer_page(job->writer, jpeg, len, head->Xsize, head->Ysize,
				       head->Bands);
	g_object_unref(head);
	return rc == 0 ? 0 : iiifd_error_set(err, 500, "cannot write the PDF (disk full?)");
}

static int pdf_render_page(struct pdf_job *job, size_t i, struct iiifd_error *err)
{
	struct image_request req;
	struct image_geometry g;
	void *body = NULL;
	size_t len = 0;
	const struct image_source *src = pdf_source(job, i, err);
	int rc = src ? pdf_geometry(job, src, &req, &g, err) : -1;
	if (rc == 0) {
		const struct iiifd_config *cfg = config_live_now(); /* reloadable */
		struct image_encode_options opt = { .jpeg_quality = cfg->jpeg_quality,
						    .webp_quality = cfg->webp_quality };
		opt.deadline_us = g_get_monotonic_time() + (int64_t)cfg->request_timeout * 1000000;
		rc = image_pipeline_render(src, &req, &g, &opt, &body, &len, err);
	}
	if (rc == 0)
		rc = pdf_add_jpeg(job, body, len, err);
	g_free(body);
	image_source_cache_put(job->image->sources, src);
	return rc;
}

/* An unlinked file in cache-dir (or the system's temporary folder): gone however we exit. */
static int pdf_tmpfile(const char *cache_dir, struct iiifd_error *err)
{
	const char *dirs[] = { cache_dir, g_get_tmp_dir() };
	for (size_t i = 0; i < 2; i++) {
		char *path = g_strdup_printf("%s/iiifd-pdf-XXXXXX", dirs[i]);
		int fd = g_mkdir_with_parents(dirs[i], 0755) == 0 ? mkstemp(path) : -1;
		if (fd >= 0)
			unlink(path);
		g_free(path);
		if (fd >= 0)
			return fd;
	}
	return iiifd_error_set(err, 500, "cannot create a temporary file for the PDF");
}

/* Renders every page into job->fd under one admission slot. */
static int pdf_build(struct pdf_job *job, const char *client, struct iiifd_error *err)
{
	const struct iiifd_config *cfg = config_live_now();
	int64_t bytes;
	if (pdf_estimate(job, &bytes, err) < 0 ||
	    admission_enter(job->image->admission, true, bytes, cfg->queue_wait_ms, client, err) < 0)
		return -1;
	int rc = 0;
	job->writer = image_pdf_writer_new(pdf_sink_fd, job);
	if (!job->writer)
		rc = iiifd_error_set(err, 500, "out of memory");
	for (size_t i = 0; rc == 0 && i < job->npages; i++)
		rc = pdf_render_page(job, i, err);
	if (rc == 0 && image_pdf_writer_finish(job->writer) < 0)
		rc = iiifd_error_set(err, 500, "cannot write the PDF (disk full?)");
	admission_leave(job->image->admission, true, bytes, client);
	return rc;
}

static void pdf_respond(const struct pdf_job *job, const char *rel, const char *cache_control,
			struct http_response *resp)
{
	char name[PDF_FILENAME_MAX + 16];
	pdf_download_filename(rel, name, sizeof name);
	http_response_header(resp, "Content-Type", "application/pdf");
	http_response_header(resp, "Content-Disposition", "attachment; filename=\"%s\"", name);
	if (cache_control[0])
		http_response_header(resp, "Cache-Control", "%s", cache_control);
	http_response_file(resp, job->fd, 0, image_pdf_writer_size(job->writer));
}

/* A protected Manifest's PDF is for those who may see its images in full. */
static int pdf_gate(const struct image_service *image, const char *root, const char *rel,
		    const struct http_request *req, bool *protected, struct iiifd_error *err)
{
	char abs[PATH_MAX];
	struct auth_gate g;
	snprintf(abs, sizeof abs, "%s%s%s", root, *rel ? "/" : "", rel);
	auth_gate_open(image->auth, abs, AUTH_RES_DOWNLOAD, req, &g);
	bool denied = g.policy && g.access != AUTH_FULL;
	*protected = g.policy != NULL;
	if (denied)
		auth_gate_log_denial(image->auth, &g, req, rel);
	auth_gate_release(&g);
	return denied ? iiifd_error_set(err, 401, "this Manifest is access-controlled") : 0;
}

void pdf_download_handle(const struct image_service *image, const struct pres_service *pres,
			 const char *path, const struct http_request *req,
			 struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct pdf_job job = { .image = image, .root = pres->root_real, .fd = -1 };
	struct pres_canvas_index idx = { 0 };
	char rel[PATH_IDENTIFIER_MAX + 1], origin[900];
	bool is_folder, protected = false;
	pres_service_origin(pres, req, origin, sizeof origin);
	struct pres_context c;
	pres_service_context(pres, origin, &c);
	if (pdf_parse_path(path, rel, sizeof rel, &err) < 0 ||
	    pdf_resolve(pres->root_real, rel, &is_folder, &err) < 0 ||
	    pdf_gate(image, pres->root_real, rel, req, &protected, &err) < 0 ||
	    pdf_width(req, config_live_now()->pdf_max_width, &job.width, &err) < 0 ||
	    pres_canvas_index_build(&c, rel, is_folder, &idx, &err) < 0 ||
	    pdf_select(&idx, config_live_now()->pdf_max_pages, &job, &err) < 0 ||
	    (job.fd = pdf_tmpfile(config_live_now()->cache_dir, &err)) < 0 ||
	    pdf_build(&job, req->client, &err) < 0) {
		http_response_error(resp, &err);
	} else {
		pdf_respond(&job, rel,
			    protected ? AUTH_PRIVATE_CACHE
				      : config_live_now()->presentation_cache_control,
			    resp);
		job.fd = -1; /* the response owns it */
	}
	if (job.fd >= 0)
		close(job.fd);
	image_pdf_writer_free(job.writer);
	free(job.pages);
	pres_canvas_index_release(&idx);
}
