// uv.js: opens the Manifest named in the page's #iiifd-viewer-config in Universal Viewer 4, at the
// Canvas and region when given. UV wants the Canvas as an index: it is looked up in the Manifest.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("iiifd-viewer-config").textContent);
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

  if (!cfg.canvas) return start(0);
  fetch(cfg.manifest, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (m) {
      var items = m.items || (m.sequences && m.sequences[0] && m.sequences[0].canvases) || [];
      var want = cfg.canvas.split("#")[0];
      var i = items.findIndex(function (c) { return (c.id || c["@id"]) === want; });
      start(i < 0 ? 0 : i);
    })
    .catch(function () { start(0); });
})();
