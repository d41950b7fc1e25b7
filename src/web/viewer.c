/*
 * viewer.c: /viewer/{mirador|uv|clover|tify} pages that open one of this server's Manifests in a
 * viewer installed from npm (scripts/install-web), and the viewers' files under /viewer/assets/.
 */
#include "web/viewer.h"

#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>

#include "core/fileio.h"
#include "core/path.h"
#include "core/strings.h"
#include "http/files.h"
#include "http/outgoing.h"

#define VIEWER_URL_MAX 4096

static const struct {
	const char *name;  /* in the URL and in assets/boot/NAME.js */
	const char *title; /* for people */
	const char *scripts[2]; /* the viewer's own files below assets/, loaded before the boot */
	const char *style; /* its stylesheet below assets/, or NULL */
	bool module; /* an ES module bundle (then its boot script is one too, to run after it) */
} viewer_kinds[] = {
	[WEB_VIEWER_MIRADOR] = { "mirador", "Mirador", { "mirador/mirador.min.js", NULL }, NULL,
				 false },
	[WEB_VIEWER_UV] = { "uv", "Universal Viewer", { "uv/umd/UV.js", NULL }, "uv/uv.css",
			    false },
	[WEB_VIEWER_CLOVER] = { "clover", "Clover", { "clover/clover.js", NULL }, NULL, false },
	[WEB_VIEWER_TIFY] = { "tify", "TIFY", { "tify/tify.js", NULL }, "tify/tify.css", true },
};

int web_viewer_kind_parse(const char *name)
{
	for (size_t i = 0; i < sizeof viewer_kinds / sizeof viewer_kinds[0]; i++)
		if (strcmp(name, viewer_kinds[i].name) == 0)
			return (int)i;
	return -1;
}

int web_viewer_parse_xywh(const char *s, double out[4], struct iiifd_error *err)
{
	const char *p = s;
	for (int i = 0; i < 4; i++) {
		char *end;
		/* plain decimals only: strtod alone would take "inf", "nan", "0x10" and "1e9" */
		size_t digits = strspn(p, "0123456789.");
		if (digits == 0)
			return iiifd_error_set(err, 400, "xywh: expected x,y,w,h (numbers)");
		errno = 0;
		out[i] = strtod(p, &end);
		if (errno || end != p + digits || !isfinite(out[i]))
			return iiifd_error_set(err, 400, "xywh: expected x,y,w,h (numbers)");
		p = end;
		if (i < 3 && *p++ != ',')
			return iiifd_error_set(err, 400, "xywh: expected x,y,w,h (numbers)");
	}
	if (*p || out[2] <= 0 || out[3] <= 0)
		return iiifd_error_set(err, 400, "xywh: expected x,y,w,h with w and h above 0");
	return 0;
}

int web_viewer_own_url(const char *manifest, const char *base, char *out, size_t n,
		       struct iiifd_error *err)
{
	size_t blen = strlen(base);
	/* no control characters, spaces, quotes or angle brackets in a URL we put in a page */
	for (const unsigned char *c = (const unsigned char *)manifest; *c; c++)
		if (*c <= 0x20 || *c == 0x7f || strchr("\"'<>\\`", *c))
			return iiifd_error_set(err, 400, "manifest: not a URL");
	if (manifest[0] == '/' && manifest[1] != '/') {
		const char *slash = strchr(base + (strncmp(base, "https://", 8) == 0 ? 8 : 7), '/');
		/* base may carry a path prefix (public-url): a path is relative to its origin */
		size_t origin = slash ? (size_t)(slash - base) : blen;
		if (strncmp(manifest, base + origin, blen - origin) != 0)
			return iiifd_error_set(err, 400, "manifest: not a URL of this server");
		if ((size_t)snprintf(out, n, "%.*s%s", (int)origin, base, manifest) >= n)
			return iiifd_error_set(err, 400, "manifest: URL too long");
		return 0;
	}
	if (strncmp(manifest, base, blen) != 0 || manifest[blen] != '/')
		return iiifd_error_set(err, 400,
				       "manifest: this server's viewers open only its own Manifests "
				       "(URLs starting with %.120s/)", base);
	if ((size_t)snprintf(out, n, "%s", manifest) >= n)
		return iiifd_error_set(err, 400, "manifest: URL too long");
	return 0;
}

