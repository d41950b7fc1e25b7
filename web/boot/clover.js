// clover.js: opens the Manifest named in the page's #iiifd-viewer-config in Clover, with the
// information panel open (about, OCR/captions, annotations, search). A Canvas, region and time
// (from ?canvas=&xywh= or a content state's first target) are given to Clover as an IIIF Content
// State, which it opens at; the state it reports back is the view "Share this view" offers.
(function () {
  "use strict";
  var cs = window.iiifdContentState;
  if (!cs.config.manifest) return; // content-state.js is fetching a state given by reference
  var cfg = cs.config;
  cs.views().then(function (views) {
    var v = views[0] || cfg;
    var content = cfg.manifest;
    if (v.canvas) {
      var frag = [];
      if (v.xywh) frag.push("xywh=" + v.xywh.join(","));
      if (v.t) frag.push("t=" + v.t[0] + (v.t[1] >= 0 ? "," + v.t[1] : ""));
      content = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        id: window.location.href,
        type: "Annotation",
        motivation: ["contentState"],
        target: {
          id: v.canvas + (frag.length ? "#" + frag.join("&") : ""),
          type: "Canvas",
          partOf: [{ id: cfg.manifest, type: "Manifest" }],
        },
      };
    }
    mount(content);
  });

  var shown = null; // what Clover reports it shows
  cs.setReader(function () { return shown; });
  function fromClover(state) {
    var t = state && state.target;
    var src = t && (t.source || t);
    var id = src && (src.id || src);
    if (typeof id !== "string") return;
    var v = { manifest: cfg.manifest, canvas: id.split("#")[0] };
    var sel = t.selector && [].concat(t.selector)[0];
    var m = /xywh=([\d.]+),([\d.]+),([\d.]+),([\d.]+)/.exec((sel && sel.value) || id);
    if (m) v.xywh = m.slice(1).map(Number);
    shown = v;
  }

  function mount(content) {
    var props = {
      iiifContent: content,
      contentStateCallback: fromClover,
      options: {
        canvasHeight: "calc(100vh - 12rem)",
        showIIIFBadge: false,
        informationPanel: {
          open: true,
          renderAbout: true,
          renderSupplementing: true,
          renderAnnotation: true,
          renderContentSearch: true,
        },
      },
    };
    if (cfg.q) props.iiifContentSearchQuery = { q: cfg.q };
    window.iiifdClover = IiifdClover.mount(document.getElementById("viewer"), props);
  }
})();
