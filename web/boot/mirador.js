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
  var viewer = (window.iiifdMirador = Mirador.viewer({
    id: "viewer",
    windows: [win],
    window: {
      allowClose: false,
      allowMaximize: false,
      defaultView: "single",
      sideBarOpen: true,
      // "annotations" is not a panel until the Canvas's annotations have arrived (see below)
      defaultSideBarPanel: cfg.q ? "search" : "info",
      panels: { info: true, attribution: true, canvas: true, annotations: true, search: true },
    },
    // Mirador lists only these motivations; OCR lines and captions are "supplementing".
    annotations: {
      filteredMotivations: ["oa:commenting", "oa:tagging", "sc:painting", "commenting",
        "tagging", "supplementing"],
    },
    // the thumbnail strip is off by default in Mirador 4: a reader should see the pages
    thumbnailNavigation: { defaultPosition: "far-bottom" },
    workspace: { type: "mosaic", allowNewWindows: false },
    workspaceControlPanel: { enabled: false },
  }));

  // Show the annotations panel as soon as the first Canvas shown has annotations (OCR lines,
  // captions, tags): Mirador offers that panel only then, and would log an error if it were
  // the default panel of a Canvas without any.
  if (cfg.q) return;
  var actions = Mirador.actions || (Mirador.default && Mirador.default.actions);
  var store = viewer.store;
  var unsubscribe = store.subscribe(function () {
    var state = store.getState(), win = state.windows.iiifd;
    var pages = win && win.canvasId && state.annotations && state.annotations[win.canvasId];
    if (!pages) return;
    var any = Object.keys(pages).some(function (k) {
      var json = pages[k] && pages[k].json;
      return json && ((json.items && json.items.length) || (json.resources && json.resources.length));
    });
    if (!any) return;
    unsubscribe();
    store.dispatch(actions.addOrUpdateCompanionWindow("iiifd", { content: "annotations", position: "left" }));
  });
})();
