// uv.js: opens the Manifest named in the page's #iiifd-viewer-config in Universal Viewer 4, at the
// Canvas and region when given. UV wants the Canvas as an index: it is looked up in the Manifest.
// A content state (content-state.js) opens its first target (a Range at its first Canvas).
(function () {
  "use strict";
  var cs = window.iiifdContentState;
  if (!cs.config.manifest) return; // content-state.js is fetching a state given by reference
  var cfg = cs.config;
  var canvases = [];
  var el = document.getElementById("viewer");
  el.classList.add("uv");

  // UV lays itself out from its element's size in pixels, as its own uv.html does
  function resize() {
    el.style.width = window.innerWidth + "px";
    el.style.height = window.innerHeight + "px";
  }
  resize();
  window.addEventListener("resize", resize);

  function start(canvasIndex) {
    var data = { manifest: cfg.manifest, embedded: true, canvasIndex: canvasIndex };
    if (cfg.xywh) data.xywh = cfg.xywh.join(",");
    window.iiifdUV = UV.init("viewer", data);
    // "Share this view": the Canvas UV shows now
    var shown = canvasIndex;
    window.iiifdUV.on("canvasIndexChange", function (i) { shown = i; });
    cs.setReader(function () {
      var id = canvases[shown];
      if (!id) return null;
      return { manifest: cfg.manifest, canvas: id, xywh: id === cfg.canvas ? cfg.xywh : null };
    });
    window.iiifdUV.on("configure", function (args) {
      // the contents panel (thumbnails) and the information panel open; search in the footer
      args.cb({
        modules: {
          contentLeftPanel: { options: { panelOpen: true } },
          moreInfoRightPanel: { options: { panelOpen: true } },
        },
      });
    });
  }

  cs.views().then(function (views) {
    if (views[0] && views[0].canvas) cfg.canvas = views[0].canvas;
    return fetch(cfg.manifest, { credentials: "same-origin" });
  })
    .then(function (r) { return r.json(); })
    .then(function (m) {
      var items = m.items || (m.sequences && m.sequences[0] && m.sequences[0].canvases) || [];
      canvases = items.map(function (c) { return c.id || c["@id"]; });
      var want = cfg.canvas ? cfg.canvas.split("#")[0] : null;
      var i = want ? canvases.indexOf(want) : 0;
      start(i < 0 ? 0 : i);
    })
    .catch(function () { start(0); });
})();
