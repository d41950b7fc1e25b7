"""Georeferenced map fixtures for test_maps.py, made at test time: images (vips), GCP files in
every supported format, GeoTIFFs written by geotifcp (Debian geotiff-bin) from a known
georeferencing, and the transformations computed independently with numpy (and cs2cs from
Debian proj-bin for UTM), to check what iiifd serves."""

import json
import os
import subprocess

import numpy as np

import fixtures as fx

W, H = 600, 400  # every map image
WGS84_WKT = ('GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,'
             '298.257223563]],CS[ellipsoidal,2],AXIS["latitude",north],AXIS["longitude",east],'
             'ID["EPSG",4326]]')
FOOTPRINT_STEPS = 8  # src/maps/serve.h MAPS_FOOTPRINT_STEPS


def image(path, w=W, h=H):
    fx.run(["vips", "black", path, str(w), str(h), "--bands", "3"])


def geotiff(folder, name, tags, keys):
    """name.tif with the GeoTIFF tags and keys given as listgeo text lines."""
    plain = os.path.join(folder, f".{name}-plain.tif")
    image(plain)
    meta = os.path.join(folder, f".{name}.txt")
    with open(meta, "w") as f:
        f.write("Geotiff_Information:\n Version: 1\n Key_Revision: 1.0\n Tagged_Information:\n")
        f.write("".join(f"  {t}\n" for t in tags))
        f.write("  End_Of_Tags.\n Keyed_Information:\n")
        f.write("".join(f"  {k}\n" for k in keys))
        f.write("  End_Of_Keys.\n End_Of_Geotiff.\n")
    fx.run(["geotifcp", "-g", meta, plain, os.path.join(folder, f"{name}.tif")])
    os.remove(plain)
    os.remove(meta)


def affine_lonlat(x, y):
    """The known georeferencing of the survey map (WGS84, affine)."""
    return 4.0 + 0.001 * x + 0.0001 * y, 52.0 - 0.0008 * y + 0.00005 * x


def bent_lonlat(x, y):
    """A georeferencing no affine transform fits (for the spline and polynomial maps)."""
    return 6.0 + 0.001 * x + 1e-7 * x * y, 50.0 - 0.001 * y + 2e-7 * x * x


def cs2cs_utm31(points):
    """UTM zone 31N easting/northing -> WGS84 lon/lat, by PROJ's own command line tool."""
    text = "".join(f"{e!r} {n!r}\n" for e, n in points)
    out = subprocess.run(["cs2cs", "-f", "%.12f", "EPSG:32631", "OGC:CRS84"], input=text,
                         capture_output=True, text=True, check=True).stdout
    return [tuple(float(v) for v in line.split()[:2]) for line in out.splitlines()]


# GeoTIFF georeferencing: tie point (0,0) -> (5, 51), 0.002 x 0.001 degrees per pixel
TIE = (5.0, 51.0)
SCALE = (0.002, 0.001)
MATRIX = (0.0015, 0.0004, 3.0, -0.0002, -0.001, 53.0)  # X = a I + b J + c, Y = d I + e J + f
UTM_TIE, UTM_SCALE = (500000.0, 5800000.0), 10.0
TIES = [(10, 20, 5.1, 50.9), (590, 30, 6.2, 50.95), (300, 380, 5.6, 50.5), (50, 390, 5.0, 50.4)]


