/*
 * assets.c: the stylesheet (no framework: system fonts, a grid, visible focus, colours above
 * WCAG AA contrast) and the one script of the pages, the copy button of the IIIF links, kept
 * out of the HTML so that the Content-Security-Policy can forbid inline scripts. Every page
 * works without it.
 */
#include "web/assets.h"

#include <string.h>

#include "core/strings.h"

static const char assets_css[] =
	":root{--ink:#1d1d1f;--muted:#4a4a4f;--link:#0a53a8;--line:#d0d0d7;--bg:#fff;"
	"--soft:#f3f4f7;--mark:#ffe066;--focus:#b3261e}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
	"color:var(--ink);background:var(--bg)}\n"
	"a{color:var(--link)}\n"
	"a:focus-visible,button:focus-visible,input:focus-visible,iframe:focus-visible,"
	"main:focus-visible{outline:3px solid var(--focus);outline-offset:2px}\n"
	".skip{position:absolute;left:-999px;top:0;background:var(--bg);padding:.5rem 1rem;"
	"z-index:10}\n.skip:focus{left:.5rem}\n"
	"header.site,footer.site{background:var(--soft);border-bottom:1px solid var(--line);"
	"padding:.5rem 1.5rem}\n"
	"footer.site{border-top:1px solid var(--line);border-bottom:0;margin-top:3rem;"
	"color:var(--muted);font-size:.9rem}\n"
	".home{font-weight:700;text-decoration:none;font-size:1.1rem}\n"
	"main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem}\n"
	"h1{font-size:1.8rem;line-height:1.25;margin:.5rem 0 1rem}\n"
	"h2{font-size:1.3rem;margin:2rem 0 .75rem;border-bottom:1px solid var(--line)}\n"
	".crumbs ol{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;"
	"font-size:.95rem}\n"
	".crumbs li+li::before{content:\"/\";padding:0 .5rem;color:var(--muted)}\n"
	".summary{font-size:1.05rem;max-width:50rem}\n"
	".plain{list-style:none;padding:0;margin:0}\n"
	".grid{list-style:none;padding:0;display:grid;"
	"grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:1rem}\n"
	".card a{display:flex;flex-direction:column;height:100%;border:1px solid var(--line);"
	"border-radius:6px;padding:.5rem;text-decoration:none;color:var(--ink)}\n"
	".card a:hover{border-color:var(--link)}\n"
	".card img,.nothumb{width:100%;height:10rem;object-fit:contain;background:var(--soft)}\n"
	".nothumb{display:block}\n"
	".card .label{font-weight:600;margin-top:.5rem;color:var(--link);"
	"overflow-wrap:anywhere}\n"
	".kind,.count{color:var(--muted);font-size:.875rem;font-weight:400}\n"
	".pages{list-style:none;padding:0;display:grid;"
	"grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:1rem}\n"
	".pages figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:.5rem}\n"
	".pages img{width:100%;height:9rem;object-fit:contain;background:var(--soft)}\n"
	".dl li{display:inline}\n.dl li+li::before{content:\" \\b7  \"}\n"
	".viewer{width:100%;height:75vh;min-height:28rem;border:1px solid var(--line)}\n"
	".switch{display:flex;gap:1rem;margin-bottom:.5rem}\n"
	"[aria-current=page]{font-weight:700}\n"
	".props{display:grid;grid-template-columns:minmax(8rem,14rem) 1fr;gap:.25rem 1rem}\n"
	".props dt{font-weight:600}\n.props dd{margin:0;overflow-wrap:anywhere}\n"
	".props dd>div+div{margin-top:.25rem}\n"
	".logo{vertical-align:middle;max-height:40px;width:auto}\n"
	".search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:1rem 0}\n"
	".search input{font:inherit;padding:.4rem .6rem;min-width:16rem;"
	"border:1px solid var(--muted);border-radius:4px}\n"
	"button{font:inherit;padding:.4rem .9rem;border:1px solid var(--link);"
	"background:var(--link);color:#fff;border-radius:4px;cursor:pointer}\n"
	".copy-row input{font:inherit;font-size:.9rem;width:min(40rem,100%);padding:.3rem}\n"
	".hits{padding-left:1.5rem}\n"
	".hit{margin-bottom:1rem}\n.hit>div{display:inline-block;vertical-align:top;"
	"max-width:48rem}\n"
	".hit img{float:left;margin:0 1rem .5rem 0;max-width:200px;max-height:200px;"
	"border:1px solid var(--line)}\n"
	".hit::after{content:\"\";display:block;clear:both}\n"
	"mark{background:var(--mark);color:var(--ink);padding:0 .1em}\n"
	".snippet{margin:.25rem 0}\n.error{color:var(--focus)}\n"
	".cs{margin:.25rem 0;font-size:.9rem}\n.share{margin-top:.5rem}\n"
	".pager ul{display:flex;gap:1.5rem;align-items:center;margin:1rem 0}\n"
	"@media (max-width:40rem){.props{grid-template-columns:1fr}}\n";

