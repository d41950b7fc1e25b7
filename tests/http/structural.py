"""The project's own structural checks of IIIF Presentation 3.0 documents: the MUSTs of the
specification (sections 3, 4 and 5 and Appendix A, "Summary of Property Requirements"), written as
code, so every document is checked even where the official JSON schema (../shared/schemas) is not
available. Where the schema is available the tests apply both (presentation_fixtures.DocChecks).

    problems(doc, expect=None, top=True) -> ["/json/path: what is wrong", ...]   ([] = fine)

expect names the type the document must have ("Canvas", or a schema class such as "canvas" or
"annotationPage"); None accepts any top-level type (Collection, Manifest, AnnotationPage,
Annotation, AnnotationCollection). top=True also asks for the @context of a top-level resource.

What is checked, per resource (found by its position in the document, not only by its type):
  - id: required where Appendix A requires it, a string, an absolute http(s) URI; a Canvas id has
    no fragment (5.3);
  - type: required, a string, the expected class where the position fixes one;
  - label, summary: language maps (4.4: keys "none" or BCP 47 tags, values arrays of strings);
    metadata and requiredStatement: {label, value} pairs of language maps;
  - rights: one absolute http(s) URI string; navDate: an xsd:dateTime with a timezone;
  - height, width: positive integers, both or neither; duration: a positive number; a Canvas has
    height and width and/or duration;
  - viewingDirection, behavior, timeMode: allowed values, on the classes that allow them;
  - properties not allowed on a class (Appendix A) are absent;
  - items: an array (non-empty for Manifest and Range, 3.4) of the classes it may hold;
    structures: Ranges; annotations: AnnotationPages;
  - Annotation: motivation strings, target present; body resources well formed;
  - linking properties (homepage, logo, rendering, seeAlso, partOf, provider, thumbnail, service,
    services, start): arrays of objects with an id and a type (services: id/@id and type/@type);
  - @context: on a top-level resource, with the Presentation 3 context last (4.6); not inside
    embedded Presentation resources.

Nothing here is a test (test_structural.py feeds it broken documents).
"""

import re
import urllib.parse

P3_CONTEXT = "http://iiif.io/api/presentation/3/context.json"

TOP_LEVEL = ("Collection", "Manifest", "AnnotationPage", "Annotation", "AnnotationCollection")
CLASS_TYPE = {"collection": "Collection", "manifest": "Manifest", "canvas": "Canvas",
              "range": "Range", "annotationPage": "AnnotationPage", "annotation": "Annotation",
              "annotationCollection": "AnnotationCollection"}
STRUCTURAL = ("Collection", "Manifest", "Canvas", "Range", "AnnotationPage", "Annotation",
              "AnnotationCollection")

# Appendix A: properties a class must not have ("not allowed"). Content resources are the rest.
NOT_ALLOWED = {
    "Collection": {"language", "format", "profile", "height", "width", "duration", "timeMode",
                   "start", "supplementary", "structures"},
    "Manifest": {"language", "format", "profile", "height", "width", "duration", "timeMode",
                 "supplementary"},
    "Canvas": {"language", "format", "profile", "viewingDirection", "timeMode", "start",
               "supplementary", "services", "structures"},
    "Annotation": {"navDate", "language", "placeholderCanvas", "accompanyingCanvas", "format",
                   "profile", "height", "width", "duration", "viewingDirection", "start",
                   "supplementary", "services", "items", "structures", "annotations"},
    "AnnotationPage": {"navDate", "language", "placeholderCanvas", "accompanyingCanvas", "format",
                       "profile", "height", "width", "duration", "viewingDirection", "timeMode",
                       "start", "supplementary", "services", "structures", "annotations"},
    "Range": {"language", "format", "profile", "height", "width", "duration", "timeMode",
              "services", "structures"},
    "AnnotationCollection": {"navDate", "language", "placeholderCanvas", "accompanyingCanvas",
                             "format", "profile", "height", "width", "duration",
                             "viewingDirection", "timeMode", "start", "supplementary", "services",
                             "items", "structures", "annotations"},
    "content": {"navDate", "placeholderCanvas", "accompanyingCanvas", "viewingDirection",
                "timeMode", "start", "supplementary", "services", "items", "structures"},
}
REQUIRED = {"Collection": ("id", "type", "label", "items"),
            "Manifest": ("id", "type", "label", "items"),
            "Canvas": ("id", "type"), "Range": ("id", "type", "items"),
            "AnnotationPage": ("id", "type"), "Annotation": ("id", "type", "target"),
            "AnnotationCollection": ("id", "type")}
