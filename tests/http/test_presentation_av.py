"""Audio and video Manifests: duration and size probed exactly, Sound/Video bodies, WebVTT
captions as supplementing annotations, chapters as time Ranges, and placeholder Canvases (a
poster frame for video, a waveform for audio) served through the Image API."""

import json
import os
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from presentation_fixtures import (  # noqa: E402,F401
    CHAPTERS, VIDEO_SIZE, VTT_EN, VTT_FILM, VTT_FR, WEBM_SIZE, _pres_health, canvas_ref_id,
    fetch, fetch_json, find_service, manifest_of, painting_body, ptree, pserver, server_p, sid,
    site)

DUR_TOL = 0.05
MEDIA = {  # name: (body type, format, size or None)
    "interview.mp3": ("Sound", "audio/mpeg", None),
    "film.mp4": ("Video", "video/mp4", VIDEO_SIZE),
    "clip.webm": ("Video", "video/webm", WEBM_SIZE),
}


def canvas(server_p, site, name):
    m = manifest_of(server_p, site, f"av/{name}/manifest")
    assert len(m.get("items", [])) == 1, m.get("items")
    return m, m["items"][0]


@pytest.mark.parametrize("name", sorted(MEDIA))
def test_duration_size_and_body(server_p, site, ptree, name):
    kind, fmt, size = MEDIA[name]
    true = ptree.media[name]["duration"]
    _m, c = canvas(server_p, site, name)
    d = c.get("duration")
    assert isinstance(d, (int, float)) and abs(d - true) <= DUR_TOL, \
        f"{name}: canvas duration {d!r}, ffprobe says {true:.3f}"
    if size is None:
        assert "width" not in c and "height" not in c, f"audio canvas with a size: {c}"
    else:
        assert (c.get("width"), c.get("height")) == size, \
            f"{name}: canvas {c.get('width')}x{c.get('height')}, video is {size}"
    body = painting_body(c)
    assert body.get("type") == kind, body
    assert body.get("format") == fmt, body
    bd = body.get("duration")
    assert isinstance(bd, (int, float)) and abs(bd - true) <= DUR_TOL, \
        f"{name}: body duration {bd!r}, ffprobe says {true:.3f}"
    if size is not None and "width" in body:
        assert (body.get("width"), body.get("height")) == size, body
    assert body.get("id", "").endswith(f"/iiif/media/av/{name}"), body.get("id")
    r = fetch(server_p, body["id"])
    assert r.status == 200, f"{body['id']} -> {r.status}"
    with open(ptree.path("av", name), "rb") as f:
        assert r.body == f.read(), f"{body['id']} is not the file's bytes"


def caption_annotations(server_p, c):
    """Caption annotations (a text/vtt body) of a Canvas's annotation pages (fetched if only
    referenced). The pages also hold the cues indexed for search (TextualBody), not captions."""
    out = []
    for page in c.get("annotations", []) or []:
        assert page.get("type") == "AnnotationPage", page
        if "items" not in page:
            page = fetch_json(server_p, page["id"])
        for a in page.get("items", []):
            b = a.get("body")
            b = b[0] if isinstance(b, list) and b else b
            if isinstance(b, dict) and b.get("type") == "TextualBody":
                continue
            out.append((page, a))
    return out


def caption_body(a):
    b = a.get("body")
    if isinstance(b, list):
        assert len(b) == 1, b
        b = b[0]
    return b


@pytest.mark.parametrize("name,langs,texts", [
    ("interview.mp3", {"en": VTT_EN, "fr": VTT_FR}, None),
    ("film.mp4", {None: VTT_FILM}, None),
])
def test_captions(server_p, site, ptree, name, langs, texts):
    """name.vtt / name.en.vtt / name.fr.vtt: supplementing annotations on the Canvas, body a
    text/vtt Text with the language from the file name; the body is the file."""
    _m, c = canvas(server_p, site, name)
    annos = caption_annotations(server_p, c)
    assert len(annos) == len(langs), f"{name}: {len(annos)} caption annotations: {annos}"
    cid = c["id"]
    got = {}
    for k, (page, a) in enumerate(annos, 1):
        assert page.get("id") == f"{cid}/captions", page.get("id")
        assert a.get("id") == f"{cid}/captions/{k}", a.get("id")
        assert a.get("type") == "Annotation"
        assert a.get("motivation") in ("supplementing", ["supplementing"]), a.get("motivation")
        tgt = a.get("target")
        tgt = tgt.get("source", tgt.get("id")) if isinstance(tgt, dict) else tgt
        assert isinstance(tgt, str) and tgt.split("#")[0] == cid, a.get("target")
        b = caption_body(a)
        assert b.get("type") == "Text" and b.get("format") == "text/vtt", b
        lang = b.get("language")
        if isinstance(lang, list):
            assert len(lang) == 1, lang
            lang = lang[0]
        got[lang] = b
    assert set(got) == set(langs), f"{name}: caption languages {sorted(map(str, got))}"
    for lang, b in got.items():
        r = fetch(server_p, b["id"])
        assert r.status == 200, f"{b['id']} -> {r.status}"
        assert r.content_type.split(";")[0].strip() == "text/vtt", r.content_type
        assert r.body.decode("utf-8") == langs[lang], f"{b['id']}: not the {lang} file"


