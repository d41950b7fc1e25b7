"""IIIF Content State 1.0 on the viewer pages (docs/content-state.md): every form of the spec by
GET (a URI as it is, JSON content-state-encoded), POST (form field or JSON body, never encoded),
the spec's own encoded examples, refusals (other servers unless content-state-origins lists them,
bad encodings, huge, hostile) answered with a page that shows the reason as text only, and
`iiifd cite`. The encoder here is the spec's own Python (§6.3.2). A small assets folder stands
in for the viewers (as in test_viewer.py): the viewers themselves run in tests/browser."""

import base64
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fixtures import NEEDS_SHARED, Server  # noqa: E402

MANIFEST = "/iiif/presentation/book/manifest"


def encode_content_state(plain):
    """§6.3.2, as printed in the spec."""
    uri_encoded = urllib.parse.quote(plain, safe='')
    base64url = base64.urlsafe_b64encode(uri_encoded.encode("UTF-8"))
    return base64url.decode("UTF-8").replace("=", "")


def decode_content_state(encoded):
    padded = encoded + "=" * (-len(encoded) % 4)
    return urllib.parse.unquote(base64.urlsafe_b64decode(padded).decode("UTF-8"))


def spec_examples():
    """The encoded strings printed in the spec (§3.1, §5.4, §6.3.2), when ../shared is here."""
    path = os.path.join(os.path.dirname(__file__), "../../../shared/specs/content-state_1.0_index.md")
    if not os.path.exists(path):
        return None
    text = open(path, encoding="utf-8").read()
    return re.findall(r'iiif-content=([A-Za-z0-9_-]{20,})"', text) + \
        re.findall(r"^'(JTdC[A-Za-z0-9_-]+)'", text, re.M)


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    d = tmp_path_factory.mktemp("cs-assets")
    for rel in ("VERSIONS", "mirador/mirador.min.js", "uv/umd/UV.js", "clover/clover.js",
                "tify/tify.js", "boot/mirador.js", "boot/content-state.js"):
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("0;\n")
    return d


@pytest.fixture(scope="module")
def server(iiifd_bin, assets, tmp_path_factory):
    s = Server(iiifd_bin, tmp_path_factory.mktemp("cs-root"), tmp_path_factory.mktemp("cs-work"),
               args=["--web-assets-dir", str(assets)], name="content-state")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def open_server(iiifd_bin, assets, tmp_path_factory):
    """Allows example.org and the spec's llgc.org.uk (content-state-origins)."""
    s = Server(iiifd_bin, tmp_path_factory.mktemp("cs-root2"), tmp_path_factory.mktemp("cs-work2"),
               args=["--web-assets-dir", str(assets), "--content-state-origins",
                     "https://example.org https://damsssl.llgc.org.uk/ javascript:x;script-src"],
               name="content-state-open")
    s.start()
    yield s
    s.stop()


def settings(page):
    m = re.search(r'<script type="application/json" id="iiifd-viewer-config">(.*?)</script>', page,
                  re.S)
    assert m, page[:500]
    return json.loads(m.group(1))


def viewer_get(server, value, viewer="mirador"):
    return server.get(f"/viewer/{viewer}?iiif-content=" + urllib.parse.quote(value, safe=""))


def opened(server, value, viewer="mirador"):
    r = viewer_get(server, value, viewer)
    assert r.status == 200, (r, r.body[:300])
    return settings(r.body.decode())