def make_maps(folder):
    """The good maps; returns {image name: expected georeferencing}: gcps [(x, y, lon, lat)]
    in Canvas pixels, transformation (type, order), mask [(x, y)] or None."""
    os.makedirs(folder)
    expected = {}
    # QGIS .points, WGS84, pixel y negative, one disabled row, a mask file
    image(os.path.join(folder, "survey.png"))
    pts = [(20, 30), (580, 40), (560, 370), (30, 360), (300, 200)]
    rows = [f"{lon!r},{lat!r},{x},{-y},1,0,0,0" for x, y in pts
            for lon, lat in [affine_lonlat(x, y)]]
    rows.insert(2, "1.0,1.0,100,-100,0,0,0,0")  # disabled: not a GCP
    with open(os.path.join(folder, "survey.points"), "w") as f:
        f.write(f"#CRS: {WGS84_WKT}\nmapX,mapY,sourceX,sourceY,enable,dX,dY,residual\n")
        f.write("\n".join(rows) + "\n")
    mask = [(30, 20), (570, 25), (580, 380), (20, 370)]
    with open(os.path.join(folder, "survey.mask"), "w") as f:
        f.write(" ".join(f"{x},{y}" for x, y in mask) + "\n")
    expected["survey.png"] = {"gcps": [(x, y, *affine_lonlat(x, y)) for x, y in pts],
                              "transformation": ("polynomial", 1), "mask": mask}
    # GCP CSV with a thin plate spline, columns in another order
    image(os.path.join(folder, "plan.png"))
    pts = [(0, 0), (600, 0), (600, 400), (0, 400), (300, 200), (150, 300)]
    with open(os.path.join(folder, "plan.gcps.csv"), "w") as f:
        f.write("# transformation: thinPlateSpline\nlon,lat,x,y\n")
        for x, y in pts:
            lon, lat = bent_lonlat(x, y)
            f.write(f"{lon!r},{lat!r},{x},{y}\n")
    expected["plan.png"] = {"gcps": [(x, y, *bent_lonlat(x, y)) for x, y in pts],
                            "transformation": ("thinPlateSpline", None), "mask": None}
    # a Georeference Annotation made for a half-size copy: served in Canvas pixels (x2)
    image(os.path.join(folder, "sheet.png"))
    pts = [(10, 10), (290, 15), (280, 190), (20, 185), (150, 100), (80, 50), (220, 150)]
    half_mask = [(5, 5), (295, 5), (295, 195), (5, 195)]
    anno = {
        "@context": ["http://iiif.io/api/extension/georef/1/context.json",
                     "http://iiif.io/api/presentation/3/context.json"],
        "id": "https://example.org/georef/sheet", "type": "Annotation",
        "motivation": "georeferencing",
        "target": {"type": "SpecificResource",
                   "source": {"id": "https://example.org/canvas/sheet", "type": "Canvas",
                              "width": 300, "height": 200},
                   "selector": {"type": "SvgSelector",
                                "value": '<svg width="300" height="200"><polygon points="' +
                                         " ".join(f"{x},{y}" for x, y in half_mask) +
                                         '" /></svg>'}},
        "body": {"type": "FeatureCollection",
                 "transformation": {"type": "polynomial", "options": {"order": 2}},
                 "features": [{"type": "Feature", "properties": {"resourceCoords": [x, y]},
                               "geometry": {"type": "Point",
                                            "coordinates": list(bent_lonlat(2 * x, 2 * y))}}
                              for x, y in pts]}}
    with open(os.path.join(folder, "sheet.georef.json"), "w") as f:
        json.dump(anno, f)
    expected["sheet.png"] = {"gcps": [(2 * x, 2 * y, *bent_lonlat(2 * x, 2 * y)) for x, y in pts],
                             "transformation": ("polynomial", 2),
                             "mask": [(2 * x, 2 * y) for x, y in half_mask]}
    # GeoTIFFs
    wgs84 = ["GTModelTypeGeoKey (Short,1): ModelTypeGeographic",
             "GeographicTypeGeoKey (Short,1): GCS_WGS_84"]
    tie_tags = ["ModelTiepointTag (2,3):", " 0 0 0", f" {TIE[0]!r} {TIE[1]!r} 0",
                "ModelPixelScaleTag (1,3):", f" {SCALE[0]!r} {SCALE[1]!r} 0"]
    corners = [(0, 0), (W, 0), (0, H), (W, H)]
    geotiff(folder, "geo", tie_tags, wgs84 + ["GTRasterTypeGeoKey (Short,1): RasterPixelIsArea"])
    expected["geo.tif"] = {"gcps": [(x, y, TIE[0] + x * SCALE[0], TIE[1] - y * SCALE[1])
                                    for x, y in corners],
                           "transformation": ("polynomial", 1), "mask": None}
    geotiff(folder, "point", tie_tags, wgs84 + ["GTRasterTypeGeoKey (Short,1): RasterPixelIsPoint"])
    # PixelIsPoint: raster (0, 0) is the centre of the first pixel, resource (0.5, 0.5)
    expected["point.tif"] = {"gcps": [(x, y, TIE[0] + (x - 0.5) * SCALE[0],
                                       TIE[1] - (y - 0.5) * SCALE[1]) for x, y in corners],
                             "transformation": ("polynomial", 1), "mask": None}
    a, b, c, d, e, f_ = MATRIX
    geotiff(folder, "matrix", ["ModelTransformationTag (4,4):", f" {a!r} {b!r} 0 {c!r}",
                               f" {d!r} {e!r} 0 {f_!r}", " 0 0 0 0", " 0 0 0 1"], wgs84)
    expected["matrix.tif"] = {"gcps": [(x, y, a * x + b * y + c, d * x + e * y + f_)
                                       for x, y in corners],
                              "transformation": ("polynomial", 1), "mask": None}
    ties = ["ModelTiepointTag (8,3):"] + [row for x, y, lon, lat in TIES
                                          for row in (f" {x} {y} 0", f" {lon!r} {lat!r} 0")]
    geotiff(folder, "ties", ties, wgs84)
    expected["ties.tif"] = {"gcps": list(TIES), "transformation": ("polynomial", 1),
                            "mask": None}
    # the generated map with a known projection: UTM zone 31N, 10 m pixels
    geotiff(folder, "utm", ["ModelTiepointTag (2,3):", " 0 0 0", f" {UTM_TIE[0]!r} {UTM_TIE[1]!r} 0",
                            "ModelPixelScaleTag (1,3):", f" {UTM_SCALE!r} {UTM_SCALE!r} 0"],
            ["GTModelTypeGeoKey (Short,1): ModelTypeProjected",
             "GTRasterTypeGeoKey (Short,1): RasterPixelIsArea",
             "ProjectedCSTypeGeoKey (Short,1): Code-32631"])
    grid = [(W * c / 4, H * r / 4) for r in range(5) for c in range(5)]
    ll = cs2cs_utm31([(UTM_TIE[0] + x * UTM_SCALE, UTM_TIE[1] - y * UTM_SCALE) for x, y in grid])
    expected["utm.tif"] = {"gcps": [(x, y, lon, lat) for (x, y), (lon, lat) in zip(grid, ll)],
                           "transformation": ("thinPlateSpline", None), "mask": None}
    image(os.path.join(folder, "blank.png"))  # not georeferenced
    return expected