/* Whether s is "http[s]://host[:port]" with nothing a CSP could read otherwise. */
static bool viewer_is_origin(const char *s, size_t n)
{
	size_t skip = n > 8 && strncmp(s, "https://", 8) == 0 ? 8
		      : n > 7 && strncmp(s, "http://", 7) == 0 ? 7 : 0;
	for (size_t i = skip; skip && i < n; i++)
		if (!g_ascii_isalnum(s[i]) && !strchr(".-:[]", s[i]))
			return false;
	return skip != 0;
}

/*
 * Scripts only from this server, and no 'unsafe-eval' nor 'unsafe-inline' for scripts: none of
 * the three viewers needs them (the browser tests open each of them under this policy and fail
 * on the console error a refused eval logs). Styles 'unsafe-inline': all three style themselves
 * at run time (Mirador through emotion, Clover through stitches: <style> elements;
 * OpenSeadragon and UV through style attributes). Images, media and fetches from this server
 * only (the page opens only this server's Manifests), plus the data:/blob: URLs the viewers
 * make themselves (UV's CSS and buttons have data: images; players may use blob:).
 * frame-ancestors 'self': our own Manifest pages embed the viewers in an iframe; frame-src
 * 'self': the token services of IIIF auth answer in one. origins: see viewer.h.
 */
char *web_viewer_csp_for(enum web_viewer_kind kind, const char *origins)
{
	GString *extra = g_string_new(NULL);
	for (const char *p = origins ? origins : ""; *p;) {
		p += strspn(p, " ,\t");
		size_t n = strcspn(p, " ,\t");
		while (n && p[n - 1] == '/')
			n--;
		if (n && viewer_is_origin(p, n))
			g_string_append_printf(extra, " %.*s", (int)n, p);
		p += n + strspn(p + n, "/");
	}
	/* other servers allowed where content is fetched */
	char *csp = g_strdup_printf(
		"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
		"img-src 'self' data: blob:%s; media-src 'self' blob:%s; connect-src 'self'%s; "
		"font-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'self'; "
		/* the token services of IIIF auth answer in an iframe (docs/access.md) */
		"frame-src 'self'; "
		"base-uri 'none'; form-action 'none'", extra->str, extra->str, extra->str);
	g_string_free(extra, TRUE);
	(void)kind;
	char *out = strdup(csp);
	g_free(csp);
	return out;
}