def test_each_caption_track_is_listed_once(server_p):
    """Once the cues of interview.en.vtt / .fr.vtt are in the store (search finds them), the
    Canvas still lists each caption file once, labelled by its language's name, and no second
    page of the same cues (viewers would show every caption twice)."""
    base = "/iiif/presentation/av/interview.mp3/manifest"

    def indexed():
        r = server_p.get(f"{base}/search?q=bienvenue")
        return r.status == 200 and r.json().get("items")
    fx.wait_for(indexed, "the French captions in the search index", timeout=60)
    hit = server_p.get(f"{base}/search?q=bienvenue").json()["items"][0]
    assert "#t=" in json.dumps(hit["target"]), hit["target"]
    r = server_p.get(base)
    assert r.status == 200
    c = r.json()["items"][0]
    pages = c.get("annotations", [])
    assert [p.get("id") for p in pages] == [f"{c['id']}/captions"], pages
    labels = {caption_body(a)["language"]: caption_body(a).get("label")
              for a in pages[0]["items"]}
    assert labels == {"en": {"en": ["English"]}, "fr": {"fr": ["Fran\u00e7ais"]}}, labels


def test_no_captions_without_vtt(server_p, site):
    _m, c = canvas(server_p, site, "clip.webm")
    assert caption_annotations(server_p, c) == []


def test_chapters_are_time_ranges(server_p, site):
    m, c = canvas(server_p, site, "interview.mp3")
    s = m.get("structures")
    assert isinstance(s, list) and len(s) == len(CHAPTERS), s
    for k, (r, (label, start, end)) in enumerate(zip(s, CHAPTERS), 1):
        assert r.get("type") == "Range" and r.get("id") == f"{m['id']}/range/{k}", r
        assert r.get("label") == {"none": [label]}, r.get("label")
        items = r.get("items", [])
        assert len(items) == 1, items
        ref = canvas_ref_id(items[0])
        mt = re.fullmatch(re.escape(c["id"]) + r"#t=([0-9.]+),([0-9.]+)", ref)
        assert mt, f"range {k} item {ref!r} is not {c['id']}#t=start,end"
        assert abs(float(mt.group(1)) - start) < 1e-6 and abs(float(mt.group(2)) - end) < 1e-6, \
            f"range {k}: {ref}, expected t={start},{end}"


def placeholder(c, m):
    ph = c.get("placeholderCanvas") or m.get("placeholderCanvas")
    assert ph, f"no placeholderCanvas on {c['id']} (nor on its Manifest)"
    return ph


def placeholder_image(server_p, c, m, suffix):
    ph = placeholder(c, m)
    assert ph.get("type") == "Canvas", ph
    want = "Poster frame" if suffix == ";poster" else "Waveform"
    assert ph.get("label") == {"none": [want]}, ph.get("label")  # every Canvas SHOULD have one
    assert "placeholderCanvas" not in ph and "accompanyingCanvas" not in ph
    if ph is c.get("placeholderCanvas"):
        assert ph.get("id") == f"{c['id']}/placeholder", ph.get("id")
    body = painting_body(ph)
    assert body.get("type") == "Image", body
    s3 = find_service(body, "ImageService3")
    assert s3 is not None, f"placeholder body without ImageService3: {body}"
    assert sid(s3).endswith(suffix), f"{sid(s3)} does not end with {suffix!r}"
    info = fetch_json(server_p, sid(s3) + "/info.json", expect_id=False)
    assert info.get("id") == sid(s3)
    assert (ph.get("width"), ph.get("height")) == (info.get("width"), info.get("height")), \
        f"placeholder canvas {ph.get('width')}x{ph.get('height')}, image " \
        f"{info.get('width')}x{info.get('height')}"
    r = fetch(server_p, body["id"])
    assert r.status == 200, f"{body['id']} -> {r.status}"
    assert r.content_type in ("image/jpeg", "image/png"), r.content_type
    img = r.image()
    assert img.size == (info["width"], info["height"]), (img.size, info)
    return ph, s3, info, img


