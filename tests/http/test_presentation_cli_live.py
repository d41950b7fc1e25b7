"""Presentation without restart (changes on disk show at once), --public-url, the static output
of `iiifd manifest` and the problem report of `iiifd check`."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from presentation_fixtures import (  # noqa: E402,F401
    EXPECTED_COLLECTIONS, EXPECTED_MANIFESTS, EXTERNAL_PREFIX, P3_CONTEXT, _pres_health,
    all_ids, crawl, fetch, fetch_json, ffmpeg, ffprobe_duration, find_service, image_identifier, make_clean_tree,
    painting_body, pres_url, ptree, pserver, run_cli, pchecks, doc_errors, sid, solid,
    validator_for, walk)

PUBLIC = "https://iiif.example.org"


# --------------------------------------------------------------------------------------------
# 9. changes on disk
# --------------------------------------------------------------------------------------------
def canvas_files(server, path):
    r = server.get(f"/iiif/presentation/{path}")
    assert r.status == 200, f"{path} -> {r.status}"
    m = r.json()
    out = []
    for c in m.get("items", []):
        s = find_service(painting_body(c), "ImageService3")
        out.append(os.path.basename(image_identifier(sid(s))) if s else None)
    return m, out


def norm(names):
    return [os.path.splitext(n)[0] if n else n for n in names]


def test_changes_on_disk_without_restart(server_factory, tmp_path):
    root = tmp_path / "live"
    (root / "bookA").mkdir(parents=True)
    (root / "other").mkdir()
    solid(40, 30, (200, 0, 0)).save(root / "bookA" / "p1.png")
    solid(40, 30, (0, 0, 200)).save(root / "bookA" / "p3.png")
    solid(20, 20, (9, 90, 9)).save(root / "other" / "x.png")
    s = server_factory(root_dir=str(root))

    _m, names = canvas_files(s, "bookA/manifest")
    assert norm(names) == ["p1", "p3"], names

    solid(50, 35, (0, 200, 0)).save(root / "bookA" / "p2.png")
    solid(60, 45, (0, 200, 200)).save(root / "bookA" / "p10.png")
    m, names = canvas_files(s, "bookA/manifest")
    assert norm(names) == ["p1", "p2", "p3", "p10"], f"after adding p2, p10: {names}"
    assert (m["items"][1]["width"], m["items"][1]["height"]) == (50, 35)

    os.remove(root / "bookA" / "p3.png")
    m, names = canvas_files(s, "bookA/manifest")
    assert norm(names) == ["p1", "p2", "p10"], f"after removing p3: {names}"
    assert s.get("/iiif/presentation/bookA/manifest/canvas/4").status == 404

    # the same name, a new picture of another size
    solid(70, 20, (250, 250, 0)).save(root / "bookA" / "p1.png")
    m, names = canvas_files(s, "bookA/manifest")
    assert (m["items"][0]["width"], m["items"][0]["height"]) == (70, 20), \
        "canvas size not updated after p1.png was replaced"

    r0 = s.get("/iiif/presentation/bookA/manifest")
    c0 = s.get("/iiif/presentation/collection")
    (root / "bookA" / "manifest.yml").write_text("label: First label\n")
    # the parent Collection shows the member's label: its body and ETag change too
    c1 = s.get("/iiif/presentation/collection")
    labels = [x.get("label") for x in c1.json()["items"]]
    assert {"none": ["First label"]} in labels, f"root members: {labels}"
    assert c1.header("ETag") != c0.header("ETag"), "root Collection changed, ETag did not"
    r = s.get("/iiif/presentation/collection", headers={"If-None-Match": c0.header("ETag")})
    assert r.status == 200, "root Collection changed but a stale ETag got 304"
    r1 = s.get("/iiif/presentation/bookA/manifest")
    assert r1.json().get("label") == {"none": ["First label"]}, r1.json().get("label")
    assert r1.header("ETag") != r0.header("ETag")
    (root / "bookA" / "manifest.yml").write_text("label: {en: The second edition}\n")
    r2 = s.get("/iiif/presentation/bookA/manifest")
    assert r2.json().get("label") == {"en": ["The second edition"]}, r2.json().get("label")
    assert r2.header("ETag") and r2.header("ETag") != r1.header("ETag"), "ETag did not change"
    r = s.get("/iiif/presentation/bookA/manifest", headers={"If-None-Match": r1.header("ETag")})
    assert r.status == 200, "stale If-None-Match answered 304"

    os.rename(root / "bookA", root / "bookB")
    assert s.get("/iiif/presentation/bookA/manifest").status == 404
    r = s.get("/iiif/presentation/bookB/manifest")
    assert r.status == 200 and len(r.json()["items"]) == 3
    assert r.json()["id"] == f"{s.base}/iiif/presentation/bookB/manifest"
    ids = [x["id"] for x in s.get("/iiif/presentation/collection").json()["items"]]
    assert ids == [f"{s.base}/iiif/presentation/bookB/manifest",
                   f"{s.base}/iiif/presentation/other/manifest"], ids

    # a new sub-folder turns a Manifest folder into a Collection folder
    (root / "other" / "deeper").mkdir()
    solid(20, 20, (9, 9, 90)).save(root / "other" / "deeper" / "y.png")
    r = s.get("/iiif/presentation/other/collection")
    assert r.status == 200, f"other/ has a sub-folder now: {r.status}"
    assert s.get("/iiif/presentation/other/manifest").status == 404


def test_media_change_without_restart(server_factory, tmp_path, ptree):
    """Replacing an audio file (same name, another length) changes the Canvas duration; a new
    caption file appears as a caption at once; removing it takes it away."""
    root = tmp_path / "live-av"
    (root / "snd").mkdir(parents=True)
    (root / "pics").mkdir()
    solid(20, 20, (9, 90, 9)).save(root / "pics" / "x.png")
    shutil.copy(ptree.path("av", "interview.mp3"), root / "snd" / "talk.mp3")
    s = server_factory(root_dir=str(root))
    path = "/iiif/presentation/snd/talk.mp3/manifest"
    r = s.get(path)
    assert r.status == 200, r
    c = r.json()["items"][0]
    assert abs(c["duration"] - ptree.media["interview.mp3"]["duration"]) < 0.05
    assert not c.get("annotations")

    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:sample_rate=44100:duration=2",
           "-c:a", "libmp3lame", "-b:a", "32k", str(root / "snd" / "new.mp3"))
    true = ffprobe_duration(root / "snd" / "new.mp3")
    os.replace(root / "snd" / "new.mp3", root / "snd" / "talk.mp3")
    c = s.get(path).json()["items"][0]
    assert abs(c["duration"] - true) < 0.05, f"duration {c['duration']} after the file became " \
                                              f"{true:.3f} s long"
    (root / "snd" / "talk.de.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHallo\n")
    c = s.get(path).json()["items"][0]
    caps = [a for p in c.get("annotations", []) for a in p.get("items", [])]
    assert len(caps) == 1 and caps[0]["body"].get("language") in ("de", ["de"]), caps
    os.remove(root / "snd" / "talk.de.vtt")
    c = s.get(path).json()["items"][0]
    assert not [a for p in c.get("annotations", []) for a in p.get("items", [])]


# --------------------------------------------------------------------------------------------
# 10. --public-url
# --------------------------------------------------------------------------------------------
def own_ids_not_public(doc, public):
    return [f"{p}: {i}" for p, i in all_ids(doc)
            if not i.startswith(EXTERNAL_PREFIX) and not i.startswith(public + "/")]


def test_public_url_everywhere(server_factory, ptree):
    s = server_factory(args=["--public-url", PUBLIC], root_dir=ptree.root)
    colls, mans, problems = crawl(s, public=PUBLIC)
    assert not problems, "\n".join(problems)
    assert len(colls) == len(EXPECTED_COLLECTIONS) and len(mans) == len(EXPECTED_MANIFESTS), \
        (sorted(colls), sorted(mans))
    bad = []
    for url, doc in {**colls, **mans}.items():
        bad += own_ids_not_public(doc, PUBLIC)
    # separately served resources and the Image API behind the bodies
    book1 = mans[f"{PUBLIC}/iiif/presentation/books/book1/manifest"]
    for url in (book1["items"][0]["id"], book1["items"][0]["items"][0]["id"],
                book1["structures"][0]["id"]):
        bad += own_ids_not_public(fetch_json(s, url, PUBLIC), PUBLIC)
    svc = find_service(painting_body(book1["items"][0]), "ImageService3")
    info = fetch_json(s, sid(svc) + "/info.json", PUBLIC, expect_id=False)
    if info.get("id") != sid(svc):
        bad.append(f"info.json id {info.get('id')} != {sid(svc)}")
    r = s.get("/iiif/presentation-v2/books/book1/manifest")
    assert r.status == 200
    bad += own_ids_not_public(r.json(), PUBLIC)
    assert not bad, "ids not under the public URL:\n" + "\n".join(bad[:30])


# --------------------------------------------------------------------------------------------
# 11. static output
# --------------------------------------------------------------------------------------------
def without_server_services(doc):
    """The served document less its search services, the activity stream and stored-annotation
    page references."""
    if isinstance(doc, list):
        return [without_server_services(x) for x in doc]
    if not isinstance(doc, dict):
        return doc
    out = {k: without_server_services(v) for k, v in doc.items() if k != "service" or
           not any("Search" in str(s.get("type", s.get("@type", ""))) for s in v)}
    if isinstance(out.get("seeAlso"), list):  # the Change Discovery stream
        out["seeAlso"] = [x for x in out["seeAlso"] if x.get("type") != "OrderedCollection"]
        if not out["seeAlso"]:
            del out["seeAlso"]
    if isinstance(out.get("annotations"), list):
        out["annotations"] = [a for a in out["annotations"]
                              if "/annotations/" not in str(a.get("id", ""))]
        if not out["annotations"]:
            del out["annotations"]
    return out


def test_static_manifest_output(server_factory, iiifd_bin, ptree, tmp_path, pchecks):
    out = tmp_path / "static"
    p = run_cli(iiifd_bin, "manifest", ptree.root, "--public-url", PUBLIC, "--out", out)
    text = p.stdout + p.stderr
    assert p.returncode == 0 or "broken/manifest.yml" in text, \
        f"iiifd manifest exited {p.returncode}:\n{text[-3000:]}"
    base = out / "iiif" / "presentation"
    assert (base / "collection").is_file(), f"no {base / 'collection'}; wrote: " + \
        ", ".join(str(x.relative_to(out)) for x in out.rglob("*"))[:2000]

    s = server_factory(args=["--public-url", PUBLIC], root_dir=ptree.root)
    colls, mans, problems = crawl(s, public=PUBLIC)
    assert not problems, "\n".join(problems)
    v = validator_for(pchecks)
    bad = []
    served = {**colls, **mans}
    for url, doc in served.items():
        rel = url[len(PUBLIC) + 1:]
        f = out / rel
        if not f.is_file():
            bad.append(f"missing file {rel}")
            continue
        try:
            static = json.loads(f.read_text(encoding="utf-8"))
        except ValueError as e:
            bad.append(f"{rel}: not JSON ({e})")
            continue
        # a static site has no search or annotation server: drop what only the server offers
        doc = without_server_services(doc)
        if static != doc:
            diff = [k for k in set(static) | set(doc) if static.get(k) != doc.get(k)]
            bad.append(f"{rel}: differs from the served JSON in {sorted(diff)}")
        errs = doc_errors(v, static)
        if errs:
            bad.append(f"{rel}: " + "; ".join(errs))
    written = {str(x.relative_to(out)) for x in out.rglob("*")
               if x.is_file() and x.name in ("collection", "manifest")
               and str(x.relative_to(out)).startswith("iiif/presentation/")}
    extra = written - {u[len(PUBLIC) + 1:] for u in served}
    if extra:
        bad.append(f"files for resources the server does not have: {sorted(extra)}")
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------------------------
# 12. iiifd check
# --------------------------------------------------------------------------------------------
def test_check_reports_problems(iiifd_bin, ptree):
    p = run_cli(iiifd_bin, "check", ptree.root)
    text = p.stdout + p.stderr
    assert p.returncode != 0, f"check exited 0 on a tree with problems:\n{text[-3000:]}"
    assert "unknown command" not in text.lower(), text
    for want in ("broken/manifest.yml:3", "broken/manifest.yml:4", "av/notes.txt",
                 "books/book1/data.bin"):
        assert want in text, f"check does not list {want!r}:\n{text[-3000:]}"


def test_check_clean_tree(iiifd_bin, ptree, tmp_path):
    root = make_clean_tree(str(tmp_path), ptree)
    p = run_cli(iiifd_bin, "check", root)
    assert p.returncode == 0, f"check exited {p.returncode} on a clean tree:\n" \
                              f"{(p.stdout + p.stderr)[-3000:]}"
    # and it really looked: a problem added to the same tree is found
    with open(os.path.join(root, "books", "book1", "page10.png.yml"), "w") as f:
        f.write("label: Last page\nnavDate: sometime\n")
    p = run_cli(iiifd_bin, "check", root)
    assert p.returncode != 0 and "book1/page10.png.yml:2" in p.stdout + p.stderr, \
        p.stdout + p.stderr


def test_check_missing_root(iiifd_bin, tmp_path):
    p = run_cli(iiifd_bin, "check", tmp_path / "does-not-exist")
    assert p.returncode != 0, p.stdout + p.stderr
    assert "does-not-exist" in p.stdout + p.stderr