/* The settings for the boot script, as JSON safe inside a <script> element. */
static char *viewer_config_json(const struct web_viewer_params *p)
{
	json_t *c = p->manifest ? json_pack("{s:s}", "manifest", p->manifest) : json_object();
	if (!c)
		return NULL;
	if (p->canvas)
		json_object_set_new(c, "canvas", json_string(p->canvas));
	if (p->has_xywh)
		json_object_set_new(c, "xywh", json_pack("[f,f,f,f]", p->xywh[0], p->xywh[1],
							 p->xywh[2], p->xywh[3]));
	if (p->q)
		json_object_set_new(c, "q", json_string(p->q));
	if (p->state)
		web_viewer_state_config(c, p->state);
	char *text = json_dumps(c, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(c);
	if (!text)
		return NULL;
	/* <, > and & only ever appear inside JSON strings, where \uXXXX means the same: no
	 * "</script>" or "<!--" can end or change the element */
	size_t n = strlen(text), extra = 0;
	for (size_t i = 0; i < n; i++)
		extra += strchr("<>&", text[i]) ? 5 : 0;
	char *safe = malloc(n + extra + 1), *o = safe;
	for (size_t i = 0; safe && i < n; i++)
		o += strchr("<>&", text[i]) ? sprintf(o, "\\u%04x", (unsigned char)text[i])
					    : (*o = text[i], 1);
	if (safe)
		*o = '\0';
	free(text);
	return safe;
}

/* The page for a content state given by reference: its settings and content-state.js only. */
static char *viewer_resolve_page(char *config, const char *version, struct iiifd_error *err)
{
	char *page = g_strdup_printf(
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>Opening a content state - iiifd</title>\n</head>\n<body>\n<main id=\"viewer\" "
		"class=\"iiifd-viewer\"></main>\n<script type=\"application/json\" "
		"id=\"iiifd-viewer-config\">%s</script>\n<script src=\"assets/boot/content-state.js"
		"?v=%s\"></script>\n</body>\n</html>\n", config, version);
	free(config);
	char *out = page ? strdup(page) : NULL;
	g_free(page);
	if (!out)
		iiifd_error_set(err, 500, "out of memory");
	return out;
}

char *web_viewer_page(const struct web_viewer_params *p, const char *version,
		      struct iiifd_error *err)
{
	char *config = viewer_config_json(p);
	if (!config) {
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	if (p->state && p->state->resolve[0]) /* content-state.js fetches it, then goes on */
		return viewer_resolve_page(config, version, err);
	const char *name = viewer_kinds[p->kind].name, *style = viewer_kinds[p->kind].style;
	const char *type = viewer_kinds[p->kind].module ? " type=\"module\"" : "";
	char link[256] = "";
	if (style)
		snprintf(link, sizeof link, "<link rel=\"stylesheet\" href=\"assets/%s?v=%s\">\n",
			 style, version);
	size_t n = strlen(config) + 2048;
	char *page = malloc(n);
	int len = page ? snprintf(page, n,
				  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
				  "<meta name=\"viewport\" content=\"width=device-width, "
				  "initial-scale=1\">\n<title>%s - iiifd</title>\n%s"
				  "<link rel=\"stylesheet\" href=\"assets/boot/viewer.css?v=%s\">\n"
				  "</head>\n<body>\n<main id=\"viewer\" class=\"iiifd-viewer\" "
				  "aria-label=\"%s\"></main>\n"
				  "<script type=\"application/json\" id=\"iiifd-viewer-config\">%s"
				  "</script>\n<script src=\"assets/boot/content-state.js?v=%s\"></script>\n"
				  "<script%s src=\"assets/%s?v=%s\"></script>\n"
				  "<script%s src=\"assets/boot/%s.js?v=%s\"></script>\n</body>\n</html>\n",
				  viewer_kinds[p->kind].title, link, version,
				  viewer_kinds[p->kind].title, config, version, type,
				  viewer_kinds[p->kind].scripts[0], version, type, name, version)
			 : -1;
	free(config);
	if (len < 0 || (size_t)len >= n) {
		free(page);
		iiifd_error_set(err, 500, "could not write the viewer page");
		return NULL;
	}
	return page;
}

static int viewer_dir_exists(const char *dir, char *out, size_t n)
{
	char real[PATH_MAX];
	if (!realpath(dir, real) || (size_t)snprintf(out, n, "%s", real) >= n)
		return -1;
	char probe[PATH_MAX + 16];
	snprintf(probe, sizeof probe, "%s/VERSIONS", real);
	return access(probe, R_OK) == 0 ? 0 : -1;
}

int web_viewer_assets_dir(const struct iiifd_config *cfg, char *out, size_t n)
{
	if (cfg->web_assets_dir && *cfg->web_assets_dir)
		return viewer_dir_exists(cfg->web_assets_dir, out, n);
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		static const char *const rel[] = { "/../web/assets", "/../share/iiifd/web" };
		for (size_t i = 0; i < 2; i++) {
			char dir[PATH_MAX + 32];
			snprintf(dir, sizeof dir, "%s%s", exe, rel[i]);
			if (viewer_dir_exists(dir, out, n) == 0)
				return 0;
		}
	}
	return viewer_dir_exists("/usr/share/iiifd/web", out, n);
}

/* A fingerprint of what is installed (assets/VERSIONS and when it was written). */
static void viewer_version(const char *assets, char *out, size_t n)
{
	char path[PATH_MAX + 16], text[4096] = "";
	snprintf(path, sizeof path, "%s/VERSIONS", assets);
	FILE *f = fopen(path, "r");
	if (f) {
		size_t got = fread(text, 1, sizeof text - 1, f);
		text[got] = '\0';
		fclose(f);
	}
	snprintf(out, n, "%08llx", (unsigned long long)(strings_hash(STRINGS_HASH_SEED, text) &
							 0xffffffffu));
}

static const char *viewer_mime(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{ "js", "text/javascript; charset=utf-8" }, { "mjs", "text/javascript; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },       { "json", "application/json" },
		{ "html", "text/html; charset=utf-8" },     { "svg", "image/svg+xml" },
		{ "png", "image/png" },                     { "gif", "image/gif" },
		{ "jpg", "image/jpeg" },                    { "ico", "image/x-icon" },
		{ "woff", "font/woff" },                    { "woff2", "font/woff2" },
		{ "ttf", "font/ttf" },                      { "wasm", "application/wasm" },
		{ "txt", "text/plain; charset=utf-8" },
	};
	char ext[16];
	path_extension(path, ext, sizeof ext);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(ext, types[i].ext) == 0)
			return types[i].mime;
	return NULL;
}

