"""Georeference Annotations through the annotation API (docs/maps.md "Writing georeferencing"):
the container {manifest}/annotations lists the georeferencing of the Manifest's Canvases exactly
as the Canvases embed it; a Georeference Annotation POSTed, PUT and DELETEd through the write API
is validated by the maps parser (400 naming the JSON path, nothing stored), served on the Canvas
next to the one of the file beside the image, with navPlace recomputed, and every result parses
with Allmaps' own parser to the GCPs that were written."""

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import maps_fixtures as mf  # noqa: E402
from annotation_fixtures import http  # noqa: E402
from test_maps import GEOREF_CONTEXT, allmaps, assert_footprint, write  # noqa: E402,F401

TOKEN = "maps-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FILE_GCPS = [(0, 0), (600, 0), (600, 400), (0, 400)]
WRITTEN_GCPS = [(50, 40), (550, 60), (540, 360), (60, 350), (300, 200)]


def gcps(points, lonlat):
    return [(x, y, *lonlat(x, y)) for x, y in points]


@pytest.fixture
def atlas(tmp_path, server_factory):
    """A folder with map.png (GCPs in map.gcps.csv) and plain.png (none), a server writing."""
    folder = tmp_path / "atlas"
    folder.mkdir()
    mf.image(str(folder / "map.png"))
    mf.image(str(folder / "plain.png"))
    write(folder, "map.gcps.csv", "x,y,lon,lat\n" + "".join(
        f"{x},{y},{lon!r},{lat!r}\n" for x, y, lon, lat in gcps(FILE_GCPS, mf.affine_lonlat)))
    s = server_factory(root_dir=str(tmp_path), args=["--api-token", f"alice={TOKEN}"])
    return s


def path(s, url):
    return url.split(f":{s.port}", 1)[1]


def manifest(s):
    r = s.get("/iiif/presentation/atlas/manifest")
    assert r.status == 200, r.body[:300]
    return r.json()


def canvases(s):
    """{image name: Canvas} of the atlas."""
    m = manifest(s)
    out = {}
    for c in m["items"]:
        name = c["items"][0]["items"][0]["body"]["id"].split("%2F")[-1].split("/")[0]
        out[name] = c
    return out


def georef_items(canvas):
    pages = [p for p in canvas.get("annotations", []) if p["id"].endswith("/georeferencing")]
    assert len(pages) <= 1
    return pages[0]["items"] if pages else []


def container(s):
    r = s.get("/iiif/presentation/atlas/manifest/annotations")
    assert r.status == 200, r.body[:300]
    return r.json()


def annotation(canvas_id, points, lonlat, transformation=None, scale=1, mask=None):
    """A Georeference Annotation as Allmaps writes it; pixels of a copy scale times the size."""
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"resourceCoords": [x * scale, y * scale]},
         "geometry": {"type": "Point", "coordinates": list(lonlat(x, y))}}
        for x, y in points]}
    if transformation:
        body["transformation"] = transformation
    ring = mask or [(0, 0), (mf.W, 0), (mf.W, mf.H), (0, mf.H)]
    svg = ('<svg><polygon points="' + " ".join(f"{x * scale:g},{y * scale:g}" for x, y in ring)
           + '" /></svg>')
    return {"@context": GEOREF_CONTEXT, "type": "Annotation", "motivation": "georeferencing",
            "target": {"type": "SpecificResource",
                       "source": {"id": canvas_id, "type": "Canvas", "width": mf.W * scale,
                                  "height": mf.H * scale},
                       "selector": {"type": "SvgSelector", "value": svg}},
            "body": body}


