"""Folder rules of docs/presentation.md: which folders and files become Collections, Manifests and
Canvases, in natural order, with labels; multi-page TIFFs; single files in Collection folders;
what is skipped."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from presentation_fixtures import (  # noqa: E402,F401
    BOOK1, BOOK10, GOOD, MULTI, SCANS, SINGLE, STILL, _pres_health, centre_colour,
    collection_of, fetch, find_service, image_identifier, lang_values, manifest_of,
    painting_body, pres_url, ptree, pserver, server_p, sid, site)

TOL_PNG = 4
TOL_JPG = 12


def members(coll):
    return [(m.get("type"), m.get("id")) for m in coll.get("items", [])]


def check_member_shape(coll):
    for m in coll.get("items", []):
        assert m.get("id") and m.get("type") in ("Collection", "Manifest"), m
        assert m.get("label") and lang_values(m["label"]), f"member without label: {m}"


def test_root_collection(server_p, site):
    root = collection_of(server_p, site, "collection")
    assert root["id"] == pres_url(server_p, "collection")
    assert root.get("label") and lang_values(root["label"]), "root Collection needs a label"
    check_member_shape(root)
    assert members(root) == [
        ("Collection", pres_url(server_p, "av/collection")),
        ("Collection", pres_url(server_p, "books/collection")),
        ("Manifest", pres_url(server_p, "broken/manifest")),
    ], "root members (empty/ and .hidden/ must be skipped, natural order)"


def test_books_collection_natural_order(server_p, site):
    books = collection_of(server_p, site, "books/collection")
    check_member_shape(books)
    assert members(books) == [
        ("Manifest", pres_url(server_p, "books/book1/manifest")),
        ("Manifest", pres_url(server_p, "books/book2/manifest")),
        ("Manifest", pres_url(server_p, "books/book10/manifest")),
        ("Manifest", pres_url(server_p, "books/scans.tif/manifest")),
    ], "book1, book2, book10 (natural order), then scans.tif as its own Manifest"


def test_av_collection_media_are_own_manifests(server_p, site):
    av = collection_of(server_p, site, "av/collection")
    check_member_shape(av)
    got = members(av)
    want = {("Manifest", pres_url(server_p, p)) for p in
            ("av/extra/manifest", "av/clip.webm/manifest", "av/film.mp4/manifest",
             "av/interview.mp3/manifest")}
    assert set(got) == want and len(got) == len(want), (
        f"av members {got}: the three media files and extra/ only (notes.txt unservable, "
        f".secret.mp3 hidden, link.mp3 points outside ROOT)")
    media = [i for _t, i in got if "/extra/" not in i]
    assert media == [pres_url(server_p, f"av/{n}/manifest")
                     for n in ("clip.webm", "film.mp4", "interview.mp3")], "natural order"


def test_member_labels(server_p, site):
    """Members carry the label of the resource they reference (3.0: referenced Collections and
    Manifests MUST have id, type and label); without a sidecar the label names the folder or
    file."""
    colls, mans, _ = site
    docs = {**colls, **mans}
    bad = []
    for url, coll in colls.items():
        for m in coll.get("items", []):
            target = docs.get(m["id"])
            if target is not None and target.get("label") != m.get("label"):
                bad.append(f"{m['id']}: member label {m.get('label')} != {target.get('label')}")
    named = {"av/collection": "av", "av/extra/manifest": "extra", "books/book2/manifest": "book2",
             "books/book10/manifest": "book10", "books/scans.tif/manifest": "scans",
             "av/film.mp4/manifest": "film", "av/clip.webm/manifest": "clip"}
    for path, name in named.items():
        doc = docs.get(pres_url(server_p, path))
        if doc is None:
            bad.append(f"{path} not reached")
            continue
        vals = lang_values(doc.get("label", {}))
        if not any(name in v for v in vals):
            bad.append(f"{path}: label {doc.get('label')} does not name {name!r}")
    assert not bad, "\n".join(bad)


def ident_ok(ident, relpath, page=None):
    bases = [relpath, os.path.splitext(relpath)[0]]
    if page is None:
        return ident in bases
    if page == 1:
        return ident in bases + [b + ";1" for b in bases]
    return ident in [b + f";{page}" for b in bases]


def check_canvases(server_p, man, expect):
    """expect: [(relpath, page or None, w, h, colour, tol)] in canvas order."""
    canvases = man.get("items", [])
    names = [image_identifier(sid(find_service(painting_body(c), "ImageService3")) or "")
             if find_service(painting_body(c), "ImageService3") else None for c in canvases]
    assert len(canvases) == len(expect), f"{man['id']}: {len(canvases)} canvases ({names}), " \
                                         f"expected {[e[0] for e in expect]}"
    bad = []
    for n, (c, (rel, page, w, h, colour, tol)) in enumerate(zip(canvases, expect), 1):
        if (c.get("width"), c.get("height")) != (w, h):
            bad.append(f"canvas {n} ({rel} p{page}): {c.get('width')}x{c.get('height')}, "
                       f"expected {w}x{h}")
        body = painting_body(c)
        if body.get("type") != "Image":
            bad.append(f"canvas {n}: body type {body.get('type')!r}")
            continue
        s3 = find_service(body, "ImageService3")
        s2 = find_service(body, "ImageService2")
        for s in (s3, s2):
            if s is None:
                bad.append(f"canvas {n}: missing an ImageService3/ImageService2 service")
                continue
            ident = image_identifier(sid(s))
            if not ident_ok(ident, rel, page):
                bad.append(f"canvas {n}: service identifier {ident!r} is not {rel}"
                           + (f";{page}" if page else ""))
            if page and page > 1 and not sid(s).endswith(f";{page}"):
                bad.append(f"canvas {n}: service id {sid(s)} does not end with ';{page}'")
        r = fetch(server_p, body["id"])
        if r.status != 200:
            bad.append(f"canvas {n}: body {body['id']} -> {r.status}")
            continue
        img = r.image()
        if img.size != (w, h):
            bad.append(f"canvas {n}: body image {img.size}, expected {(w, h)}")
        got = centre_colour(img)
        if np.abs(got - np.array(colour)).max() > tol:
            bad.append(f"canvas {n}: colour {got.round().tolist()} expected {colour} "
                       f"(wrong file or page?)")
    assert not bad, f"{man['id']}:\n" + "\n".join(bad)


def test_book1_pages_natural_order(server_p, site):
    man = manifest_of(server_p, site, "books/book1/manifest")
    check_canvases(server_p, man, [(f"books/book1/{n}", None, w, h, c, TOL_PNG)
                                   for n, w, h, c in BOOK1])


def test_book2_multipage_tiff_and_jpeg(server_p, site):
    """A multi-page TIFF in a folder's Manifest: a Canvas per page, with that page's exact size
    and the page identifier {identifier};N; then the JPEG."""
    man = manifest_of(server_p, site, "books/book2/manifest")
    expect = [("books/book2/multi.tif", i + 1, w, h, c, TOL_PNG) for i, (w, h, c) in
              enumerate(MULTI)]
    expect.append(("books/book2/single.jpg", None, *SINGLE, TOL_JPG))
    check_canvases(server_p, man, expect)


def test_scans_tif_in_collection_folder_is_own_manifest(server_p, site):
    man = manifest_of(server_p, site, "books/scans.tif/manifest")
    check_canvases(server_p, man, [("books/scans.tif", i + 1, w, h, c, TOL_PNG)
                                   for i, (w, h, c) in enumerate(SCANS)])


def test_book10_case_ignored(server_p, site):
    """'a.png' before 'B.png': case is ignored (plain byte order would put B first)."""
    man = manifest_of(server_p, site, "books/book10/manifest")
    check_canvases(server_p, man, [(f"books/book10/{n}", None, w, h, c, TOL_PNG)
                                   for n, w, h, c in BOOK10])


def test_extra_folder_with_unusual_file_name(server_p, site):
    man = manifest_of(server_p, site, "av/extra/manifest")
    check_canvases(server_p, man, [(f"av/extra/{STILL[0]}", None, *STILL[1:], TOL_PNG)])


def test_broken_folder_still_a_manifest(server_p, site):
    man = manifest_of(server_p, site, "broken/manifest")
    check_canvases(server_p, man, [(f"broken/{GOOD[0]}", None, *GOOD[1:], TOL_PNG)])


@pytest.mark.parametrize("name,kind", [("interview.mp3", "Sound"), ("film.mp4", "Video"),
                                       ("clip.webm", "Video")])
def test_media_file_is_own_manifest(server_p, site, name, kind):
    man = manifest_of(server_p, site, f"av/{name}/manifest")
    assert len(man.get("items", [])) == 1, f"{name}: {len(man.get('items', []))} canvases"
    c = man["items"][0]
    assert c.get("duration", 0) > 0, c
    assert painting_body(c).get("type") == kind


@pytest.mark.parametrize("path", [
    "empty/collection", "empty/manifest", ".hidden/collection", ".hidden/manifest",
    "books/book1/.secret.png/manifest", "av/.secret.mp3/manifest", "av/notes.txt/manifest",
    "books/book1/data.bin/manifest", "av/link.mp3/manifest", "av/interview.en.vtt/manifest",
    "books/book1/manifest.yml/manifest", "nothing/here/manifest", "books/manifest",
    "books/book1/collection", "%2e%2e/collection", "books/%2e%2e/%2e%2e/collection",
])
def test_skipped_and_wrong_paths_are_404(server_p, path):
    """Hidden, unservable, sidecar, empty and symlinked-out things have no IIIF resource; a
    Collection folder is not a Manifest and vice versa."""
    r = server_p.get(f"/iiif/presentation/{path}")
    assert r.status == 404, f"/iiif/presentation/{path} -> {r.status} {r.body[:200]!r}"
