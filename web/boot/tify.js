// tify.js: opens the Manifest named in the page's #iiifd-viewer-config in TIFY, with its full-text
// panel open (the OCR lines of the page, once each), at the Canvas given (TIFY counts pages
// from 1, so the Manifest is read first to find it). Loaded as a module, after TIFY's own.
// A content state (content-state.js) opens its first target (a Range at its first Canvas).
const cs = window.iiifdContentState;
const cfg = cs.config;

function open(page) {
  window.iiifdTify = new window.Tify({
    container: "#viewer",
    manifestUrl: cfg.manifest,
    pages: [page],
    translationsDirUrl: "assets/tify/translations",
    urlQueryKey: "tify",
  });
  // TIFY 0.35 loads a page's text when the view changes, not for the view it starts in
  window.iiifdTify.ready.then(() => window.iiifdTify.setView("text"));
}

const views = cfg.manifest ? await cs.views() : [];
const canvas = views[0] && views[0].canvas;
if (!cfg.manifest) {
  // content-state.js is fetching a state given by reference
} else if (!canvas) {
  open(1);
} else {
  fetch(cfg.manifest)
    .then((r) => r.json())
    .then((m) => {
      const i = (m.items || []).findIndex((c) => c.id === canvas);
      open(i >= 0 ? i + 1 : 1);
    })
    .catch(() => open(1));
}
