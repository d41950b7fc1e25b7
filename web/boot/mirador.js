// mirador.js: opens the Manifest named in the page's #iiifd-viewer-config in Mirador 4, with the
// annotations panel open (OCR lines, captions and tags listed without a click) and the search
// panel in the side bar (opened with the query when the page was given ?q=).
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("iiifd-viewer-config").textContent);
  var win = { id: "iiifd", manifestId: cfg.manifest };
  if (cfg.canvas) win.canvasId = cfg.canvas;
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
      // "annotations" and "search" are not panels until the Canvas's annotations and the
      // Manifest have arrived (see below)
      defaultSideBarPanel: "info",
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

  // Mirador offers the annotations panel only once the Canvas shown has annotations (as the
  // default panel before that, it would log an error): show the annotations (OCR lines,
  // captions, tags) as soon as the first Canvas has some. (?q= is not used here: Mirador 4.0.0's
  // defaultSearchQuery is dropped when the Manifest arrives after the window opens, and starting
  // the search from here makes its search hits fail on a Canvas chosen with ?canvas=.)
  var M = Mirador.actions ? Mirador : Mirador.default;
  var store = viewer.store;
  var openPanel = function (content) {
    store.dispatch(M.actions.addOrUpdateCompanionWindow("iiifd", { content: content, position: "left" }));
  };
  var unsubscribe = store.subscribe(function () {
    var state = store.getState(), win = state.windows.iiifd;
    if (!win) return;
    var pages = win.canvasId && state.annotations && state.annotations[win.canvasId];
    if (!pages) return;
    var any = Object.keys(pages).some(function (k) {
      var json = pages[k] && pages[k].json;
      return json && ((json.items && json.items.length) || (json.resources && json.resources.length));
    });
    if (!any) return;
    unsubscribe();
    openPanel("annotations");
  });
})();