# --- the transformations, computed here independently of iiifd ---------------------------------
def _monomials(x, y, order):
    terms = [np.ones_like(x), x, y]
    if order >= 2:
        terms += [x * x, x * y, y * y]
    if order >= 3:
        terms += [x ** 3, x * x * y, x * y * y, y ** 3]
    return np.stack(terms, axis=-1)


def fit(gcps, kind, order):
    """A function (x, y arrays) -> (lon, lat arrays) fitted to gcps as the georef extension
    describes: least-squares polynomial, or thin plate spline with kernel r^2 log r."""
    g = np.array(gcps, dtype=float)
    px, ll = g[:, :2], g[:, 2:]
    if kind == "polynomial":
        coef, *_ = np.linalg.lstsq(_monomials(px[:, 0], px[:, 1], order), ll, rcond=None)
        return lambda x, y: _monomials(np.asarray(x, float), np.asarray(y, float), order) @ coef

    def kernel(d2):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d2 > 0, 0.5 * d2 * np.log(d2), 0.0)
    n = len(g)
    d2 = ((px[:, None, :] - px[None, :, :]) ** 2).sum(-1)
    p = np.hstack([np.ones((n, 1)), px])
    a = np.zeros((n + 3, n + 3))
    a[:n, :n], a[:n, n:], a[n:, :n] = kernel(d2), p, p.T
    sol = np.linalg.solve(a, np.vstack([ll, np.zeros((3, 2))]))

    def apply(x, y):
        q = np.stack([np.asarray(x, float), np.asarray(y, float)], -1)
        k = kernel(((q[:, None, :] - px[None, :, :]) ** 2).sum(-1))
        return k @ sol[:n] + np.hstack([np.ones((len(q), 1)), q]) @ sol[n:]
    return apply


def footprint_ring(mask, straight):
    """The Canvas points of the footprint (mask or border), edges cut in FOOTPRINT_STEPS."""
    ring = mask or [(0, 0), (W, 0), (W, H), (0, H)]
    steps = 1 if straight else FOOTPRINT_STEPS
    out = []
    for i, (ax, ay) in enumerate(ring):
        bx, by = ring[(i + 1) % len(ring)]
        out += [(ax + (bx - ax) * s / steps, ay + (by - ay) * s / steps) for s in range(steps)]
    return out
