"""The structural checks (structural.py) that validate every Presentation document on a clean
clone: a correct Manifest passes, and each broken variant gets the complaint it deserves (a
checker that never complains would make every test that relies on it pass vacuously)."""

import copy
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import structural  # noqa: E402
from presentation_fixtures import SCHEMA_PATH, P3_CONTEXT, load_schema, schema_errors  # noqa: E402

B = "https://example.org/iiif/book1"
SPEC = os.path.normpath(os.path.join(os.path.dirname(SCHEMA_PATH), "..", "specs",
                                     "presentation_3.0_index.md"))


def good_manifest():
    canvas = {
        "id": f"{B}/canvas/p1", "type": "Canvas", "label": {"none": ["p. 1"]},
        "height": 1000, "width": 750,
        "items": [{
            "id": f"{B}/page/p1/1", "type": "AnnotationPage",
            "items": [{
                "id": f"{B}/annotation/p1-image", "type": "Annotation", "motivation": "painting",
                "body": {"id": f"{B}/full/max/0/default.jpg", "type": "Image",
                         "format": "image/jpeg", "height": 1000, "width": 750,
                         "service": [{"id": f"{B}/img", "type": "ImageService3",
                                      "profile": "level2"}]},
                "target": f"{B}/canvas/p1"}]}],
        "annotations": [{"id": f"{B}/comments/p1", "type": "AnnotationPage"}],
    }
    return {
        "@context": P3_CONTEXT,
        "id": f"{B}/manifest", "type": "Manifest",
        "label": {"en": ["Book 1"], "fr": ["Livre 1"]},
        "summary": {"en": ["A book"]},
        "metadata": [{"label": {"en": ["Author"]}, "value": {"none": ["Anne Author"]}}],
        "requiredStatement": {"label": {"en": ["Attribution"]}, "value": {"en": ["Us"]}},
        "rights": "http://creativecommons.org/licenses/by/4.0/",
        "navDate": "1856-01-01T00:00:00Z",
        "behavior": ["paged"], "viewingDirection": "right-to-left",
        "homepage": [{"id": "https://example.org/info/book1/", "type": "Text",
                      "label": {"en": ["Home page"]}, "format": "text/html"}],
        "provider": [{"id": "https://example.org/about", "type": "Agent",
                      "label": {"en": ["Example Organization"]}}],
        "service": [{"@id": f"{B}/search1", "@type": "SearchService1",
                     "profile": "http://iiif.io/api/search/1/search"}],
        "items": [canvas],
        "structures": [{"id": f"{B}/range/r0", "type": "Range", "label": {"en": ["Contents"]},
                        "items": [{"id": f"{B}/canvas/p1", "type": "Canvas"}]}],
    }


def test_a_correct_manifest_passes():
    assert structural.problems(good_manifest()) == []


def _set(doc, path, value):
    """Sets (or, with value DELETE, removes) the value at a /-separated path."""
    keys = [int(k) if k.isdigit() else k for k in path.strip("/").split("/")]
    node = doc
    for k in keys[:-1]:
        node = node[k]
    if value is DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value


DELETE = object()
CANVAS = "items/0"
ANNO = "items/0/items/0/items/0"

