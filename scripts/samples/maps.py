"""Paints the sample maps (scripts/make-samples; docs/maps.md) into DIR:

1-bay-chart.png (+ .points, .mask)  a 1600x1200 chart of an imaginary bay with a graticule;
    its GCPs, in the QGIS georeferencer's .points format (pixel y negative, WGS84 #CRS line),
    are the graticule crossings, and the neat line is its mask.
survey-sheet.plain.tif, survey-sheet.geo  a 1200x900 survey sheet with a 1 km grid, and the
    GeoTIFF tags (UTM zone 31N, 10 m pixels) that make-samples writes into it with geotifcp.

Usage: maps.py DIR"""

import math
import os
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
W, H, MARGIN = 1600, 1200, 80
LON0, LON1, LAT0, LAT1 = 4.10, 4.40, 52.20, 52.00  # neat line: west, east, north, south
WGS84 = ('GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,'
         '298.257223563]],CS[ellipsoidal,2],AXIS["latitude",north],AXIS["longitude",east],'
         'ID["EPSG",4326]]')
UTM_E, UTM_N, UTM_PIXEL = 580000, 5780000, 10  # top-left corner, metres per pixel


def pixel(lon, lat):
    x = MARGIN + (lon - LON0) / (LON1 - LON0) * (W - 2 * MARGIN)
    y = MARGIN + (lat - LAT0) / (LAT1 - LAT0) * (H - 2 * MARGIN)
    return x, y


def chart(out):
    img = Image.new("RGB", (W, H), (244, 236, 214))
    d = ImageDraw.Draw(img)
    font, small = ImageFont.truetype(FONT, 44), ImageFont.truetype(FONT, 20)
    d.rectangle([MARGIN, MARGIN, W - MARGIN, H - MARGIN], fill=(198, 222, 235))
    coast = [pixel(LON0 + (LON1 - LON0) * t / 60,
                   52.12 + 0.04 * math.sin(t / 60 * 3 * math.pi) - 0.05 * (t / 60))
             for t in range(61)]
    d.polygon(coast + [pixel(LON1, LAT0), pixel(LON0, LAT0)], fill=(226, 214, 170),
              outline=(90, 70, 40))
    d.ellipse([*pixel(4.30, 52.06), *pixel(4.33, 52.045)], fill=(226, 214, 170),
              outline=(90, 70, 40))
    d.text(pixel(4.18, 52.17), "SKERRY", font=font, fill=(90, 70, 40))
    d.text(pixel(4.20, 52.07), "Skerry Bay", font=font, fill=(40, 70, 110))
    gcps = []
    for lon in (4.15, 4.25, 4.35):
        d.line([pixel(lon, LAT0), pixel(lon, LAT1)], fill=(120, 120, 120), width=2)
        d.text((pixel(lon, LAT0)[0] - 30, MARGIN - 30), f"{lon:.2f}°E", font=small, fill=0)
    for lat in (52.05, 52.10, 52.15):
        d.line([pixel(LON0, lat), pixel(LON1, lat)], fill=(120, 120, 120), width=2)
        d.text((8, pixel(LON0, lat)[1] - 12), f"{lat:.2f}°N", font=small, fill=0)
        gcps += [(lon, lat, *pixel(lon, lat)) for lon in (4.15, 4.25, 4.35)]
    d.rectangle([MARGIN, MARGIN, W - MARGIN, H - MARGIN], outline=0, width=4)
    img.save(os.path.join(out, "1-bay-chart.png"))
    with open(os.path.join(out, "1-bay-chart.points"), "w") as f:
        f.write(f"#CRS: {WGS84}\nmapX,mapY,sourceX,sourceY,enable,dX,dY,residual\n")
        for lon, lat, x, y in gcps:
            f.write(f"{lon:.6f},{lat:.6f},{x:.2f},{-y:.2f},1,0,0,0\n")
    with open(os.path.join(out, "1-bay-chart.mask"), "w") as f:
        f.write(f"{MARGIN},{MARGIN} {W - MARGIN},{MARGIN} {W - MARGIN},{H - MARGIN} "
                f"{MARGIN},{H - MARGIN}\n")


def survey(out):
    w, h = 1200, 900
    img = Image.new("RGB", (w, h), (250, 250, 244))
    d = ImageDraw.Draw(img)
    small = ImageFont.truetype(FONT, 18)
    for k in range(0, w + 1, 100):
        d.line([(k, 0), (k, h)], fill=(150, 170, 150), width=1)
        d.text((k + 4, 4), f"{(UTM_E + k * UTM_PIXEL) // 1000} km E", font=small, fill=0)
    for k in range(0, h + 1, 100):
        d.line([(0, k), (w, k)], fill=(150, 170, 150), width=1)
        d.text((4, k + 4), f"{(UTM_N - k * UTM_PIXEL) // 1000} km N", font=small, fill=0)
    d.line([(150, 820), (420, 600), (700, 640), (1100, 300)], fill=(40, 90, 160), width=8)
    d.text((480, 420), "UTM zone 31N, 10 m pixels", font=ImageFont.truetype(FONT, 34), fill=0)
    img.save(os.path.join(out, "survey-sheet.plain.tif"))
    with open(os.path.join(out, "survey-sheet.geo"), "w") as f:
        f.write("Geotiff_Information:\n Version: 1\n Key_Revision: 1.0\n Tagged_Information:\n"
                f"  ModelTiepointTag (2,3):\n   0 0 0\n   {UTM_E} {UTM_N} 0\n"
                f"  ModelPixelScaleTag (1,3):\n   {UTM_PIXEL} {UTM_PIXEL} 0\n  End_Of_Tags.\n"
                " Keyed_Information:\n  GTModelTypeGeoKey (Short,1): ModelTypeProjected\n"
                "  GTRasterTypeGeoKey (Short,1): RasterPixelIsArea\n"
                "  ProjectedCSTypeGeoKey (Short,1): Code-32631\n  End_Of_Keys.\n"
                " End_Of_Geotiff.\n")


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    chart(sys.argv[1])
    survey(sys.argv[1])