def test_video_poster_placeholder(server_p, site, ptree):
    m, c = canvas(server_p, site, "film.mp4")
    ph, s3, info, _img = placeholder_image(server_p, c, m, ";poster")
    assert (info["width"], info["height"]) == VIDEO_SIZE
    r = fetch(server_p, sid(s3) + "/full/max/0/default.png")
    assert r.status == 200, r.status
    got = np.asarray(r.image().convert("RGB")).astype(float)
    assert got.shape[:2] == (VIDEO_SIZE[1], VIDEO_SIZE[0]), got.shape
    diffs = {t: float(np.abs(got - f).mean()) for t, f in ptree.frames.items()}
    # testsrc is mostly static colour bars; a wrong/black/garbled frame is far off (> 60)
    assert min(diffs.values()) < 12, f"poster differs from the video's frames: {diffs}"


def test_audio_waveform_placeholder(server_p, site):
    m, c = canvas(server_p, site, "interview.mp3")
    _ph, _s3, info, img = placeholder_image(server_p, c, m, ";waveform")
    a = np.asarray(img.convert("L")).astype(float)
    assert a.std() > 10, "waveform image is blank"
    # a 440 Hz sine at constant level: nearly every column shows both wave and background
    mid = (a.min() + a.max()) / 2
    both = ((a < mid).any(axis=0) & (a > mid).any(axis=0)).mean()
    assert both > 0.8, f"the wave shows in only {both:.0%} of the columns (constant tone)"


def test_poster_not_for_audio_nor_waveform_for_video(server_p):
    """;poster is for videos, ;waveform for audio: the other combination has no image."""
    for ident in ("av%2Finterview.mp3;poster", "av%2Ffilm.mp4;waveform",
                  "books%2Fbook1%2Fpage1.png;poster"):
        r = server_p.get(f"/iiif/3/{ident}/info.json")
        assert r.status in (400, 404, 415), f"{ident} -> {r.status}"


def test_chapters_in_a_folder_and_inside_the_media(server_factory, tmp_path):
    """chapters: in a folder's Manifest name their file (file:); a chapter past the end of the
    probed media, on a file that is not audio or video, or without file: in a folder is left
    out and logged once: no Range points outside its media."""
    from presentation_fixtures import ffmpeg
    from PIL import Image
    folder = tmp_path / "root" / "album"
    folder.mkdir(parents=True)
    for name in ("a-side.mp3", "b-side.mp3"):
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=2", "-c:a", "libmp3lame",
               str(folder / name))
    Image.new("RGB", (40, 30), (9, 9, 9)).save(folder / "cover.png")
    (folder / "manifest.yml").write_text(
        "chapters:\n"
        "  - {label: Intro, start: 0, end: 1, file: a-side.mp3}\n"
        "  - {label: Outro, start: 0.5, end: 1.9, file: b-side.mp3}\n"
        "  - {label: Too long, start: 1, end: 9, file: a-side.mp3}\n"
        "  - {label: No file, start: 0, end: 1}\n"
        "  - {label: On the cover, start: 0, end: 1, file: cover.png}\n")
    s = server_factory(root_dir=str(tmp_path / "root"))
    r = s.get("/iiif/presentation/album/manifest")
    assert r.status == 200
    m = r.json()
    by_file = {c["items"][0]["items"][0]["body"]["id"].rsplit("/", 1)[1]: c["id"]
               for c in m["items"]}
    ranges = {json.dumps(rg["label"]): rg["items"][0]["id"] for rg in m.get("structures", [])}
    assert ranges == {json.dumps({"none": ["Intro"]}): f"{by_file['a-side.mp3']}#t=0,1",
                      json.dumps({"none": ["Outro"]}): f"{by_file['b-side.mp3']}#t=0.5,1.9"}, ranges
    s.get("/iiif/presentation/album/manifest")
    log = s.stderr_text()
    for label, why in (("Too long", "ends at 9 s, after the media"), ("No file", "names no file"),
                       ("On the cover", "not audio or video")):
        lines = [l for l in log.splitlines() if f"chapter '{label}'" in l]
        assert len(lines) == 1 and why in lines[0], (label, log[-2000:])