/*
 * The bundles are megabytes of JavaScript: scripts/install-web stores a gzip copy beside each
 * (NAME.gz), sent to clients that accept gzip. 0 with *out (malloc'd, caller frees) when there
 * is one and the client takes it; it goes through the same path checks as the file itself.
 */
static int viewer_gzip_sibling(const char *assets, const char *rel,
			       const struct http_request *req, char **out)
{
	const char *ae = http_request_header(req, "Accept-Encoding");
	char gz_rel[PATH_IDENTIFIER_MAX + 4];
	if (!ae || !http_outgoing_accepts_gzip(ae) ||
	    (size_t)snprintf(gz_rel, sizeof gz_rel, "%s.gz", rel) >= sizeof gz_rel)
		return -1;
	return path_resolve(assets, gz_rel, NULL, out, NULL);
}

static void viewer_asset(const char *assets, const char *rest, const struct http_request *req,
			 struct http_response *resp)
{
	struct iiifd_error err = { 404, "no such viewer file" };
	char rel[PATH_IDENTIFIER_MAX + 1], *abs = NULL;
	const char *mime = NULL;
	if (strings_url_decode(rest, strlen(rest), rel, sizeof rel) >= 0 &&
	    (mime = viewer_mime(rel)) && path_resolve(assets, rel, NULL, &abs, &err) == 0) {
		/* pages ask with ?v=<installed version>, so such a URL never changes its content;
		 * files the viewers load themselves (UV's chunks) have content hashes in their names */
		char *v = http_request_arg(req, "v"), *gz = NULL;
		const char *cache = v ? "public, max-age=31536000, immutable" : "public, max-age=86400";
		if (viewer_gzip_sibling(assets, rel, req, &gz) == 0) {
			http_files_serve(req, gz, mime, cache, resp);
			http_response_header(resp, "Content-Encoding", "gzip");
		} else {
			http_files_serve(req, abs, mime, cache, resp);
		}
		/* the answer depends on Accept-Encoding for files that have a .gz sibling */
		http_response_header(resp, "Vary", "Accept-Encoding");
		free(gz);
		free(v);
	} else {
		/* path_resolve's reason speaks of images; the answer is the same 404 either way */
		err = (struct iiifd_error){ 404, "no such viewer file" };
		http_response_error(resp, &err);
	}
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	free(abs);
}

static void viewer_not_installed(struct http_response *resp, const char *title)
{
	static const char fmt[] =
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
		"<title>%s is not installed - iiifd</title></head>\n<body>\n<main>\n"
		"<h1>The viewers are not installed</h1>\n"
		"<p>iiifd serves Mirador, Universal Viewer and Clover from a folder that "
		"<code>scripts/install-web</code> fills from npm. In the source tree, run "
		"<code>make web</code> (or <code>scripts/install-web</code>), or set "
		"<code>web-assets-dir</code> to a folder where they are installed.</p>\n"
		"<p>Everything else (the IIIF APIs) works without them.</p>\n</main>\n</body>\n"
		"</html>\n";
	http_response_text(resp, 503, fmt, title);
	http_response_remove_header(resp, "Content-Type");
	http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	http_response_header(resp, "Cache-Control", "no-store");
}

/*
 * Reads the page's parameters; 0, or -1 with a 400. Strings are malloc'd into *manifest etc.;
 * a content state (iiif-content, which wins over manifest=) is read into st.
 */
