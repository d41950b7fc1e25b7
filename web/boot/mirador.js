// mirador.js: opens the Manifest named in the page's #iiifd-viewer-config in Mirador 4, with the
// annotations panel open (OCR lines, captions and tags listed without a click) and the search
// panel in the side bar (opened with the query when the page was given ?q=). A content state
// (content-state.js) becomes Mirador's window configuration, since Mirador 4 does not read
// content states: one window per target, at its Canvas (a Range's first), its region through
// the window's initialViewerConfig (the OpenSeadragon viewport) and its time on the media.
(function () {
  "use strict";
  var cs = window.iiifdContentState;
  if (!cs.config.manifest) return; // content-state.js is fetching a state given by reference

  // OpenSeadragon's zoom is 1 / the visible width in canvas units: fit the region in a box of
  // the given aspect (width / height), centred on it
  function fit(r, aspect) {
    return { x: r[0] + r[2] / 2, y: r[1] + r[3] / 2, zoom: 1 / Math.max(r[2], r[3] * aspect) };
  }

  function windowOf(v, i) {
    var win = { id: i === 0 ? "iiifd" : "iiifd-" + (i + 1), manifestId: v.manifest };
    if (v.canvas) win.canvasId = v.canvas;
    if (v.xywh) win.initialViewerConfig = fit(v.xywh, window.innerWidth / Math.max(1, window.innerHeight));
    return win;
  }

  cs.views().then(start);

  function start(views) {
    var viewer = (window.iiifdMirador = Mirador.viewer({
      id: "viewer",
      windows: views.map(windowOf),
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

    // The region again whenever OpenSeadragon's box changes size while the page settles (the
    // side panel opens once the annotations arrive, and the box narrows): Mirador keeps its
    // stored view but OpenSeadragon does not keep the region in view. Centre first, then zoom:
    // OpenSeadragon animates both, and zooming about a point while panning ends elsewhere.
    // A person's first touch of the view ends this.
    views.forEach(function (v, i) {
      if (!v.xywh || !window.ResizeObserver) return;
      var id = windowOf(v, i).id, timer = null, observer = null, box = null, touched = false;
      var refit = function () {
        if (touched || !box.clientWidth || !box.clientHeight) return;
        var f = fit(v.xywh, box.clientWidth / box.clientHeight);
        store.dispatch(M.actions.updateViewport(id, { x: f.x, y: f.y }));
        setTimeout(function () {
          if (!touched) store.dispatch(M.actions.updateViewport(id, { zoom: f.zoom }));
        }, 1300);
      };
      var stop = store.subscribe(function () {
        box = document.querySelectorAll(".openseadragon-container")[i];
        if (!box || !store.getState().viewers[id]) return;
        stop();
        observer = new ResizeObserver(function () {
          clearTimeout(timer);
          timer = setTimeout(refit, 300);
        });
        observer.observe(box);
        ["pointerdown", "wheel", "keydown"].forEach(function (type) {
          box.addEventListener(type, function () { touched = true; }, { once: true, capture: true });
        });
        setTimeout(function () { observer.disconnect(); }, 15000);
      });
    });

    renewLayersOnNewTier(store, M);

    // "Share this view": the first window's Canvas and the part of it in view
    cs.setReader(function () {
      var state = store.getState(), win = state.windows.iiifd, vp = state.viewers.iiifd;
      if (!win) return null;
      var v = { manifest: win.manifestId, canvas: win.canvasId };
      var box = document.querySelector(".openseadragon-container");
      if (vp && vp.zoom && box && box.clientWidth) {
        var w = 1 / vp.zoom, h = w * box.clientHeight / box.clientWidth;
        v.xywh = [vp.x - w / 2, vp.y - h / 2, w, h];
      }
      var media = document.querySelector("video, audio");
      if (media && media.currentTime > 0) v.t = [media.currentTime, -1];
      return v;
    });
  }

  // Access control (docs/access.md): Mirador 4.0 makes an image's OpenSeadragon layer once, from
  // the first description it gets (a protected image's 401 answer, or its degraded tier), and
  // keeps that layer when it reads the description again after a login (with the token): the
  // tiles asked for before the login stay failed, or the degraded tier stays. When an image's
  // description changes tier (degraded <-> full) or id, ask for it again with Mirador's own
  // action: the layer is dropped while it loads and made anew from the new description. Asking
  // once per change ends (the answer to the new request is the tier just seen, or one more
  // change back).
  function renewLayersOnNewTier(store, M) {
    var seen = {}; // image service id -> "tier id" of the last description Mirador settled on
    store.subscribe(function () {
      var responses = store.getState().infoResponses || {};
      Object.keys(responses).forEach(function (id) {
        var r = responses[id];
        if (!r || r.isFetching || !r.json) return;
        var tier = (r.degraded ? "degraded " : "full ") + (r.json.id || r.json["@id"]);
        var before = seen[id];
        seen[id] = tier;
        if (before !== undefined && before !== tier)
          store.dispatch(M.actions.requestInfoResponse(id, r.json));
      });
    });
  }
})();