# (what is broken, path, new value or DELETE, expected complaint: path prefix and words)
BROKEN = [
    ("no id", "id", DELETE, "/: missing id"),
    ("relative id", "id", "manifest/1", "/id: id is not an absolute http(s) URI"),
    ("urn id", "id", "urn:uuid:1234", "/id: id is not an absolute http(s) URI"),
    ("id with a space", "id", f"{B}/my manifest", "/id: id is not an absolute http(s) URI"),
    ("wrong type", "type", "Book", "/: type 'Book' is not a top-level type"),
    ("no label", "label", DELETE, "/: Manifest without the required property label"),
    ("label a string", "label", "Book 1", "/label: not a language map"),
    ("label value a string", "label/en", "Book 1", "/label/en: language map value is not an array"),
    ("bad language key", "label", {"english language": ["x"]}, "/label: language map key"),
    ("summary a list", "summary", ["x"], "/summary: not a language map"),
    ("metadata without value", "metadata/0/value", DELETE, "/metadata/0: missing value"),
    ("requiredStatement string", "requiredStatement", "Us", "/requiredStatement: not a {label"),
    ("rights not a URI", "rights", "CC-BY", "/rights: rights is not an absolute"),
    ("navDate without timezone", "navDate", "1856-01-01T00:00:00", "/navDate: not an xsd:dateTime"),
    ("navDate a date", "navDate", "1856-01-01", "/navDate: not an xsd:dateTime"),
    ("unknown viewingDirection", "viewingDirection", "sideways", "/viewingDirection: unknown"),
    ("behavior a string", "behavior", "paged", "/behavior: behavior must be an array"),
    ("behavior not for Manifests", "behavior", ["facing-pages"],
     "/behavior/0: behavior 'facing-pages' is not allowed on Manifest"),
    ("Manifest with width", "width", 100, "/width: width is not allowed on Manifest"),
    ("Manifest with language", "language", ["en"], "/language: language is not allowed"),
    ("no items", "items", DELETE, "/: Manifest without the required property items"),
    ("empty items", "items", [], "/items: a Manifest MUST have at least one item"),
    ("items an object", "items", {"id": "x"}, "/items: items must be an array"),
    ("Manifest items a Manifest", f"{CANVAS}/type", "Manifest",
     "/items/0: type 'Manifest' where Canvas is expected"),
    ("Canvas id with fragment", f"{CANVAS}/id", f"{B}/canvas/p1#xywh=0,0,1,1",
     "/items/0/id: a Canvas id MUST NOT contain a fragment"),
    ("Canvas width without height", f"{CANVAS}/height", DELETE,
     "/items/0: has one of height and width without the other"),
    ("Canvas without extent", f"{CANVAS}/width", DELETE,
     "/items/0: a Canvas MUST have height and width, or a duration"),
    ("Canvas height zero", f"{CANVAS}/height", 0, "/items/0/height: height must be a positive"),
    ("Canvas height a string", f"{CANVAS}/height", "1000", "/items/0/height: height must be"),
    ("negative duration", f"{CANVAS}/duration", -1.5, "/items/0/duration: duration must be"),
    ("Canvas with viewingDirection", f"{CANVAS}/viewingDirection", "left-to-right",
     "/items/0/viewingDirection: viewingDirection is not allowed on Canvas"),
    ("embedded @context", f"{CANVAS}/@context", P3_CONTEXT,
     "/items/0/@context: @context on an embedded resource"),
    ("page item not an Annotation", f"{ANNO}/type", "Image",
     "/items/0/items/0/items/0: type 'Image' where Annotation is expected"),
    ("Annotation without target", f"{ANNO}/target", DELETE,
     "/items/0/items/0/items/0: Annotation without the required property target"),
    ("relative target", f"{ANNO}/target", "canvas/p1", "target is not an absolute"),
    ("motivation a number", f"{ANNO}/motivation", 3, "/motivation: not a string or array"),
    ("Annotation with items", f"{ANNO}/items", [], "/items: items is not allowed on Annotation"),
    ("body without type", f"{ANNO}/body/type", DELETE, "/body/0: missing or non-string type"),
    ("body format not a media type", f"{ANNO}/body/format", "jpeg", "/body/0/format: not a media"),
    ("service without id", f"{ANNO}/body/service/0/id", DELETE, "service without id / @id"),
    ("service without type", "service/0/@type", DELETE, "/service/0: service without type"),
    ("annotations not pages", f"{CANVAS}/annotations/0/type", "Annotation",
     "/items/0/annotations/0: type 'Annotation' where AnnotationPage is expected"),
    ("homepage without label", "homepage/0/label", DELETE, "/homepage/0: homepage without label"),
    ("provider not an Agent", "provider/0/type", "Person", "/provider/0: type 'Person'"),
    ("structures not Ranges", "structures/0/type", "Canvas",
     "/structures/0: type 'Canvas' where Range is expected"),
    ("empty Range", "structures/0/items", [], "/structures/0/items: a Range MUST have at least"),
    ("Range item relative", "structures/0/items/0/id", "p1", "/structures/0/items/0/id: id is not"),
    ("no @context", "@context", DELETE, "/@context: a top-level resource needs @context"),
    ("Image API @context last", "@context", [P3_CONTEXT, "http://iiif.io/api/image/3/context.json"],
     "/@context: a top-level resource needs @context"),
]