def post(server, path, body, content_type):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", path, body=body.encode(), headers={"Content-Type": content_type})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_every_form_by_get(server):
    b = server.base
    m, c2 = b + MANIFEST, b + MANIFEST + "/canvas/2"
    target = {"id": c2 + "#xywh=10,20,300,40", "type": "Canvas",
              "partOf": [{"id": m, "type": "Manifest"}]}
    full = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": b + "/cs/1",
            "type": "Annotation", "motivation": ["contentState"], "target": target}
    # §2.2.4 a plain URI, never encoded
    assert opened(server, m) == {"manifest": m}
    # §2.2.3 target body and §2.2.1 full Annotation, encoded
    for state in (target, full):
        s = opened(server, encode_content_state(json.dumps(state)))
        assert s["manifest"] == m and s["canvas"] == c2 and s["xywh"] == [10, 20, 300, 40], s
    # §2.2.1 with a Manifest target, and a Collection
    s = opened(server, encode_content_state(json.dumps(
        {**full, "target": {"id": m, "type": "Manifest"}})))
    assert s == {"manifest": m}, s
    s = opened(server, encode_content_state(json.dumps(
        {"id": b + "/iiif/presentation/collection", "type": "Collection"})))
    assert s["manifest"] == b + "/iiif/presentation/collection" and s["collection"] is True
    # §5.2 a point in time (SpecificResource, PointSelector) and #t= ranges
    s = opened(server, encode_content_state(json.dumps({**full, "target": {
        "type": "SpecificResource", "source": {"id": c2, "type": "Canvas",
                                               "partOf": [{"id": m, "type": "Manifest"}]},
        "selector": {"type": "PointSelector", "t": 14.5}}})))
    assert s["canvas"] == c2 and s["t"] == [14.5, -1], s
    s = opened(server, encode_content_state(json.dumps({**target, "id": c2 + "#t=2.5,4"})))
    assert s["t"] == [2.5, 4] and "xywh" not in s, s
    # a Range
    s = opened(server, encode_content_state(json.dumps(
        {"id": m + "/range/1", "type": "Range", "partOf": [{"id": m, "type": "Manifest"}]})))
    assert s["range"] == m + "/range/1" and s["manifest"] == m and "canvas" not in s, s
    # §5.3 several targets: each one a view, the first one the page's own
    other = b + "/iiif/presentation/other/manifest"
    s = opened(server, encode_content_state(json.dumps({
        "type": "Annotation", "motivation": "contentState",
        "target": [target, {"id": other + "/canvas/1", "type": "Canvas",
                            "partOf": [{"id": other, "type": "Manifest"}]}]})))
    assert [v["manifest"] for v in s["views"]] == [m, other] and s["canvas"] == c2, s
    assert s["views"][1]["canvas"] == other + "/canvas/1"
    # §2.2.2 an Annotation URI: the page fetches it (content-state.js)
    s = opened(server, b + "/some/annotation/1")
    assert s == {"resolve": b + "/some/annotation/1"}, s
    # ?q= still goes with it; and every viewer takes it
    r = server.get("/viewer/clover?q=zebra&iiif-content=" + urllib.parse.quote(m, safe=""))
    assert r.status == 200 and settings(r.body.decode()) == {"manifest": m, "q": "zebra"}
    for viewer in ("uv", "clover", "tify"):
        assert opened(server, encode_content_state(json.dumps(target)), viewer)["canvas"] == c2


def test_spec_examples(open_server):
    examples = spec_examples()
    if examples is None:
        pytest.skip(f"{NEEDS_SHARED}: no ../shared/specs/content-state_1.0_index.md")
    assert len(examples) == 4, examples
    full_31, target_31, alice, canvas7 = examples
    # §5.4 and §6.3.2 open as written, on a server that allows example.org
    s = opened(open_server, alice)
    assert s["manifest"] == "https://example.org/alice/manifest"
    assert s["canvas"] == "https://example.org/alice/canvas77" and s["xywh"] == [1000, 2000, 1000, 2000]
    s = opened(open_server, canvas7)
    assert s["canvas"] == "https://example.org/object1/canvas7" and s["xywh"] == [1000, 2000, 1000, 2000]
    # §3.1's strings encode the whole link, unencoded JSON inside (an erratum): they decode, and
    # are then no URI (quotes, braces, a space), which the page says
    for ex in (full_31, target_31):
        assert decode_content_state(ex).startswith("https://example.org/viewer?iiif-content={")
        assert encode_content_state(decode_content_state(ex)) == ex
        refused(viewer_get(open_server, ex), "not a URI")
    # the JSON of §3.1 itself, encoded properly, opens the llgc.org.uk Canvas
    body = decode_content_state(full_31).split("iiif-content=", 1)[1]
    s = opened(open_server, encode_content_state(body))
    assert s["canvas"] == "https://damsssl.llgc.org.uk/iiif/2.0/4389767/canvas/4389772.json"
    assert s["manifest"] == "https://damsssl.llgc.org.uk/iiif/2.0/4389767/manifest.json"


