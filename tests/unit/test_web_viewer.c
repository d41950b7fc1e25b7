/*
 * test_web_viewer.c: the viewer pages' pure parts: viewer names, xywh, which Manifest URLs a
 * page may open, the page itself (settings JSON that cannot end its <script>), the CSP.
 */
#include <stdlib.h>
#include <string.h>

#include "web/viewer.h"
#include "unit.h"

static void test_kind(void)
{
	CHECK_INT(web_viewer_kind_parse("mirador"), WEB_VIEWER_MIRADOR, "mirador");
	CHECK_INT(web_viewer_kind_parse("uv"), WEB_VIEWER_UV, "uv");
	CHECK_INT(web_viewer_kind_parse("clover"), WEB_VIEWER_CLOVER, "clover");
	CHECK_INT(web_viewer_kind_parse("tify"), WEB_VIEWER_TIFY, "tify");
	CHECK_INT(web_viewer_kind_parse("Mirador"), -1, "names are lower case");
	CHECK_INT(web_viewer_kind_parse("assets"), -1, "assets is no viewer");
	CHECK_INT(web_viewer_kind_parse(""), -1, "empty");
}

static void test_xywh(void)
{
	static const struct {
		const char *in;
		int ok;
		double want[4];
	} cases[] = {
		{ "0,0,100,50", 1, { 0, 0, 100, 50 } },
		{ "10.5,2,3.25,4", 1, { 10.5, 2, 3.25, 4 } },
		{ "0,0,0,5", 0, { 0 } },          /* empty width */
		{ "1,2,3", 0, { 0 } },            /* three numbers */
		{ "1,2,3,4,5", 0, { 0 } },        /* five */
		{ "-1,2,3,4", 0, { 0 } },         /* negative */
		{ "nan,0,1,1", 0, { 0 } },        /* strtod would take these */
		{ "inf,0,1,1", 0, { 0 } },
		{ "0x10,0,1,1", 0, { 0 } },
		{ "1e3,0,1,1", 0, { 0 } },
		{ "1, 2,3,4", 0, { 0 } },         /* spaces */
		{ "", 0, { 0 } },
		{ "pixel:1,2,3,4", 0, { 0 } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double out[4] = { 0 };
		struct iiifd_error err = { 0 };
		int rc = web_viewer_parse_xywh(cases[i].in, out, &err);
		CHECK(rc == (cases[i].ok ? 0 : -1), "xywh '%s': rc %d", cases[i].in, rc);
		if (cases[i].ok) {
			for (int k = 0; k < 4; k++)
				CHECK(out[k] == cases[i].want[k], "xywh '%s' [%d] = %g", cases[i].in, k,
				      out[k]);
		} else {
			CHECK_INT(err.http_status, 400, cases[i].in);
			CHECK(strstr(err.msg, "xywh") != NULL, "reason names xywh: %s", err.msg);
		}
	}
}

static void test_own_url(void)
{
	static const struct {
		const char *manifest, *base, *want; /* want NULL = refused */
	} cases[] = {
		{ "http://h:1/iiif/presentation/a/manifest", "http://h:1",
		  "http://h:1/iiif/presentation/a/manifest" },
		{ "/iiif/presentation/a/manifest", "http://h:1", "http://h:1/iiif/presentation/a/manifest" },
		/* a public-url with a path prefix: paths must start with it */
		{ "/pre/iiif/presentation/a/manifest", "https://ex.org/pre",
		  "https://ex.org/pre/iiif/presentation/a/manifest" },
		{ "/iiif/presentation/a/manifest", "https://ex.org/pre", NULL },
		{ "https://ex.org/pre/x", "https://ex.org/pre", "https://ex.org/pre/x" },
		{ "https://ex.org/prefix/x", "https://ex.org/pre", NULL },
		{ "http://other:1/iiif/presentation/a/manifest", "http://h:1", NULL },
		{ "http://h:10/iiif/presentation/a/manifest", "http://h:1", NULL },
		{ "http://h:1", "http://h:1", NULL },
		{ "//other/x", "http://h:1", NULL },
		{ "javascript:alert(1)", "http://h:1", NULL },
		{ "/a\"><script>", "http://h:1", NULL },
		{ "/a b", "http://h:1", NULL },
		{ "/a\nb", "http://h:1", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[256] = "";
		struct iiifd_error err = { 0 };
		int rc = web_viewer_own_url(cases[i].manifest, cases[i].base, out, sizeof out, &err);
		if (cases[i].want) {
			CHECK(rc == 0, "'%s' on %s refused: %s", cases[i].manifest, cases[i].base,
			      err.msg);
			CHECK_STR(out, cases[i].want, cases[i].manifest);
		} else {
			CHECK(rc < 0, "'%s' on %s must be refused", cases[i].manifest, cases[i].base);
			CHECK_INT(err.http_status, 400, cases[i].manifest);
		}
	}
}

static void test_page(void)
{
	struct iiifd_error err = { 0 };
	struct web_viewer_params p = {
		.kind = WEB_VIEWER_MIRADOR,
		.manifest = "http://h:1/iiif/presentation/a/manifest",
		.canvas = "http://h:1/iiif/presentation/a/manifest/canvas/2",
		.xywh = { 1, 2, 30, 40 },
		.has_xywh = 1,
		.q = "</script><script>alert(1)</script>&<!--",
	};
	char *page = web_viewer_page(&p, "abc123", &err);
	CHECK(page != NULL, "page: %s", err.msg);
	if (!page)
		return;
	CHECK(strstr(page, "<meta charset=\"utf-8\">") != NULL, "charset");
	CHECK(strstr(page, "src=\"assets/mirador/mirador.min.js?v=abc123\"") != NULL, "viewer");
	CHECK(strstr(page, "src=\"assets/boot/mirador.js?v=abc123\"") != NULL, "boot script");
	CHECK(strstr(page, "\"canvas\":\"http://h:1/iiif/presentation/a/manifest/canvas/2\"") != NULL,
	      "canvas in the settings");
	CHECK(strstr(page, "\"xywh\":[1.0,2.0,30.0,40.0]") != NULL ||
		      strstr(page, "\"xywh\":[1,2,30,40]") != NULL,
	      "xywh in the settings");
	/* the query is in the page, but cannot close the element or open a comment */
	CHECK(strstr(page, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)") != NULL,
	      "escaped query");
	CHECK(strstr(page, "alert(1)</script>") == NULL, "no raw </script> from input");
	CHECK(strstr(page, "<!--") == NULL, "no comment opener from input");
	CHECK(strstr(page, "\\u0026") != NULL, "& escaped");
	/* four script elements: settings, content-state.js, viewer, boot; no inline code */
	int scripts = 0;
	for (const char *s = page; (s = strstr(s, "<script")); s++)
		scripts++;
	CHECK_INT(scripts, 4, "script elements");
	free(page);

	p.kind = WEB_VIEWER_UV;
	p.canvas = NULL;
	p.has_xywh = 0;
	p.q = NULL;
	page = web_viewer_page(&p, "v", &err);
	CHECK(page && strstr(page, "href=\"assets/uv/uv.css?v=v\""), "UV's stylesheet");
	CHECK(page && !strstr(page, "\"canvas\""), "no canvas when not given");
	free(page);
}

static void test_csp(void)
{
	for (int k = WEB_VIEWER_MIRADOR; k <= WEB_VIEWER_TIFY; k++) {
		for (int with = 0; with < 2; with++) {
			char *csp = web_viewer_csp_for((enum web_viewer_kind)k,
						       with ? "https://a.example.org" : NULL);
			CHECK(strstr(csp, "script-src 'self'") != NULL, "script-src self (%d)", k);
			CHECK(strstr(csp, "unsafe-eval") == NULL, "no unsafe-eval (%d)", k);
			CHECK(strstr(csp, "default-src 'none'") != NULL, "default none (%d)", k);
			CHECK(strstr(csp, "frame-ancestors 'self'") != NULL, "frame-ancestors (%d)", k);
			/* the token services of IIIF auth answer in an iframe */
			CHECK(strstr(csp, "frame-src 'self'") != NULL, "frame-src (%d, %d)", k, with);
			CHECK(!with || strstr(csp, "connect-src 'self' https://a.example.org"),
			      "an allowed origin (%d): %s", k, csp);
			free(csp);
		}
	}
}

int main(void)
{
	UNIT_RUN(test_kind);
	UNIT_RUN(test_xywh);
	UNIT_RUN(test_own_url);
	UNIT_RUN(test_page);
	UNIT_RUN(test_csp);
	return unit_report("web_viewer");
}