def allmaps_read(reader, tmp_path, docs):
    files = []
    for i, doc in enumerate(docs):
        p = tmp_path / f"read-{len(list(tmp_path.iterdir()))}-{i}.json"
        p.write_text(json.dumps(doc))
        files.append(str(p))
    out = subprocess.run(["node", reader, *files], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_allmaps_gcps(m, canvas_id, expected):
    assert m["resource"]["id"] == canvas_id
    assert (m["resource"]["width"], m["resource"]["height"]) == (mf.W, mf.H)
    assert len(m["gcps"]) == len(expected)
    for g, (x, y, lon, lat) in zip(m["gcps"], expected):
        assert g["resource"] == pytest.approx([x, y], abs=1e-9)
        assert g["geo"] == pytest.approx([lon, lat], abs=1e-9)


def test_the_container_lists_the_georeferencing_of_the_files(atlas, tmp_path, allmaps):
    s = atlas
    cs = canvases(s)
    embedded = georef_items(cs["map.png"])
    assert len(embedded) == 1 and georef_items(cs["plain.png"]) == []
    page = container(s)
    assert page["@context"][0] == GEOREF_CONTEXT
    assert page["items"] == embedded, "the same JSON and id as the Canvas embeds"
    r = s.get("/iiif/presentation/atlas/manifest/annotations?motivation=georeferencing")
    assert r.json()["items"] == embedded
    r = s.get("/iiif/presentation/atlas/manifest/annotations?motivation=commenting")
    assert r.json()["items"] == [] and GEOREF_CONTEXT not in r.json()["@context"]
    r = s.get("/iiif/presentation/atlas/manifest/annotations?score=0.5")
    assert r.json()["items"] == [], "georeferencing has no score"
    (maps,) = allmaps_read(allmaps, tmp_path, [page])
    assert len(maps) == 1
    assert_allmaps_gcps(maps[0], cs["map.png"]["id"], gcps(FILE_GCPS, mf.affine_lonlat))


def test_a_written_annotation_is_served_like_a_file(atlas, tmp_path, allmaps):
    s = atlas
    cs = canvases(s)
    plain = cs["plain.png"]["id"]
    tps = {"type": "thinPlateSpline"}
    # made for a copy twice the size: scaled to the Canvas, as for files
    doc = annotation(plain, WRITTEN_GCPS, mf.bent_lonlat, tps, scale=2)
    r = http(s, "POST", "/iiif/presentation/atlas/manifest/annotations", body=doc, headers=AUTH)
    assert r.status == 201, r.body[:400]
    loc = r.header("Location")
    assert loc.startswith(manifest(s)["id"] + "/annotations/")
    single = r.json()
    assert single["@context"][0] == GEOREF_CONTEXT and single["id"] == loc
    m = manifest(s)
    cs = canvases(s)
    (served,) = georef_items(cs["plain.png"])
    assert served["id"] == loc
    assert {k: v for k, v in single.items() if k != "@context"} == served
    got = s.get(path(s, loc)).json()
    assert got == single
    # navPlace from the written GCPs, with the declared transformation
    exp = {"gcps": gcps(WRITTEN_GCPS, mf.bent_lonlat), "mask": None,
           "transformation": ("thinPlateSpline", None)}
    (feature,) = cs["plain.png"]["navPlace"]["features"]
    assert_footprint(feature, exp, "written")
    assert feature in m["navPlace"]["features"] and len(m["navPlace"]["features"]) == 2
    # the container lists it once, as embedded
    items = container(s)["items"]
    assert items == georef_items(cs["map.png"]) + [served]
    page = s.get(path(s, cs["plain.png"]["id"] + "/annotations/georeferencing")).json()
    assert page["items"] == [served]
    for maps in allmaps_read(allmaps, tmp_path, [single, page, {"type": "AnnotationPage",
                                                                "items": [served]}]):
        assert len(maps) == 1
        assert_allmaps_gcps(maps[0], plain, exp["gcps"])
        assert maps[0]["transformation"]["type"] == "thinPlateSpline"
    # Presentation 2.1 has no georeferencing: not listed, and no list of it
    v2 = s.get("/iiif/presentation-v2/atlas/manifest").json()
    assert all("otherContent" not in c for c in v2["sequences"][0]["canvases"])
    n = plain.rsplit("/", 1)[1]
    r = s.get(f"/iiif/presentation-v2/atlas/manifest/canvas/{n}/annotations/georeferencing")
    assert r.status == 404
    # not text to search
    r = s.get("/iiif/presentation/atlas/manifest/search?q=FeatureCollection")
    assert r.status == 200 and r.json()["items"] == []
    r = s.get("/iiif/presentation/atlas/manifest/search")
    assert r.status == 200 and r.json()["items"] == []
    assert r.json()["partOf"]["total"] == 0, r.json()["partOf"]


def test_a_file_and_a_written_annotation_are_both_served(atlas, tmp_path, allmaps):
    """An inset map on the sheet, written through the API: the file's annotation stays first."""
    s = atlas
    cs = canvases(s)
    canvas = cs["map.png"]["id"]
    inset = [(300, 200), (580, 200), (580, 380), (300, 380)]
    doc = annotation(canvas, inset, mf.bent_lonlat, mask=inset)
    r = http(s, "POST", "/iiif/presentation/atlas/manifest/annotations", body=doc, headers=AUTH)
    assert r.status == 201, r.body[:400]
    cs = canvases(s)
    items = georef_items(cs["map.png"])
    assert [a["id"] for a in items] == [canvas + "/annotations/georeferencing/1",
                                        r.header("Location")]
    feats = cs["map.png"]["navPlace"]["features"]
    assert len(feats) == 2 and len({f["id"] for f in feats}) == 2
    assert_footprint(feats[0], {"gcps": gcps(FILE_GCPS, mf.affine_lonlat), "mask": None,
                                "transformation": ("polynomial", 1)}, "file")
    assert_footprint(feats[1], {"gcps": gcps(inset, mf.bent_lonlat), "mask": inset,
                                "transformation": ("polynomial", 1)}, "inset")
    assert container(s)["items"] == items
    (maps,) = allmaps_read(allmaps, tmp_path, [container(s)])
    assert len(maps) == 2
    assert_allmaps_gcps(maps[0], canvas, gcps(FILE_GCPS, mf.affine_lonlat))
    assert_allmaps_gcps(maps[1], canvas, gcps(inset, mf.bent_lonlat))
    assert maps[1]["resourceMask"] == [list(p) for p in inset]


def test_put_and_delete_recompute_the_canvas(atlas, tmp_path, allmaps):
    s = atlas
    plain = canvases(s)["plain.png"]["id"]
    doc = annotation(plain, WRITTEN_GCPS[:4], mf.affine_lonlat)
    r = http(s, "POST", "/iiif/presentation/atlas/manifest/annotations", body=doc, headers=AUTH)
    assert r.status == 201, r.body[:400]
    loc, etag = r.header("Location"), r.header("ETag")
    new = annotation(plain, WRITTEN_GCPS, mf.bent_lonlat, {"type": "polynomial",
                                                           "options": {"order": 2}})
    r = http(s, "PUT", path(s, loc), body=new, headers=dict(AUTH, **{"If-Match": etag}))
    assert r.status == 200, r.body[:400]
    cs = canvases(s)
    (served,) = georef_items(cs["plain.png"])
    assert served["id"] == loc and served["body"]["transformation"]["options"]["order"] == 2
    exp = {"gcps": gcps(WRITTEN_GCPS, mf.bent_lonlat), "mask": None,
           "transformation": ("polynomial", 2)}
    assert_footprint(cs["plain.png"]["navPlace"]["features"][0], exp, "replaced")
    (maps,) = allmaps_read(allmaps, tmp_path, [r.json()])
    assert_allmaps_gcps(maps[0], plain, exp["gcps"])
    r = http(s, "DELETE", path(s, loc), headers=AUTH)
    assert r.status == 204
    cs = canvases(s)
    assert georef_items(cs["plain.png"]) == [] and "navPlace" not in cs["plain.png"]
    assert s.get(path(s, loc)).status == 404
    assert len(container(s)["items"]) == 1


BAD = [
    (lambda d: d["body"]["features"][1].update(geometry={"type": "LineString",
                                                         "coordinates": [[4, 52], [5, 53]]}),
     "$.body.features[1].geometry"),
    (lambda d: d["body"].update(transformation={"type": "polynomial", "options": {"order": 4}}),
     "$.body.transformation"),
    (lambda d: d["body"]["features"][0]["properties"].update(resourceCoords=["a", 1]),
     "$.body.features[0]"),
    (lambda d: d["target"]["selector"].update(value="<svg><polygon points=\"1,2\" /></svg>"),
     "$.target.selector.value"),
    (lambda d: d["target"]["source"].update(id=d["target"]["source"]["id"] + "#xywh=0,0,5,5"),
     "$.target"),
    (lambda d: d["target"]["source"].update(id="https://example.org/canvas/1"), "target"),
    (lambda d: d.update(type="AnnotationPage"), "$.type"),
]


def test_bad_annotations_are_refused_naming_the_path(atlas):
    s = atlas
    plain = canvases(s)["plain.png"]["id"]
    good = annotation(plain, WRITTEN_GCPS[:3], mf.affine_lonlat)
    r = http(s, "POST", "/iiif/presentation/atlas/manifest/annotations", body=good, headers=AUTH)
    assert r.status == 201
    loc, stored, etag = r.header("Location"), r.json(), r.header("ETag")
    before = container(s)["items"]
    for spoil, where in BAD:
        doc = annotation(plain, WRITTEN_GCPS, mf.affine_lonlat)
        spoil(doc)
        r = http(s, "POST", "/iiif/presentation/atlas/manifest/annotations", body=doc,
                 headers=AUTH)
        assert r.status == 400, (where, r.status, r.body[:300])
        assert where in r.body.decode(), r.body[:300]
        # a PUT with it leaves the stored one as it was
        r = http(s, "PUT", path(s, loc), body=doc, headers=dict(AUTH, **{"If-Match": etag}))
        assert r.status == 400 and where in r.body.decode(), (where, r.body[:300])
    assert container(s)["items"] == before, "nothing stored"
    assert s.get(path(s, loc)).json() == stored
    assert georef_items(canvases(s)["plain.png"]) == [stored_without_context(stored)]


def stored_without_context(doc):
    return {k: v for k, v in doc.items() if k != "@context"}


def test_a_training_set_takes_no_georeferencing_as_a_label(tmp_path, server_factory, iiifd_bin):
    """`iiifd dataset` exports text labels: a written Georeference Annotation is none."""
    from presentation_fixtures import run_cli
    folder = tmp_path / "root" / "atlas"
    folder.mkdir(parents=True)
    mf.image(str(folder / "plain.png"))
    data = str(tmp_path / "data")
    s = server_factory(root_dir=str(tmp_path / "root"),
                       args=["--api-token", f"alice={TOKEN}", "--data-dir", data])
    plain = canvases(s)["plain.png"]["id"]
    for doc in (annotation(plain, WRITTEN_GCPS, mf.affine_lonlat),
                {"type": "Annotation", "motivation": "tagging", "target": plain + "#xywh=10,10,50,40",
                 "body": {"type": "TextualBody", "value": "harbour"}}):
        r = http(s, "POST", "/iiif/presentation/atlas/manifest/annotations", body=doc,
                 headers=AUTH)
        assert r.status == 201, r.body[:300]
    out = str(tmp_path / "set")
    p = run_cli(iiifd_bin, "dataset", "--root", str(tmp_path / "root"), "--data-dir", data,
                *fx.database_args(data),
                "--out", out, "--quiet", "--format", "coco", "--size", "50", "atlas")
    assert p.returncode == 0, p.stderr
    text = "".join(open(os.path.join(d, f)).read() for d, _, fs in os.walk(out) for f in fs
                   if f.endswith(".json"))
    assert "harbour" in text and "FeatureCollection" not in text, text[:500]
