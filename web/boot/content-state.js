// content-state.js: IIIF Content State 1.0 on iiifd's viewer pages (docs/content-state.md), loaded
// before the viewer and its boot script. It
//  - fetches a content state given by reference (cfg.resolve: an Annotation URI, §2.2.2) and
//    opens the page again with what it found, for the server to read;
//  - takes content states dropped on the page (§3.4: text/plain, a URI or plain JSON, never
//    encoded) or pasted into it (§3.3), and opens the page with them (?iiif-content=, encoded
//    as §6 requires of a URL);
//  - resolves a Range to its first Canvas and seeks audio and video to a #t= time;
//  - offers the current view as a content state: iiifdContentState.current() (each boot script
//    registers how to read its viewer), used by the Manifest page's "Share this view".
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("iiifd-viewer-config").textContent);

  // §6.1: encodeURIComponent, then base64url without padding
  function encode(text) {
    return btoa(encodeURIComponent(text)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function openWith(value) {
    var url = window.location.pathname + "?iiif-content=" + encodeURIComponent(value);
    window.location.assign(url);
  }

  // what a person may drop or paste: plain JSON, a URI, or a link carrying one
  function take(text) {
    text = (text || "").trim();
    if (!text) return false;
    if (text[0] === "{" || text[0] === "[") {
      openWith(encode(text));
      return true;
    }
    var url;
    try {
      url = new URL(text.split(/\s+/)[0], window.location.href);
    } catch (e) {
      return false;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    // the IIIF drag-and-drop links: ?iiif-content= (as it is) or the older ?manifest=
    var inner = url.searchParams.get("iiif-content") || url.searchParams.get("manifest");
    openWith(inner || url.href);
    return true;
  }

  function say(text) {
    var el = document.getElementById("viewer");
    var p = document.createElement("p");
    p.className = "iiifd-message";
    p.setAttribute("role", "alert");
    p.textContent = text; // text only, whatever it holds
    el.replaceChildren(p);
  }

  function dropped(ev) {
    var dt = ev.dataTransfer;
    if (!dt) return;
    var text = dt.getData("text/plain") || dt.getData("text/uri-list");
    if (take(text)) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }
  // capture: before the viewer's own drop targets (Mirador takes only ?manifest= links)
  window.addEventListener("dragover", function (ev) { ev.preventDefault(); }, true);
  window.addEventListener("drop", dropped, true);
  document.addEventListener("paste", function (ev) {
    var t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    var text = ev.clipboardData && ev.clipboardData.getData("text/plain");
    if (text && /^\s*(\{|\[|https?:)/.test(text) && take(text)) ev.preventDefault();
  });

  // §2.2.2: a URI the server could not tell the kind of; fetch it, then read what came back
  if (cfg.resolve) {
    say("Opening " + cfg.resolve + " ...");
    fetch(cfg.resolve, { credentials: "same-origin", headers: { Accept: "application/ld+json, application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (doc) {
        // a Manifest or Collection is opened as itself; anything else is read as a state
        if (doc && (doc.type === "Manifest" || doc.type === "Collection") && doc.id)
          return openWith(doc.id);
        openWith(encode(JSON.stringify(doc)));
      })
      .catch(function (e) {
        say("This content state could not be fetched: " + cfg.resolve + " (" + e.message + ")");
      });
  }

  // The first Canvas of a Range (found in the Manifest's structures), for views that name one.
  function firstCanvas(range) {
    var items = range.items || range.members || range.canvases || [];
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      if (typeof it === "string") return it;
      if (it.type === "Canvas" || it["@type"] === "sc:Canvas") return it.id || it["@id"];
      if (it.type === "SpecificResource" && it.source) return it.source.id || it.source;
      if (it.type === "Range") {
        var c = firstCanvas(it);
        if (c) return c;
      }
    }
    return null;
  }
  function findRange(list, id) {
    for (var i = 0; list && i < list.length; i++) {
      var r = list[i];
      if ((r.id || r["@id"]) === id) return r;
      var inner = findRange((r.items || []).filter(function (x) { return x.type === "Range"; }), id);
      if (inner) return inner;
    }
    return null;
  }
  function resolveRanges(views) {
    return Promise.all(views.map(function (v) {
      if (!v.range || v.canvas) return v;
      return fetch(v.manifest, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (m) {
          var r = findRange(m.structures || m.ranges, v.range);
          if (r) v.canvas = firstCanvas(r);
          return v;
        })
        .catch(function () { return v; });
    }));
  }

  // #t=: seek the page's audio or video once it is there (and play from there)
  function seek(t) {
    if (!t) return;
    var tries = 0;
    var timer = setInterval(function () {
      var media = document.querySelector("video, audio");
      if (++tries > 120) clearInterval(timer);
      if (!media) return;
      clearInterval(timer);
      var go = function () {
        media.currentTime = t[0];
        if (t[1] >= 0) {
          media.addEventListener("timeupdate", function stop() {
            if (media.currentTime >= t[1]) {
              media.pause();
              media.removeEventListener("timeupdate", stop);
            }
          });
        }
      };
      if (media.readyState >= 1) go();
      else media.addEventListener("loadedmetadata", go, { once: true });
    }, 250);
  }

  var views = cfg.views || (cfg.manifest ? [cfg] : []);
  var reader = null;
  window.iiifdContentState = {
    config: cfg,
    encode: encode,
    // boot scripts: a Promise of the views with Ranges turned into their first Canvas
    views: function () { return resolveRanges(views); },
    seek: seek,
    // boot scripts register fn() -> {manifest, canvas, xywh, t} for the view shown now
    setReader: function (fn) { reader = fn; },
    // the current view as a content state target (§2.2.3), or null before the viewer is up
    current: function () {
      var v = null;
      try {
        v = reader ? reader() : null;
      } catch (e) {
        v = null;
      }
      v = v || views[0];
      if (!v || !v.manifest) return null;
      if (!v.canvas) return { id: v.manifest, type: v.collection ? "Collection" : "Manifest" };
      var frag = [];
      if (v.xywh) frag.push("xywh=" + v.xywh.map(function (n) { return Math.max(0, Math.round(n)); }).join(","));
      if (v.t && v.t[0] >= 0) frag.push("t=" + (Math.round(v.t[0] * 1000) / 1000) + (v.t[1] >= 0 ? "," + v.t[1] : ""));
      return {
        id: v.canvas + (frag.length ? "#" + frag.join("&") : ""),
        type: "Canvas",
        partOf: [{ id: v.manifest, type: "Manifest" }],
      };
    },
  };
  if (cfg.t) seek(cfg.t);

  // On a viewer page opened on its own (not in a Manifest page, which has its own), a link to
  // the view shown now: its address follows the view whenever it is pointed at or focused, and
  // a click copies it and puts it in the address bar.
  if (window.top === window && views.length) {
    var share = document.createElement("a");
    share.className = "iiifd-share";
    share.textContent = "Link to this view";
    share.href = window.location.href;
    var refresh = function () {
      var t = window.iiifdContentState.current();
      if (t) share.href = window.location.pathname + "?iiif-content=" + encode(JSON.stringify(t));
    };
    ["pointerenter", "focus", "pointerdown"].forEach(function (type) {
      share.addEventListener(type, refresh);
    });
    share.addEventListener("click", function (ev) {
      ev.preventDefault();
      refresh();
      window.history.replaceState(null, "", share.href);
      var done = function () {
        share.textContent = "Link copied";
        setTimeout(function () { share.textContent = "Link to this view"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext)
        navigator.clipboard.writeText(share.href).then(done, function () {});
    });
    document.body.appendChild(share);
  }
})();
