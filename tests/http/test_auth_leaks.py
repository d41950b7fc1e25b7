"""The leak test of issue #14: a protected image, its OCR and a protected recording, tried by
every road (Image API 2.1 and 3.0 forms, stored tiles, the render cache, the degraded tier's
^ sizes, PDF download, media byte ranges, annotation pages, Manifest, Collection-wide and 2.1
searches, autocomplete, web pages) as an anonymous reader, a logged-in reader without the role
(the degraded user), with an expired cookie and token, and with a cookie and token signed by a
wrong secret: 0 leaks. The same roads with a valid login all answer, so the test can fail."""

import os
import shutil
import sys
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from annotation_fixtures import alto_v4, layout, make_mp3  # noqa: E402
from auth_fixtures import (  # noqa: E402
    ALICE, SECRET, WRONG_SECRET, cookie_header, forge, login, make_auth_env, q, token2)

SECRET_WORD = "zanzibarsecret"
SECRET_LINE_WORD = "thelonglostpapers"  # never in a URL: a response with it shows the OCR
OPEN_WORD = "zanzibaropen"
PRES = "/iiif/presentation"
BOOK_POLICY = "policy: login\nroles: reader\ndegraded: 400\n"  # readers; a 400 px tier


def make_leak_root(base, iiifd_bin):
    """The auth root plus book/ (an image, a tiled TIFF, OCR with the secret words, a recording;
    no access.yml: the caller protects it) and OCR in open/; users alice (reader) and bob
    (visitor). Returns (root, users file)."""
    root, users = make_auth_env(base, iiifd_bin, ALICE, ("bob", "bob pass", "visitor"))
    book = os.path.join(root, "book")  # a Manifest folder (no subfolders)
    os.makedirs(book)
    for name in ("img.png", "tiled.tif"):
        shutil.copy(os.path.join(root, "login", name), os.path.join(book, name))
    for folder, word in (("book", f"{SECRET_WORD} {SECRET_LINE_WORD}"),
                         ("open", f"{OPEN_WORD} publicnotes")):
        with open(os.path.join(root, folder, "img.xml"), "w") as f:
            f.write(alto_v4([layout(word, 100, 100, 40, 20, 40)], 1600, 1200,
                            "img.png"))
    make_mp3(os.path.join(book, "clip.mp3"), seconds=2)
    return root, users


@pytest.fixture(scope="module")
def env(tmp_path_factory, iiifd_bin):
    root, users = make_leak_root(str(tmp_path_factory.mktemp("authleak")), iiifd_bin)
    with open(os.path.join(root, "book", "access.yml"), "w") as f:
        f.write(BOOK_POLICY)
    server = fx.Server(iiifd_bin, root, str(tmp_path_factory.mktemp("leaksrv")),
                       args=["--auth-secrets", SECRET, "--auth-users", users], name="leak")
    with fx.serving(server) as s:
        yield s


def identities(s, realm="book"):
    """(alice's cookie jar, alice's token, name -> (cookie jar, bearer token or None)) for the
    others, logged in at realm (the folder whose policy protects book/)."""
    _, alice = login(s, realm, "alice", "correct horse")
    alice_token = token2(s, realm, alice)[0]["accessToken"]
    _, bob = login(s, realm, "bob", "bob pass")
    past = time.time() - 10
    return alice, alice_token, {
        "anonymous": ({}, None),
        "degraded user (no role)": (bob, None),
        "expired": ({"iiifd_access": forge("c", SECRET, "alice", "reader", expires=past)},
                    forge("t", SECRET, "~", "reader", expires=past)),
        "wrong secret": ({"iiifd_access": forge("c", WRONG_SECRET, "alice", "reader")},
                         forge("t", WRONG_SECRET, "~", "reader")),
    }


IMG = q("book/img.png")
TILED = q("book/tiled.tif")
IMAGE_ROADS = [
    f"/iiif/3/{IMG}/full/max/0/default.jpg",
    f"/iiif/3/{IMG}/full/1600,/0/default.png",
    f"/iiif/3/{IMG}/full/^max/0/default.jpg",
    f"/iiif/3/{IMG}/full/!3000,3000/0/default.jpg",
    f"/iiif/3/{IMG}/pct:0,0,100,100/max/0/default.jpg",
    f"/iiif/3/{IMG}/pct:0,0,10,10/max/0/default.png",
    f"/iiif/3/{IMG}/0,0,512,512/512,/0/default.jpg",
    f"/iiif/3/{IMG}/square/max/90/gray.webp",
    f"/iiif/3/{IMG}/full/400,/0/default.jpg",  # the degraded size, on the full identifier
    f"/iiif/2/{IMG}/full/full/0/default.jpg",
    f"/iiif/2/{IMG}/full/max/0/gray.jpg",
    f"/iiif/2/{IMG}/pct:50,50,50,50/full/0/default.png",
    f"/iiif/2/{IMG}/0,0,512,512/512,/0/default.jpg",
    f"/iiif/3/{TILED}/0,0,256,256/256,/0/default.jpg",  # a stored tile, passed through
    f"/iiif/3/{TILED}/full/max/0/default.jpg",
    f"/iiif/2/{TILED}/256,256,256,256/256,/0/default.jpg",
    "/pdf/book/manifest",
    "/iiif/media/book/clip.mp3",
]
TEXT_ROADS = [
    f"{PRES}/book/manifest/canvas/2/annotations/supplementing",
    f"{PRES}/book/manifest/search?q={SECRET_WORD}",
    f"{PRES}/book/manifest/autocomplete?q=zanz",
    f"{PRES}/book/collection/search?q={SECRET_WORD}",
    f"/iiif/presentation-v2/book/manifest/search1?q={SECRET_WORD}",
]
WIDE_ROADS = [  # Collection-wide: they answer, without the protected text
    f"{PRES}/collection/search?q={SECRET_WORD}",
    f"{PRES}/collection/search?q=zanzibaropen",
    f"{PRES}/collection/autocomplete?q=zanz",
    f"/iiif/presentation-v2/collection/search1?q={SECRET_WORD}",
    f"/iiif/presentation-v2/collection/autocomplete1?q=zanz",
    f"/view/collection?q={SECRET_WORD}",
    "/view/book/manifest",
]