@pytest.mark.parametrize("what,path,value,complaint", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_manifest_is_reported(what, path, value, complaint):
    doc = good_manifest()
    _set(doc, path, value)
    got = structural.problems(doc)
    assert any(p.startswith(complaint) or complaint in p for p in got), \
        f"{what}: expected a complaint like {complaint!r}, got {got}"


def test_expected_type_and_classes():
    man = good_manifest()
    canvas = copy.deepcopy(man["items"][0])
    assert structural.problems(canvas, "canvas", top=False) == []
    assert structural.problems(canvas, "Canvas", top=False) == []
    assert any("where Range is expected" in p for p in structural.problems(canvas, "range",
                                                                           top=False))
    # a Canvas is no top-level document
    assert structural.problems(canvas) and "not a top-level type" in structural.problems(canvas)[0]
    page = dict(canvas["items"][0], **{"@context": P3_CONTEXT})
    assert structural.problems(page) == []
    assert structural.problems([man]) == ["/: a document must be a JSON object"]


def test_collection_members_are_references():
    coll = {"@context": P3_CONTEXT, "id": "https://example.org/c", "type": "Collection",
            "label": {"en": ["All"]},
            "items": [{"id": f"{B}/manifest", "type": "Manifest", "label": {"en": ["Book 1"]}},
                      {"id": "https://example.org/c2", "type": "Collection",
                       "label": {"en": ["More"]}}]}
    assert structural.problems(coll) == []
    coll["items"][0]["label"] = "Book 1"
    coll["items"].append({"id": "https://example.org/x", "type": "Canvas"})
    got = structural.problems(coll)
    assert any(p.startswith("/items/0/label: not a language map") for p in got), got
    assert any(p.startswith("/items/2: type 'Canvas' where Collection or Manifest") for p in got), \
        got


def _spec_example():
    if not os.path.isfile(SPEC):
        pytest.skip(f"{fx.NEEDS_SHARED}: no ../shared/specs ({SPEC} is absent)")
    text = open(SPEC, encoding="utf-8").read()
    part = text[text.index("### B. Example Manifest Response"):]
    block = re.search(r"```json\n(.*?)\n```", part, re.S).group(1)
    return json.loads(block.replace("{{ page.major }}", "3"))


def test_spec_example_manifest_passes():
    """The spec's own example (Appendix B) passes: the structural checks are not stricter than
    the specification. (The official schema rejects this example: its rights pattern wants
    http://creativecommons.org, the example has https.)"""
    doc = _spec_example()
    assert structural.problems(doc) == []
    doc["items"][0]["id"] += "#frag"
    assert structural.problems(doc), "a broken copy of the example passes"


def test_broken_manifests_fail_the_schema_too():
    """Where the schema is available, a sample of the broken variants fails it as well (both
    checkers agree on what invalid means)."""
    schema = load_schema()
    if schema is None:
        pytest.skip(f"{fx.NEEDS_SHARED}: no ../shared/schemas ({SCHEMA_PATH} is absent)")
    import jsonschema
    v = jsonschema.Draft7Validator(schema)
    assert schema_errors(v, good_manifest()) == []
    for what, path, value, _c in BROKEN:
        if what in ("no id", "relative id", "wrong type", "no label", "label a string",
                    "Manifest with width", "no items"):
            doc = good_manifest()
            _set(doc, path, value)
            assert schema_errors(v, doc), f"{what}: the schema accepts it"


def test_doc_errors_applies_both_checks():
    """validator_for / doc_errors, which every validating test uses: the [structure] checks alone
    report structural problems only; with the schema loaded both are reported, each marked."""
    from presentation_fixtures import DocChecks, doc_errors, validator_for
    doc = good_manifest()
    doc["rights"] = "https://creativecommons.org/licenses/by/4.0/"   # the schema wants http://
    doc["items"][0]["height"] = 0                                      # both reject this
    alone = doc_errors(validator_for(DocChecks(None)), doc)
    assert alone and all(e.startswith("structure: ") for e in alone), alone
    schema = load_schema()
    if schema is None:
        pytest.skip(f"{fx.NEEDS_SHARED}: no ../shared/schemas ({SCHEMA_PATH} is absent)")
    both = doc_errors(validator_for(DocChecks(schema)), doc)
    assert any(e.startswith("structure: ") for e in both), both
    assert any(e.startswith("schema: ") and "rights" in e for e in both), both
    del doc["items"][0]["height"], doc["items"][0]["width"]
    doc["items"][0]["duration"] = 1.5
    doc["rights"] = "http://creativecommons.org/licenses/by/4.0/"
    assert doc_errors(validator_for(DocChecks(schema)), doc) == []
