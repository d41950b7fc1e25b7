"""Georeferenced maps end to end: GCPs from QGIS .points, GCP CSV, Georeference Annotation JSON
and GeoTIFF tags (tie point + pixel scale, ModelTransformation, PixelIsPoint, several tie points,
UTM reprojected) served as Georeference Annotations that Allmaps' own parser reads back equal to
what was imported, navPlace footprints equal to the transformation computed here with numpy,
`iiifd check` warnings for doubtful GCPs, and clear errors (file and line or JSON path) for
invalid files, which are not served at all."""

import json
import os
import subprocess
import urllib.parse

import numpy as np
import pytest

import maps_fixtures as mf

REPO = os.path.join(os.path.dirname(__file__), "..", "..")
NODE_READER = os.path.join(REPO, "tests", "maps", "allmaps-read.mjs")
GEOREF_CONTEXT = "http://iiif.io/api/extension/georef/1/context.json"
NAVPLACE_CONTEXT = "http://iiif.io/api/extension/navplace/context.json"


@pytest.fixture(scope="module")
def allmaps():
    """@allmaps/annotation in build/web: installed from npm by scripts/install-web (pinned in
    web/package.json) when missing, as the browser tests do; a failure to install fails."""
    script = os.path.join(REPO, "scripts", "install-web")
    if subprocess.run([script, "--check"], capture_output=True).returncode != 0:
        p = subprocess.run([script], capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"scripts/install-web failed:\n{p.stderr[-2000:]}"
    return NODE_READER


@pytest.fixture(scope="module")
def maps_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("maps-root")
    expected = mf.make_maps(os.path.join(root, "maps"))
    return str(root), expected


@pytest.fixture(scope="module")
def served(maps_root, iiifd_bin, tmp_path_factory):
    """The maps Manifest from a server over maps_root; {image name: Canvas}."""
    import fixtures as fx
    root, _ = maps_root
    s = fx.Server(iiifd_bin, root, str(tmp_path_factory.mktemp("maps-srv")), name="maps").start()
    try:
        r = s.get("/iiif/presentation/maps/manifest")
        assert r.status == 200, r.body[:300]
        manifest = r.json()
        pages = {}
        for canvas in manifest["items"]:
            for a in canvas.get("annotations", []):
                if a["id"].endswith("/annotations/georeferencing"):
                    path = a["id"].split(f":{s.port}", 1)[1]
                    pages[a["id"]] = (s.get(path), s.get(path + "/1"))
        yield manifest, canvas_by_name(manifest), pages, s
    finally:
        s.kill()
        found, text = s.new_sanitizer_reports()
        assert not found, text


def canvas_by_name(manifest):
    out = {}
    for c in manifest["items"]:
        body_id = c["items"][0]["items"][0]["body"]["id"]
        ident = urllib.parse.unquote(body_id.split("/iiif/3/", 1)[1].split("/", 1)[0])
        name = ident.rsplit("/", 1)[-1]
        out[name] = c
    return out


def georef_annotation(canvas):
    pages = [p for p in canvas.get("annotations", []) if p["id"].endswith("/georeferencing")]
    assert len(pages) == 1, canvas.get("annotations")
    assert pages[0]["type"] == "AnnotationPage" and len(pages[0]["items"]) == 1
    return pages[0]["items"][0]


def transformation(anno):
    t = anno["body"]["transformation"]
    return t["type"], t.get("options", {}).get("order")


def test_every_map_has_a_georeference_annotation_as_the_extension_says(maps_root, served):
    _, expected = maps_root
    manifest, canvases, _, _ = served
    assert manifest["@context"] == [GEOREF_CONTEXT, NAVPLACE_CONTEXT,
                                    "http://iiif.io/api/presentation/3/context.json"]
    assert set(canvases) == set(expected) | {"blank.png"}
    for name, exp in expected.items():
        canvas = canvases[name]
        a = georef_annotation(canvas)
        assert a["type"] == "Annotation" and a["motivation"] == "georeferencing"
        assert a["id"].startswith(canvas["id"] + "/annotations/georeferencing/")
        target = a["target"]
        assert target["type"] == "SpecificResource"
        assert target["source"]["id"] == canvas["id"] and target["source"]["type"] == "Canvas"
        assert (target["source"]["width"], target["source"]["height"]) == (mf.W, mf.H)
        assert target["source"]["partOf"] == [{"id": manifest["id"], "type": "Manifest"}]
        sel = target["selector"]
        assert sel["type"] == "SvgSelector"
        ring = exp["mask"] or [(0, 0), (mf.W, 0), (mf.W, mf.H), (0, mf.H)]
        assert sel["value"] == (f'<svg width="{mf.W}" height="{mf.H}"><polygon points="' +
                                " ".join(f"{x:g},{y:g}" for x, y in ring) + '" /></svg>')
        body = a["body"]
        assert body["type"] == "FeatureCollection"
        assert transformation(a) == exp["transformation"], name
        if exp["transformation"][0] == "thinPlateSpline":
            assert "options" not in body["transformation"]
        got = [(f["properties"]["resourceCoords"], f["geometry"]) for f in body["features"]]
        assert len(got) == len(exp["gcps"]), name
        for (rc, geom), (x, y, lon, lat) in zip(got, exp["gcps"]):
            assert geom["type"] == "Point"
            assert rc == pytest.approx([x, y], abs=1e-9), name
            assert geom["coordinates"] == pytest.approx([lon, lat], abs=1e-8), name
    blank = canvases["blank.png"]
    assert "navPlace" not in blank and not any(
        p["id"].endswith("/georeferencing") for p in blank.get("annotations", []))


def test_allmaps_parser_reads_back_what_was_imported(maps_root, served, tmp_path, allmaps):
    """Every annotation served (embedded, its page, and the annotation by its id) parses with
    @allmaps/annotation, and the GCPs, mask and transformation it reads equal the imports."""
    _, expected = maps_root
    manifest, canvases, pages, _ = served
    files, names = [], []
    for name in expected:
        canvas = canvases[name]
        a = georef_annotation(canvas)
        page_resp, anno_resp = pages[canvas["id"] + "/annotations/georeferencing"]
        assert page_resp.status == 200 and anno_resp.status == 200
        page, single = page_resp.json(), anno_resp.json()
        assert single["@context"][0] == GEOREF_CONTEXT
        assert {k: v for k, v in single.items() if k != "@context"} == a
        assert page["items"] == [a]
        for i, doc in enumerate((dict(a, **{"@context": single["@context"]}), page, single)):
            path = tmp_path / f"{name}-{i}.json"
            path.write_text(json.dumps(doc))
            files.append(str(path))
            names.append(name)
    out = subprocess.run(["node", allmaps, *files], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    parsed = json.loads(out.stdout)
    assert len(parsed) == len(files)
    for name, maps in zip(names, parsed):
        exp = expected[name]
        assert len(maps) == 1, name
        m = maps[0]
        assert m["resource"]["id"] == canvases[name]["id"]
        assert (m["resource"]["width"], m["resource"]["height"]) == (mf.W, mf.H)
        assert len(m["gcps"]) == len(exp["gcps"])
        for g, (x, y, lon, lat) in zip(m["gcps"], exp["gcps"]):
            assert g["resource"] == pytest.approx([x, y], abs=1e-9), name
            assert g["geo"] == pytest.approx([lon, lat], abs=1e-8), name
        ring = exp["mask"] or [(0, 0), (mf.W, 0), (mf.W, mf.H), (0, mf.H)]
        assert m["resourceMask"] == [list(p) for p in ring], name
        kind, order = exp["transformation"]
        assert m["transformation"]["type"] == kind, name
        if order:
            assert m["transformation"]["options"]["order"] == order, name


def assert_footprint(feature, exp, name):
    """The served polygon equals the ring transformed with the transformation fitted here."""
    kind, order = exp["transformation"]
    n = len(exp["gcps"])
    if kind == "polynomial":  # fewer GCPs than the order needs: the highest order they allow
        order = 3 if order == 3 and n >= 10 else 2 if order >= 2 and n >= 6 else 1
    f = mf.fit(exp["gcps"], kind, order)
    pts = mf.footprint_ring(exp["mask"], kind == "polynomial" and order == 1)
    want = f(*np.array(pts).T)
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
    rings = feature["geometry"]["coordinates"]
    assert len(rings) == 1
    ring = np.array(rings[0])
    assert (ring[0] == ring[-1]).all(), "the ring is closed"
    x, y = ring[:-1, 0], ring[:-1, 1]
    assert (x * np.roll(y, -1) - np.roll(x, -1) * y).sum() > 0, "counter-clockwise (RFC 7946)"
    got = ring[:-1]
    if not np.allclose(got, want, atol=1e-7, rtol=0):  # same points, other direction
        got = np.vstack([got[:1], got[1:][::-1]])
    np.testing.assert_allclose(got, want, atol=1e-7, rtol=0, err_msg=name)


def test_navplace_footprints_follow_the_declared_transformation(maps_root, served):
    _, expected = maps_root
    manifest, canvases, _, _ = served
    for name, exp in expected.items():
        nav = canvases[name]["navPlace"]
        assert nav["type"] == "FeatureCollection" and nav["id"].startswith("http")
        assert len(nav["features"]) == 1
        assert_footprint(nav["features"][0], exp, name)
    # the Manifest: every Canvas footprint, so the whole atlas is found by place
    feats = manifest["navPlace"]["features"]
    assert feats == [canvases[n]["navPlace"]["features"][0] for n in canvases if n in expected]


def test_utm_footprint_is_where_proj_puts_the_map(maps_root, served):
    """The reprojected GeoTIFF's corners land where cs2cs puts the UTM corners (the grid of
    GCPs with the spline is exact there)."""
    _, _ = maps_root
    _, canvases, _, _ = served
    ring = canvases["utm.tif"]["navPlace"]["features"][0]["geometry"]["coordinates"][0]
    corners = mf.cs2cs_utm31([(mf.UTM_TIE[0] + x * mf.UTM_SCALE, mf.UTM_TIE[1] - y * mf.UTM_SCALE)
                              for x, y in [(0, 0), (mf.W, 0), (mf.W, mf.H), (0, mf.H)]])
    for c in corners:
        assert min(np.hypot(p[0] - c[0], p[1] - c[1]) for p in ring) < 1e-8


def run_check(iiifd_bin, root):
    return subprocess.run([iiifd_bin, "check", "--quiet", root], capture_output=True, text=True)


def test_check_passes_the_good_maps(iiifd_bin, maps_root):
    root, _ = maps_root
    out = run_check(iiifd_bin, root)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "warning" not in out.stdout


def write(folder, name, text):
    with open(os.path.join(folder, name), "w") as f:
        f.write(text)


def test_doubtful_gcps_are_warnings_and_still_served(iiifd_bin, tmp_path, server_factory):
    folder = tmp_path / "doubtful"
    folder.mkdir()
    for n in ("two", "line", "out", "cubic"):
        mf.image(str(folder / f"{n}.png"))
    write(folder, "two.gcps.csv", "x,y,lon,lat\n10,10,4,52\n500,300,5,51\n")
    write(folder, "line.gcps.csv", "x,y,lon,lat\n0,0,4,52\n100,100,4.1,51.9\n200,200,4.2,51.8\n")
    write(folder, "out.gcps.csv",
          "x,y,lon,lat\n10,10,4,52\n900,10,5,52\n10,390,4,95\n300,200,4.5,51.5\n")
    cubic = [(x, y, *mf.bent_lonlat(x, y)) for x, y in
             [(0, 0), (600, 0), (600, 400), (0, 400), (300, 200), (100, 300)]]
    write(folder, "cubic.points", "# transformation: polynomial 3\nmapX,mapY,sourceX,sourceY,"
          "enable\n" + "".join(f"{lon!r},{lat!r},{x},{-y},1\n" for x, y, lon, lat in cubic))
    out = run_check(iiifd_bin, str(tmp_path))
    assert out.returncode == 0, out.stdout  # warnings only
    text = out.stdout
    assert "doubtful/two.png: two.gcps.csv: warning: 2 GCPs: polynomial order 1 needs at " \
           "least 3" in text
    assert "doubtful/line.png: line.gcps.csv: warning: the GCPs lie on one line" in text
    assert "doubtful/out.png: out.gcps.csv: warning: 1 GCP outside the 600x400 image " \
           "(first: GCP 2 at 900,10)" in text
    assert "out of range for WGS84 longitude -180..180, latitude -90..90 (first: GCP 3 at " \
           "4,95; longitude and latitude swapped?)" in text
    assert "cubic.points: warning: 6 GCPs: polynomial order 3 needs at least 10" in text
    assert "5 warnings (served anyway)" in text
    s = server_factory(root_dir=str(tmp_path))
    canvases = canvas_by_name(s.get("/iiif/presentation/doubtful/manifest").json())
    two = georef_annotation(canvases["two.png"])
    assert len(two["body"]["features"]) == 2
    assert "navPlace" not in canvases["two.png"]  # no footprint from two points
    assert "navPlace" not in canvases["line.png"]
    assert len(georef_annotation(canvases["line.png"])["body"]["features"]) == 3
    assert georef_annotation(canvases["out.png"])["body"]["features"][2]["geometry"][
        "coordinates"] == [4, 95]
    assert transformation(georef_annotation(canvases["cubic.png"])) == ("polynomial", 3)
    assert_footprint(canvases["cubic.png"]["navPlace"]["features"][0],
                     {"gcps": cubic, "transformation": ("polynomial", 3), "mask": None},
                     "cubic.png")  # fitted with order 2, the highest six GCPs allow


BAD = [
    ("num.points", "mapX,mapY,sourceX,sourceY,enable\n4,52,0,0,1\n4.1,52,10,-0,1\n"
     "4.2,east,20,-5,1\n", "bad/num.png: num.points:4: mapY is not a number: 'east'"),
    ("head.points", "x;y\n1;2\n", "bad/head.png: head.points:1: not a QGIS .points header"),
    ("cols.gcps.csv", "x,y,lon,lat\n1,2,3,4\n5,6,7\n",
     "bad/cols.png: cols.gcps.csv:3: no lat column (3 fields)"),
    ("nohead.gcps.csv", "1,2,3,4\n", "bad/nohead.png: nohead.gcps.csv:1: the first row must "
     "name the columns x, y, lon and lat"),
    ("order.gcps.csv", "# transformation: polynomial 4\nx,y,lon,lat\n",
     "bad/order.png: order.gcps.csv:1: transformation must be"),
    ("geom.georef.json", json.dumps({"type": "Annotation", "motivation": "georeferencing",
                                     "target": "https://example.org/c", "body": {
                                         "type": "FeatureCollection", "features": [
                                             {"type": "Feature", "properties": {
                                                 "resourceCoords": [1, 2]}, "geometry": {
                                                 "type": "Point", "coordinates": [4, 52]}},
                                             {"type": "Feature", "properties": {
                                                 "resourceCoords": [1, 2]}, "geometry": {
                                                 "type": "LineString", "coordinates": []}}]}}),
     "bad/geom.png: geom.georef.json: $.body.features[1].geometry: must be a GeoJSON Point"),
    ("rc.georef.json", json.dumps({"type": "Annotation", "target": "https://example.org/c",
                                   "body": {"type": "FeatureCollection", "features": [
                                       {"type": "Feature", "properties": {},
                                        "geometry": {"type": "Point", "coordinates": [4, 52]}}
                                   ]}}),
     "bad/rc.png: rc.georef.json: $.body.features[0].properties.resourceCoords: missing"),
    ("tf.georef.json", json.dumps({"type": "Annotation", "target": "https://example.org/c",
                                   "body": {"type": "FeatureCollection", "features": [],
                                            "transformation": {"type": "polynomial",
                                                               "options": {"order": 5}}}}),
     "bad/tf.png: tf.georef.json: $.body.transformation.options.order: must be 1, 2 or 3"),
    ("syntax.georef.json", '{"type": "Annotation",\n "body": [}',
     "bad/syntax.png: syntax.georef.json:2: not JSON"),
    ("mask.gcps.csv", "x,y,lon,lat\n0,0,4,52\n600,0,5,52\n0,400,4,51\n",
     "bad/mask.png: mask.mask: mask: needs at least 3 x,y points (4 numbers given)"),
]


def test_invalid_files_are_named_with_line_or_path_and_nothing_is_served(
        iiifd_bin, tmp_path, server_factory):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, text, _ in BAD:
        stem = name.split(".", 1)[0]
        mf.image(str(folder / f"{stem}.png"), 60, 40)
        write(folder, name, text)
    write(folder, "mask.mask", "1,2 3,4")
    # a GeoTIFF with one tie point and no pixel scale: a position, but no georeferencing
    mf.geotiff(str(folder), "tie", ["ModelTiepointTag (2,3):", " 0 0 0", " 4 52 0"],
               ["GTModelTypeGeoKey (Short,1): ModelTypeGeographic",
                "GeographicTypeGeoKey (Short,1): GCS_WGS_84"])
    write(folder, "nosuch.points", "mapX,mapY,sourceX,sourceY\n")  # no image of that name
    out = run_check(iiifd_bin, str(tmp_path))
    assert out.returncode == 1
    assert "bad/nosuch.points: georeferencing for 'nosuch.*', which is not an image in this " \
        "folder: not used" in out.stdout
    for _, _, message in BAD:
        assert message in out.stdout, (message, out.stdout)
    assert "bad/tie.tif: tie.tif: one tie point without ModelPixelScale: no georeferencing" \
        in out.stdout
    assert f"{len(BAD) + 2} problems in" in out.stdout
    s = server_factory(root_dir=str(tmp_path))
    manifest = s.get("/iiif/presentation/bad/manifest").json()
    assert len(manifest["items"]) == len(BAD) + 1
    for canvas in manifest["items"]:  # all or nothing: no half-read georeferencing
        assert "navPlace" not in canvas
        assert not any(p["id"].endswith("/georeferencing") for p in canvas.get("annotations", []))
    assert "navPlace" not in manifest
    assert manifest["@context"] == "http://iiif.io/api/presentation/3/context.json"
    log = s.stderr_text()  # the server says why, once per file version
    assert "bad/num.png: georeferencing not served: num.points:4: mapY is not a number" in log
    assert s.get("/iiif/presentation/bad/manifest").status == 200
    assert s.stderr_text().count("georeferencing not served: num.points") == 1
    r = s.get("/iiif/presentation/bad/manifest/canvas/1/annotations/georeferencing")
    assert r.status == 404


def test_presentation_2_leaves_the_georeferencing_out(served):
    """2.1 has no georeferencing: its Canvases list no AnnotationList that would be empty."""
    _, _, _, s = served
    m = s.get("/iiif/presentation-v2/maps/manifest").json()
    for canvas in m["sequences"][0]["canvases"]:
        for lst in canvas.get("otherContent", []):
            assert not lst["@id"].endswith("/georeferencing"), lst


def test_maps_manifest_is_valid_presentation3(served):
    """The project's structural checks of Presentation 3.0 and, when ../shared has it, the
    official JSON schema accept the Manifest with its Georeference Annotations and navPlace."""
    from presentation_fixtures import DocChecks, doc_errors, load_schema, validator_for
    manifest, _, _, _ = served
    assert not doc_errors(validator_for(DocChecks(load_schema())), manifest)


def test_import_of_a_georeference_file_says_it_is_served_in_place(iiifd_bin, maps_root, tmp_path):
    """`iiifd import` stores annotations; georeferencing is read where it lies, which it says."""
    root, _ = maps_root
    p = subprocess.run([iiifd_bin, "import", "--root", root, "--data-dir", str(tmp_path),
                        os.path.join(root, "maps", "survey.points")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert "maps/survey.points: georeferencing is served from the file next to its image, " \
           "nothing to import" in p.stderr
    # a folder import walks past the map files without complaint
    p = subprocess.run([iiifd_bin, "import", "--root", root, "--data-dir", str(tmp_path), root],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr


def test_a_changed_gcp_file_is_served_at_once(tmp_path, server_factory):
    """Parsed georeferencing is cached by file version: editing the file shows on the next
    Manifest, and removing it removes the georeferencing."""
    folder = tmp_path / "edit"
    folder.mkdir()
    mf.image(str(folder / "map.png"))
    pts = [(0, 0), (600, 0), (600, 400), (0, 400)]
    write(folder, "map.gcps.csv", "x,y,lon,lat\n" + "".join(
        f"{x},{y},{lon!r},{lat!r}\n" for x, y in pts for lon, lat in [mf.affine_lonlat(x, y)]))
    s = server_factory(root_dir=str(tmp_path))

    def features():
        canvas = s.get("/iiif/presentation/edit/manifest").json()["items"][0]
        pages = [p for p in canvas.get("annotations", []) if p["id"].endswith("/georeferencing")]
        return pages[0]["items"][0]["body"]["features"] if pages else None
    assert len(features()) == 4
    assert len(features()) == 4  # from the cache
    write(folder, "map.gcps.csv", "# transformation: thinPlateSpline\nx,y,lon,lat\n" + "".join(
        f"{x},{y},{lon!r},{lat!r}\n" for x, y in pts[:3] for lon, lat in [mf.bent_lonlat(x, y)]))
    got = features()
    assert len(got) == 3 and got[2]["geometry"]["coordinates"] == \
        pytest.approx(list(mf.bent_lonlat(600, 400)), abs=1e-8)
    os.remove(folder / "map.gcps.csv")
    assert features() is None


def test_allmaps_reader_refuses_what_allmaps_refuses(tmp_path, allmaps):
    """The reader can fail: an annotation whose GCP has no resourceCoords does not parse."""
    doc = {"type": "Annotation", "motivation": "georeferencing",
           "target": {"type": "SpecificResource",
                      "source": {"id": "https://example.org/c", "type": "Canvas",
                                 "width": 10, "height": 10},
                      "selector": {"type": "SvgSelector",
                                   "value": '<svg><polygon points="0,0 10,0 10,10" /></svg>'}},
           "body": {"type": "FeatureCollection", "features": [
               {"type": "Feature", "properties": {},
                "geometry": {"type": "Point", "coordinates": [4, 52]}}]}}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    out = subprocess.run(["node", allmaps, str(path)], capture_output=True, text=True)
    assert out.returncode == 1 and "allmaps-read:" in out.stderr, (out.stdout, out.stderr)
