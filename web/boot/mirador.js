// mirador.js: opens the Manifest named in the page's #iiifd-viewer-config in Mirador 4, with the
// annotations panel open (OCR lines, captions and tags listed without a click) and the search
// panel in the side bar (opened with the query when the page was given ?q=).
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("iiifd-viewer-config").textContent);
  var win = { id: "iiifd", manifestId: cfg.manifest };
  if (cfg.canvas) win.canvasId = cfg.canvas;
  if (cfg.q) win.defaultSearchQuery = cfg.q;
  if (cfg.xywh) {
    // OpenSeadragon's zoom is 1 / the visible width in canvas pixels; fit the region.
    var r = cfg.xywh, aspect = window.innerWidth / Math.max(1, window.innerHeight);
    win.initialViewerConfig = {
      x: r[0] + r[2] / 2,
      y: r[1] + r[3] / 2,
      zoom: 1 / Math.max(r[2], r[3] * aspect),
    };
  }
  window.iiifdMirador = Mirador.viewer({
    id: "viewer",
    windows: [win],
    window: {
      allowClose: false,
      allowMaximize: false,
      defaultView: "single",
      sideBarOpen: true,
      defaultSideBarPanel: cfg.q ? "search" : "annotations",
      panels: { info: true, attribution: true, canvas: true, annotations: true, search: true },
    },
    // Mirador lists only these motivations; OCR lines and captions are "supplementing".
    annotations: {
      filteredMotivations: ["oa:commenting", "oa:tagging", "sc:painting", "commenting",
        "tagging", "supplementing"],
    },
    workspace: { type: "mosaic", allowNewWindows: false },
    workspaceControlPanel: { enabled: false },
  });
})();
