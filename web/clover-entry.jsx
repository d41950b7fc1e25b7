// clover-entry.jsx: the Clover IIIF viewer (a React component) as one script for iiifd's
// /viewer/clover page. scripts/install-web bundles it with esbuild, React included, into
// build/web/assets/clover/clover.js; it exposes window.IiifdClover.mount(element, props).
import React from "react";
import { createRoot } from "react-dom/client";
import Viewer from "@samvera/clover-iiif/viewer";

function mount(element, props) {
  const root = createRoot(element);
  root.render(React.createElement(Viewer, props));
  return root;
}

window.IiifdClover = { mount };