def test_listed_origins_in_the_csp(open_server, server):
    r = viewer_get(open_server, "https://example.org/iiif/m/manifest")
    csp = r.header("Content-Security-Policy")
    assert "connect-src 'self' https://example.org https://damsssl.llgc.org.uk;" in csp, csp
    assert "img-src 'self' data: blob: https://example.org https://damsssl.llgc.org.uk;" in csp
    assert "javascript" not in csp and csp.count("script-src") == 1, csp
    assert "example.org" not in viewer_get(server, server.base + MANIFEST).header(
        "Content-Security-Policy")


def refused(r, *words):
    """A refusal: 400 (or 413), an HTML page with the reason as text and nothing that runs."""
    assert r.status in (400, 413), (r, r.body[:300])
    assert r.content_type == "text/html; charset=utf-8"
    assert r.header("Content-Security-Policy").startswith("default-src 'none'")
    page = r.body.decode()
    reason = re.search(r'<p id="reason">(.*?)</p>', page, re.S).group(1)
    for w in words:
        assert w in reason, reason
    assert "<script" not in page.lower() and "<img" not in page.lower() and " on" not in reason
    return reason


def test_refusals(server):
    b = server.base
    # other servers: refused by default, saying which setting allows them
    refused(viewer_get(server, "https://example.org/iiif/m/manifest"), "content-state-origins")
    refused(viewer_get(server, encode_content_state(json.dumps(
        {"id": "https://evil.test/c#xywh=1,2,3,4", "type": "Canvas",
         "partOf": [{"id": b + MANIFEST, "type": "Manifest"}]}))), "elsewhere")
    refused(viewer_get(server, encode_content_state(json.dumps(
        {"id": b + MANIFEST + "/canvas/1", "type": "Canvas",
         "partOf": [{"id": "https://evil.test/manifest", "type": "Manifest"}]}))), "elsewhere")
    # bad encodings
    refused(viewer_get(server, "JTdCJTIy!"), "content-state-encoded")
    refused(viewer_get(server, "A"), "content-state-encoded")   # length % 4 == 1
    refused(viewer_get(server, encode_content_state("{\"id\":")), "not JSON")
    refused(viewer_get(server, '{"id":"' + b + MANIFEST + '","type":"Manifest"}'), "encoded")
    # huge: over iiifd's 16 KiB, and over what the HTTP server takes in a request line
    big = encode_content_state(json.dumps({"id": b + MANIFEST, "type": "Manifest",
                                           "label": "x" * 17000}))
    refused(viewer_get(server, big), "long")
    huge = viewer_get(server, big * 8)
    assert huge.status == 414 and b"xxx" not in huge.body, huge
    # a Canvas without its Manifest, a region without size, percent
    refused(viewer_get(server, encode_content_state(json.dumps(
        {"id": b + "/elsewhere/c1", "type": "Canvas"}))), "partOf")
    refused(viewer_get(server, b + MANIFEST + "/canvas/1#xywh=1,2,0,4"), "xywh")


@pytest.mark.parametrize("payload", [
    '"><script>document.title="PWNED"</script>',
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
])
def test_hostile_states_are_text(server, payload):
    b = server.base
    for value in (payload, b + "/x" + payload, encode_content_state(json.dumps(
            {"id": b + MANIFEST + payload, "type": "Manifest"})),
            encode_content_state(json.dumps({"id": payload, "type": "Canvas",
                                             "partOf": [{"id": b + MANIFEST}]}))):
        r = viewer_get(server, value)
        page = r.body.decode()
        if r.status == 200:  # a URL of this server after all ("/xjavascript:..."): inert data
            tags = re.findall(r"<script[^>]*>", page)
            assert all(t == '<script type="application/json" id="iiifd-viewer-config">' or
                       re.fullmatch(r'<script( type="module")? src="assets/[^"<>]+">', t)
                       for t in tags) and "<img" not in page, page
            assert "javascript:" not in page or '"resolve"' in page or '"manifest"' in page
            continue
        reason = refused(r)
        assert "<" not in reason and ">" not in reason, reason
    # and through the Manifest page that embeds the viewer: only in the iframe's URL, escaped
    r = server.get("/view/book/manifest?iiif-content=" + urllib.parse.quote(payload, safe=""))
    assert payload not in r.body.decode(), "the payload came back unescaped"