# what each class's items may hold (3.4)
ITEMS = {"Collection": ("Collection", "Manifest"), "Manifest": ("Canvas",),
         "Canvas": ("AnnotationPage",), "AnnotationPage": ("Annotation",),
         "Range": ("Canvas", "Range", "SpecificResource")}
NON_EMPTY_ITEMS = ("Manifest", "Range")

BEHAVIOR = {   # Appendix A, Behavior Values; "hidden" only on pages, annotations, content
    "Collection": {"auto-advance", "continuous", "individuals", "multi-part", "no-auto-advance",
                   "no-repeat", "paged", "repeat", "together", "unordered"},
    "Manifest": {"auto-advance", "continuous", "individuals", "no-auto-advance", "no-repeat",
                 "paged", "repeat", "unordered"},
    "Canvas": {"auto-advance", "facing-pages", "no-auto-advance", "non-paged"},
    "Range": {"auto-advance", "continuous", "individuals", "no-auto-advance", "no-nav", "paged",
              "sequence", "thumbnail-nav", "unordered"},
}
ALL_BEHAVIORS = set().union(*BEHAVIOR.values(), {"hidden"})
VIEWING_DIRECTIONS = {"left-to-right", "right-to-left", "top-to-bottom", "bottom-to-top"}
TIME_MODES = {"trim", "scale", "loop"}

BCP47 = re.compile(r"^(none|[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*)$")
DATETIME_TZ = re.compile(
    r"^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$")
LINKS = ("homepage", "logo", "rendering", "seeAlso", "partOf", "thumbnail")


def is_http_uri(s):
    """An absolute http(s) URI without spaces (3.2 id: 'The value MUST be a string ... HTTP(S)
    URI' for the Presentation classes)."""
    if not isinstance(s, str) or not s or any(c.isspace() for c in s):
        return False
    u = urllib.parse.urlsplit(s)
    return u.scheme in ("http", "https") and bool(u.netloc)


