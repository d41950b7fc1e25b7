// clover.js: opens the Manifest named in the page's #iiifd-viewer-config in Clover, with the
// information panel open (about, OCR/captions, annotations, search). A Canvas and region are
// given to Clover as an IIIF Content State, which it opens at.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("iiifd-viewer-config").textContent);
  var content = cfg.manifest;
  if (cfg.canvas) {
    content = {
      "@context": "http://iiif.io/api/presentation/3/context.json",
      id: window.location.href,
      type: "Annotation",
      motivation: ["contentState"],
      target: {
        id: cfg.canvas + (cfg.xywh ? "#xywh=" + cfg.xywh.join(",") : ""),
        type: "Canvas",
        partOf: [{ id: cfg.manifest, type: "Manifest" }],
      },
    };
  }
  var props = {
    iiifContent: content,
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
})();