def test_post(server):
    b = server.base
    target = {"id": b + MANIFEST + "/canvas/3#xywh=1,2,30,40", "type": "Canvas",
              "partOf": [{"id": b + MANIFEST, "type": "Manifest"}]}
    # §3.2: JSON, never encoded
    status, ctype, page = post(server, "/viewer/mirador", json.dumps(target), "application/json")
    assert status == 200 and ctype == "text/html; charset=utf-8", page[:300]
    s = settings(page)
    assert s["canvas"] == b + MANIFEST + "/canvas/3" and s["xywh"] == [1, 2, 30, 40]
    # an HTML form: the field iiif-content, the plain JSON %-encoded as forms are
    form = "iiif-content=" + urllib.parse.quote_plus(json.dumps(target))
    status, _, page = post(server, "/viewer/uv", form, "application/x-www-form-urlencoded")
    assert status == 200 and settings(page)["canvas"] == b + MANIFEST + "/canvas/3"
    status, _, page = post(server, "/viewer/mirador", "iiif-content=" + urllib.parse.quote_plus(
        b + MANIFEST), "application/x-www-form-urlencoded")
    assert status == 200 and settings(page) == {"manifest": b + MANIFEST}
    # encoded in a POST is not a content state (§6.2)
    status, _, page = post(server, "/viewer/mirador", encode_content_state(json.dumps(target)),
                           "application/json")
    assert status == 400 and "<script" not in page
    status, _, page = post(server, "/viewer/mirador", "other=1", "application/x-www-form-urlencoded")
    assert status == 400 and "iiif-content" in page
    status, _, page = post(server, "/viewer/mirador", "x" * 60000, "text/plain")
    assert status in (400, 413), status
    # the viewers' files and other paths take no POST
    assert post(server, "/viewer/assets/boot/mirador.js", "{}", "application/json")[0] == 405
    assert post(server, "/view/book/manifest", "{}", "application/json")[0] == 405


def test_cite(iiifd_bin):
    m = "https://lib.example/iiif/presentation/books/b1/manifest"
    out = subprocess.run([iiifd_bin, "cite", m, "--region", "10,20,300,40", "--canvas", "2"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    link, body = out.stdout.split("\n", 1)
    assert link.startswith("https://lib.example/viewer/mirador?iiif-content=")
    state = json.loads(decode_content_state(link.split("iiif-content=")[1]))
    assert state == {"id": m + "/canvas/2#xywh=10,20,300,40", "type": "Canvas",
                     "partOf": [{"id": m, "type": "Manifest"}]}
    anno = json.loads(body)
    assert anno["type"] == "Annotation" and anno["motivation"] == ["contentState"]
    assert anno["target"] == state and anno["@context"].endswith("/presentation/3/context.json")
    # a time on an A/V Canvas URL, another viewer
    out = subprocess.run([iiifd_bin, "cite", m + "/canvas/1", "--time", "1.5,4", "--viewer", "uv"],
                         capture_output=True, text=True)
    link = out.stdout.split("\n", 1)[0]
    assert "/viewer/uv?" in link
    assert json.loads(decode_content_state(link.split("=", 1)[1]))["id"] == m + "/canvas/1#t=1.5,4"
    for bad in (["https://lib.example/other"], [m, "--region", "1,2,3"], [m, "--time", "x"],
                [m + "/canvas/1", "--canvas", "2"], [m, "--viewer", "nope"], []):
        out = subprocess.run([iiifd_bin, "cite", *bad], capture_output=True, text=True)
        assert out.returncode == 2 and out.stderr, (bad, out)