class _Checker:
    def __init__(self):
        self.out = []

    def bad(self, path, msg):
        self.out.append(f"{path or '/'}: {msg}")

    # --- values ---------------------------------------------------------------------------
    def lang_map(self, path, v):
        if not isinstance(v, dict) or not v:
            self.bad(path, f"not a language map (an object of language: [strings]): {v!r:.80}")
            return
        for k, vals in v.items():
            if not isinstance(k, str) or not BCP47.match(k):
                self.bad(path, f"language map key {k!r} is neither 'none' nor a BCP 47 tag")
            if not isinstance(vals, list) or not all(isinstance(s, str) for s in vals):
                self.bad(f"{path}/{k}", f"language map value is not an array of strings: "
                         f"{vals!r:.80}")

    def label_value(self, path, v):
        if not isinstance(v, dict):
            self.bad(path, f"not a {{label, value}} object: {v!r:.80}")
            return
        for k in ("label", "value"):
            if k not in v:
                self.bad(path, f"missing {k}")
            else:
                self.lang_map(f"{path}/{k}", v[k])

    def uri(self, path, v, what="id"):
        if not is_http_uri(v):
            self.bad(path, f"{what} is not an absolute http(s) URI: {v!r:.100}")

    def array(self, path, v, what):
        if not isinstance(v, list):
            self.bad(path, f"{what} must be an array, got {type(v).__name__}")
            return []
        return v

    # --- resources ------------------------------------------------------------------------
    def resource(self, path, o, want=None, id_required=True, top=False, refs_ok=False):
        """Any resource; want = tuple of acceptable types (None: any). refs_ok: where the spec
        allows a reference (id, type, label) instead of the whole resource, a Presentation
        resource without items is one, and only its id, type and descriptive values are
        checked."""
        if not isinstance(o, dict):
            self.bad(path, f"expected an object, got {o!r:.80}")
            return
        typ = o.get("type")
        if not isinstance(typ, str) or not typ:
            self.bad(path, f"missing or non-string type: {typ!r}")
        elif want and typ not in want:
            self.bad(path, f"type {typ!r} where {' or '.join(want)} is expected")
        if "id" in o or id_required:
            if "id" not in o:
                self.bad(path, "missing id")
            else:
                self.uri(f"{path}/id", o["id"])
        if "@context" in o and not top:
            self.bad(f"{path}/@context", "@context on an embedded resource (4.6)")
        cls = typ if typ in STRUCTURAL else "content"
        if refs_ok and cls != "content" and "items" not in o:
            self.common(path, o, typ)
            return
        if typ in REQUIRED:
            for k in REQUIRED[typ]:
                if k not in o:
                    self.bad(path, f"{typ} without the required property {k}")
        for k in sorted(NOT_ALLOWED[cls] & set(o)):
            self.bad(f"{path}/{k}", f"{k} is not allowed on {typ if cls != 'content' else 'a content resource'}")
        self.common(path, o, typ)
        if cls != "content":
            getattr(self, "t_" + typ)(path, o)
        else:
            self.content(path, o, typ)

    def common(self, path, o, typ):
        for k in ("label", "summary"):
            if k in o:
                self.lang_map(f"{path}/{k}", o[k])
        for i, m in enumerate(self.array(f"{path}/metadata", o.get("metadata", []), "metadata")):
            self.label_value(f"{path}/metadata/{i}", m)
        if "requiredStatement" in o:
            self.label_value(f"{path}/requiredStatement", o["requiredStatement"])
        if "rights" in o:
            self.uri(f"{path}/rights", o["rights"], "rights")
        if "navDate" in o and not (isinstance(o["navDate"], str)
                                   and DATETIME_TZ.match(o["navDate"])):
            self.bad(f"{path}/navDate", f"not an xsd:dateTime with a timezone: {o['navDate']!r}")
        for k in ("height", "width"):
            if k in o and not (type(o[k]) is int and o[k] > 0):
                self.bad(f"{path}/{k}", f"{k} must be a positive integer: {o[k]!r}")
        if ("height" in o) != ("width" in o):
            self.bad(path, "has one of height and width without the other")
        if "duration" in o and not (type(o["duration"]) in (int, float) and o["duration"] > 0):
            self.bad(f"{path}/duration", f"duration must be a positive number: {o['duration']!r}")
        if "format" in o and not (isinstance(o["format"], str) and MEDIA_TYPE.match(o["format"])):
            self.bad(f"{path}/format", f"not a media type: {o['format']!r}")
        if "viewingDirection" in o and o["viewingDirection"] not in VIEWING_DIRECTIONS:
            self.bad(f"{path}/viewingDirection", f"unknown value {o['viewingDirection']!r}")
        if "timeMode" in o and o["timeMode"] not in TIME_MODES:
            self.bad(f"{path}/timeMode", f"unknown value {o['timeMode']!r}")
        self.behavior(path, o, typ)
        self.links(path, o)

    def behavior(self, path, o, typ):
        if "behavior" not in o:
            return
        allowed = BEHAVIOR.get(typ)
        for i, b in enumerate(self.array(f"{path}/behavior", o["behavior"], "behavior")):
            if not isinstance(b, str):
                self.bad(f"{path}/behavior/{i}", f"not a string: {b!r}")
            elif b in ALL_BEHAVIORS and allowed is not None and b not in allowed:
                self.bad(f"{path}/behavior/{i}", f"behavior {b!r} is not allowed on {typ}")
            elif b == "hidden" and typ in BEHAVIOR:
                self.bad(f"{path}/behavior/{i}", f"behavior 'hidden' is not allowed on {typ}")

    def links(self, path, o):
        for k in LINKS:
            if k not in o:
                continue
            for i, r in enumerate(self.array(f"{path}/{k}", o[k], k)):
                self.resource(f"{path}/{k}/{i}", r, refs_ok=True)
                if k in ("homepage", "rendering") and isinstance(r, dict) and "label" not in r:
                    self.bad(f"{path}/{k}/{i}", f"{k} without label (3.3.1)")
        for i, a in enumerate(self.array(f"{path}/provider", o.get("provider", []), "provider")):
            self.resource(f"{path}/provider/{i}", a, ("Agent",))
            if isinstance(a, dict) and "label" not in a:
                self.bad(f"{path}/provider/{i}", "Agent without label")
        for k in ("service", "services"):
            for i, s in enumerate(self.array(f"{path}/{k}", o.get(k, []), k)):
                self.service(f"{path}/{k}/{i}", s)
        if "start" in o:
            self.resource(f"{path}/start", o["start"], ("Canvas", "SpecificResource"),
                          id_required=False, refs_ok=True)
        for k in ("placeholderCanvas", "accompanyingCanvas"):
            if k in o:
                self.resource(f"{path}/{k}", o[k], ("Canvas",))
                if isinstance(o[k], dict):
                    for inner in ("placeholderCanvas", "accompanyingCanvas"):
                        if inner in o[k]:
                            self.bad(f"{path}/{k}/{inner}", f"a {k} with its own {inner}")
        if "annotations" in o:
            for i, p in enumerate(self.array(f"{path}/annotations", o["annotations"],
                                             "annotations")):
                self.resource(f"{path}/annotations/{i}", p, ("AnnotationPage",), refs_ok=True)

    def service(self, path, s):
        """Services of any API version: an id (@id in version 2) and a type (@type)."""
        if not isinstance(s, dict):
            self.bad(path, f"service is not an object: {s!r:.80}")
            return
        sid = s.get("id", s.get("@id"))
        if sid is None:
            self.bad(path, "service without id / @id")
        else:
            self.uri(path, sid, "service id")
        t = s.get("type", s.get("@type"))
        if not isinstance(t, str) or not t:
            self.bad(path, "service without type / @type")
        for i, inner in enumerate(self.array(f"{path}/service", s.get("service", []), "service")):
            self.service(f"{path}/service/{i}", inner)

    def items(self, path, o, typ):
        if "items" not in o:
            return
        items = self.array(f"{path}/items", o["items"], "items")
        if typ in NON_EMPTY_ITEMS and isinstance(o["items"], list) and not items:
            self.bad(f"{path}/items", f"a {typ} MUST have at least one item (3.4)")
        for i, it in enumerate(items):
            p = f"{path}/items/{i}"
            if typ == "Range" and isinstance(it, dict) and it.get("type") == "SpecificResource":
                self.resource(p, it, ("SpecificResource",), id_required=False)
            else:   # Manifests embed their Canvases, Canvases and pages their contents
                self.resource(p, it, ITEMS[typ], refs_ok=typ in ("Collection", "Range"))

    def t_Collection(self, path, o):
        self.items(path, o, "Collection")

    def t_Manifest(self, path, o):
        self.items(path, o, "Manifest")
        for i, r in enumerate(self.array(f"{path}/structures", o.get("structures", []),
                                         "structures")):
            self.resource(f"{path}/structures/{i}", r, ("Range",))

    def t_Canvas(self, path, o):
        if isinstance(o.get("id"), str) and "#" in o["id"]:
            self.bad(f"{path}/id", f"a Canvas id MUST NOT contain a fragment: {o['id']!r}")
        if not ("width" in o or "duration" in o):
            self.bad(path, "a Canvas MUST have height and width, or a duration (5.3)")
        self.items(path, o, "Canvas")

    def t_Range(self, path, o):
        self.items(path, o, "Range")
        if "supplementary" in o:
            self.resource(f"{path}/supplementary", o["supplementary"], ("AnnotationCollection",),
                          refs_ok=True)

    def t_AnnotationPage(self, path, o):
        self.items(path, o, "AnnotationPage")
        for k in ("next", "prev"):
            if k in o:
                self.reference(f"{path}/{k}", o[k], "AnnotationPage")
        if "startIndex" in o and not (type(o["startIndex"]) is int and o["startIndex"] >= 0):
            self.bad(f"{path}/startIndex", f"not a non-negative integer: {o['startIndex']!r}")

    def t_AnnotationCollection(self, path, o):
        for k in ("first", "last"):
            if k in o:
                self.reference(f"{path}/{k}", o[k], "AnnotationPage")
        if "total" in o and not (type(o["total"]) is int and o["total"] >= 0):
            self.bad(f"{path}/total", f"not a non-negative integer: {o['total']!r}")

    def t_Annotation(self, path, o):
        m = o.get("motivation")
        if m is not None:
            ms = m if isinstance(m, list) else [m]
            if not ms or not all(isinstance(x, str) and x for x in ms):
                self.bad(f"{path}/motivation", f"not a string or array of strings: {m!r}")
        if "body" in o:
            bodies = o["body"] if isinstance(o["body"], list) else [o["body"]]
            for i, b in enumerate(bodies):
                if isinstance(b, str):
                    self.uri(f"{path}/body/{i}", b, "body")
                else:
                    self.resource(f"{path}/body/{i}", b, id_required=False, refs_ok=True)
        if "target" in o:
            targets = o["target"] if isinstance(o["target"], list) else [o["target"]]
            if not targets:
                self.bad(f"{path}/target", "empty target")
            for i, t in enumerate(targets):
                if isinstance(t, str):
                    self.uri(f"{path}/target/{i}", t, "target")
                else:
                    self.resource(f"{path}/target/{i}", t, id_required=False, refs_ok=True)

    def reference(self, path, v, typ):
        """next / prev / first / last: a reference to a page (object with id and type)."""
        if isinstance(v, str):
            self.uri(path, v, typ + " reference")
        else:
            self.resource(path, v, (typ,), refs_ok=True)

    def content(self, path, o, typ):
        if typ == "TextualBody" and not isinstance(o.get("value"), str):
            self.bad(f"{path}/value", "TextualBody without a string value")
        elif typ == "SpecificResource":
            src = o.get("source")
            if isinstance(src, str):
                self.uri(f"{path}/source", src, "source")
            elif src is None:
                self.bad(path, "SpecificResource without source")
            else:
                self.resource(f"{path}/source", src, id_required=False, refs_ok=True)
        elif typ == "Choice":
            for i, it in enumerate(self.array(f"{path}/items", o.get("items"), "Choice items")):
                self.resource(f"{path}/items/{i}", it, id_required=False)
        elif typ in ("Image", "Sound", "Video", "Text", "Dataset", "Model") and "id" not in o:
            self.bad(path, f"{typ} content resource without id")


def problems(doc, expect=None, top=True):
    """Structural problems of one Presentation 3.0 document (see the module docstring)."""
    c = _Checker()
    want = CLASS_TYPE.get(expect, expect)
    if not isinstance(doc, dict):
        return ["/: a document must be a JSON object"]
    if want is None:
        if doc.get("type") not in TOP_LEVEL:
            c.bad("", f"type {doc.get('type')!r} is not a top-level type ({', '.join(TOP_LEVEL)})")
            return c.out
        want = doc["type"]
    if top:
        ctx = doc.get("@context")
        last = ctx[-1] if isinstance(ctx, list) and ctx else ctx
        if last != P3_CONTEXT:
            c.bad("/@context", f"a top-level resource needs @context with {P3_CONTEXT} last "
                  f"(4.6), got {ctx!r:.120}")
    c.resource("", doc, (want,), top=top)
    return c.out