def shows_secret(path, body):
    """The protected OCR in a response: its other word, or the searched word where the URL does
    not carry it (an echoed query is no leak)."""
    return SECRET_LINE_WORD.encode() in body or (SECRET_WORD not in path and
                                                 SECRET_WORD.encode() in body)


def fetch(s, path, jar, token, rng=False):
    headers = {"Cookie": cookie_header(jar)} if jar else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    if rng:
        headers["Range"] = "bytes=0-99"
    headers["Accept"] = "text/html" if path.startswith("/view/") else "*/*"
    return s.get(path, headers=headers)


def wait_for_import(s, jar):
    s.get(f"{PRES}/book/manifest", headers={"Cookie": cookie_header(jar)})
    s.get(f"{PRES}/open/manifest")
    fx.wait_for(lambda: SECRET_LINE_WORD.encode() in fetch(
        s, f"{PRES}/collection/search?q={SECRET_WORD}", jar, None).body, "OCR imported")


def check_every_road_answers(s, reader):
    """The control: every road answers a reader who may see the material (and fills the
    caches), privately, so that the leak check can fail."""
    wait_for_import(s, reader)
    for path in IMAGE_ROADS + TEXT_ROADS:
        r = fetch(s, path, reader, None, rng=path.endswith(".mp3"))
        assert r.status in (200, 206), (path, r.status, r.body[:200])
        assert r.header("Cache-Control").startswith("private"), (path, r.header("Cache-Control"))
    assert any(SECRET_LINE_WORD.encode() in fetch(s, p, reader, None).body for p in TEXT_ROADS)


def find_leaks(s, who, jar, token):
    """What the roads give who (cookie jar, bearer token) that a reader without access must not
    get: more than a 401, the protected text, a description or more than the degraded tier."""
    leaks = []
    for path in IMAGE_ROADS + TEXT_ROADS:
        for rng in ((False, True) if path.endswith(".mp3") else (False,)):
            r = fetch(s, path, jar, token, rng)
            if r.status != 401 or shows_secret(path, r.body):
                leaks.append(f"{who}: {path} range={rng} -> {r.status}")
    for path in WIDE_ROADS:
        r = fetch(s, path, jar, token)
        if shows_secret(path, r.body):
            leaks.append(f"{who}: {path} -> {r.status} shows the protected text")
    for v in (2, 3):  # descriptions: the services, never the full size
        r = fetch(s, f"/iiif/{v}/{IMG}/info.json", jar, token)
        if r.status == 200 or b"1600" in r.body and r.status != 401:
            leaks.append(f"{who}: info.json v{v} -> {r.status}")
    # the degraded tier is all a degraded user gets, whatever the size asked for
    for size in ("max", "^max", "^1600,", "^!2000,2000", "^pct:400"):
        r = fetch(s, f"/iiif/3/{IMG};degraded/full/{urllib.parse.quote(size)}/0/default.jpg",
                  jar, token)
        if r.status == 200 and max(r.image().size) > 400:
            leaks.append(f"{who}: degraded {size} -> {r.image().size}")
    return leaks


def assert_no_road_leaks(s, others):
    found = [leak for who, (jar, token) in others.items()
             for leak in find_leaks(s, who, jar, token)]
    assert found == [], "\n".join(found)


def test_no_road_leaks(env):
    s = env
    alice, alice_token, others = identities(s)
    check_every_road_answers(s, alice)
    assert_no_road_leaks(s, others)
    # the open folder's text is found by everyone; the protected one by its readers
    r = fetch(s, f"{PRES}/collection/search?q={OPEN_WORD}", {}, None)
    assert OPEN_WORD.encode() in r.body
    r = fetch(s, f"{PRES}/collection/autocomplete?q=zanz", {}, None)
    assert OPEN_WORD.encode() in r.body and SECRET_WORD.encode() not in r.body
    r = fetch(s, f"{PRES}/collection/autocomplete?q=zanz", alice, None)
    assert SECRET_WORD.encode() in r.body
    # a token is accepted where the client sends one
    r = fetch(s, f"/iiif/3/{IMG}/full/max/0/default.jpg", {}, alice_token)
    assert r.status == 200


def test_manifest_declares_services_on_content(env):
    s = env
    doc = s.get(f"{PRES}/book/manifest").json()
    assert doc["@context"][0] == "http://iiif.io/api/auth/2/context.json"
    text = str(doc)
    assert "AuthProbeService2" in text and "/auth/2/probe/media/book/clip.mp3" in text
    sound = next(b for c in doc["items"] for p in c["items"] for a in p["items"]
                 for b in [a["body"]] if isinstance(b, dict) and b.get("type") == "Sound")
    probe_svc = next(x for x in sound["service"] if x["type"] == "AuthProbeService2")
    r = s.get(probe_svc["id"].replace(s.base, ""))
    assert r.status == 200 and r.json()["status"] == 401
    for other in ("book/img.png", "book/none.mp3", "book/%zz.mp3"):  # no media file: 404
        assert s.get(f"/auth/2/probe/media/{other}").status == 404, other
    open_doc = s.get(f"{PRES}/open/manifest").json()
    assert "AuthProbeService2" not in str(open_doc)