static int viewer_params(const struct iiifd_config *cfg, const struct http_request *req,
			 struct web_viewer_params *p, struct content_state *st, char **arg,
			 char **canvas, char **q, char *manifest, size_t n, struct iiifd_error *err)
{
	char base[1024], fallback[300], *xywh = NULL;
	snprintf(fallback, sizeof fallback, "%s:%d", cfg->host, cfg->port);
	http_request_base_url(req, cfg->public_url, cfg->trust_forwarded, fallback, base,
			      sizeof base);
	int given = web_viewer_content(cfg, req, base, st, p, err);
	if (given < 0)
		return -1;
	if (given) /* words to search for may come with it */
		return http_request_arg_checked(req, "q", q, err) < 0
			       ? -1
			       : (p->q = *q && **q ? *q : NULL, 0);
	if (http_request_arg_checked(req, "manifest", arg, err) < 0 ||
	    http_request_arg_checked(req, "canvas", canvas, err) < 0 ||
	    http_request_arg_checked(req, "q", q, err) < 0 ||
	    http_request_arg_checked(req, "xywh", &xywh, err) < 0)
		goto fail;
	if (!*arg || !**arg) {
		iiifd_error_set(err, 400, "manifest: give the Manifest to open, ?manifest=URL");
		goto fail;
	}
	if (web_viewer_own_url(*arg, base, manifest, n, err) < 0)
		goto fail;
	char canvas_url[VIEWER_URL_MAX];
	if (*canvas) {
		if (web_viewer_own_url(*canvas, base, canvas_url, sizeof canvas_url, err) < 0)
			goto fail;
		free(*canvas);
		*canvas = strdup(canvas_url);
	}
	if (xywh && web_viewer_parse_xywh(xywh, p->xywh, err) < 0)
		goto fail;
	p->has_xywh = xywh != NULL;
	p->manifest = manifest;
	p->canvas = *canvas;
	p->q = *q && **q ? *q : NULL;
	free(xywh);
	return 0;
fail:
	free(xywh);
	return -1;
}

static void viewer_page(const struct iiifd_config *cfg, enum web_viewer_kind kind,
			const char *assets, const struct http_request *req,
			struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct web_viewer_params p = { .kind = kind };
	char *arg = NULL, *canvas = NULL, *q = NULL, *page = NULL, manifest[VIEWER_URL_MAX];
	char version[32], *csp = NULL;
	struct content_state *st = calloc(1, sizeof *st); /* 50 KiB: not on a worker's stack */
	if (!st) {
		iiifd_error_set(&err, 500, "out of memory");
		goto out;
	}
	if (viewer_params(cfg, req, &p, st, &arg, &canvas, &q, manifest, sizeof manifest,
			  &err) < 0)
		goto refused;
	viewer_version(assets, version, sizeof version);
	if (!(page = web_viewer_page(&p, version, &err)))
		goto out;
	csp = web_viewer_csp_for(kind, cfg->content_state_origins);
	http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	http_response_header(resp, "Content-Security-Policy", "%s", csp);
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_response_header(resp, "Referrer-Policy", "same-origin");
	http_response_header(resp, "Cache-Control", "no-cache");
	http_response_body(resp, page, strlen(page), free);
	resp->compressible = true;
	page = NULL;
	goto out;
refused: /* for people: a page with the reason as text (and nothing that could run) */
	page = web_viewer_refusal_page(err.msg);
	resp->status = err.http_status;
	http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	http_response_header(resp, "Content-Security-Policy",
			     "default-src 'none'; base-uri 'none'; form-action 'none'; "
			     "frame-ancestors 'self'");
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_response_header(resp, "Cache-Control", "no-store");
	http_response_body(resp, page, strlen(page), free);
	page = NULL;
	err.http_status = 0;
out:
	if (err.http_status)
		http_response_error(resp, &err);
	free(page);
	free(csp);
	free(st);
	free(arg);
	free(canvas);
	free(q);
}

void web_viewer_handle(const struct iiifd_config *cfg, const char *rest,
		       const struct http_request *req, struct http_response *resp)
{
	char assets[PATH_MAX];
	bool installed = web_viewer_assets_dir(cfg, assets, sizeof assets) == 0;
	if (strncmp(rest, "assets/", 7) == 0) {
		if (strcmp(req->method, "POST") == 0) {
			struct iiifd_error err = { 405, "the viewers' files take GET" };
			http_response_header(resp, "Allow", "GET, HEAD, OPTIONS");
			return http_response_error(resp, &err);
		}
		if (installed)
			return viewer_asset(assets, rest + 7, req, resp);
		struct iiifd_error err = { 404, "the viewers are not installed (make web)" };
		return http_response_error(resp, &err);
	}
	int kind = web_viewer_kind_parse(rest);
	if (kind < 0) {
		struct iiifd_error err = { 404, "no such viewer: try /viewer/mirador, /viewer/uv, "
						"/viewer/clover or /viewer/tify" };
		return http_response_error(resp, &err);
	}
	if (!installed)
		return viewer_not_installed(resp, viewer_kinds[kind].title);
	viewer_page(cfg, (enum web_viewer_kind)kind, assets, req, resp);
}