static const char assets_js[] =
	"/* iiifd: the copy buttons of the IIIF links, \"Link to this view\" and the content\n"
	" * states dragged from the page (the page works without them). */\n"
	"/* the view the embedded viewer shows now, as a link to this page (content-state.js) */\n"
	"function iiifdShare(b, src) {\n"
	"  var f = document.querySelector('iframe.viewer');\n"
	"  var cs = f && f.contentWindow && f.contentWindow.iiifdContentState;\n"
	"  var t = cs && cs.current();\n"
	"  if (!t) return;\n"
	"  src.value = location.origin + location.pathname + '?viewer=' +\n"
	"    encodeURIComponent(b.getAttribute('data-share')) + '&iiif-content=' +\n"
	"    cs.encode(JSON.stringify(t)) + '#viewer';\n"
	"}\n"
	"/* Content State 3.4: a drag carries the state as plain text, never encoded */\n"
	"document.addEventListener('dragstart', function (e) {\n"
	"  var a = e.target && e.target.closest && e.target.closest('[data-iiif-content]');\n"
	"  if (a && e.dataTransfer) e.dataTransfer.setData('text/plain', "
	"a.getAttribute('data-iiif-content'));\n"
	"});\n"
	"document.addEventListener('DOMContentLoaded', function () {\n"
	"  document.querySelectorAll('button[data-copy]').forEach(function (b) {\n"
	"    var src = document.getElementById(b.getAttribute('data-copy'));\n"
	"    if (!src) return;\n"
	"    b.hidden = false;\n"
	"    b.addEventListener('click', function () {\n"
	"      if (b.hasAttribute('data-share')) {\n"
	"        try { iiifdShare(b, src); } catch (e) { /* the link as the page was opened */ }\n"
	"      }\n"
	"      var done = function () { b.textContent = 'Copied'; "
	"setTimeout(function () { b.textContent = 'Copy'; }, 2000); };\n"
	"      if (navigator.clipboard && window.isSecureContext) {\n"
	"        navigator.clipboard.writeText(src.value).then(done, function () { src.select(); });\n"
	"      } else {\n"
	"        src.select();\n"
	"        if (document.execCommand && document.execCommand('copy')) done();\n"
	"      }\n"
	"    });\n"
	"  });\n"
	"});\n";

static void assets_send(const struct http_request *req, struct http_response *resp,
			const char *type, const char *body, size_t len)
{
	char etag[40];
	http_response_header(resp, "Content-Type", "%s; charset=utf-8", type);
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	strings_etag(body, etag, sizeof etag);
	if (http_response_validators(resp, req, etag, 0, "public, max-age=3600"))
		return;
	http_response_body(resp, (void *)body, len, NULL);
	resp->compressible = true;
}

bool assets_serve(const char *path, const struct http_request *req, struct http_response *resp)
{
	if (strcmp(path, "/static/iiifd.css") == 0)
		assets_send(req, resp, "text/css", assets_css, sizeof assets_css - 1);
	else if (strcmp(path, "/static/iiifd.js") == 0)
		assets_send(req, resp, "text/javascript", assets_js, sizeof assets_js - 1);
	else
		return false;
	return true;
}
