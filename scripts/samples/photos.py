#!/usr/bin/python3
"""photos.py OUTDIR: three painted "photos" of a harbour with machine and human annotations
(scripts/make-samples calls it; docs/samples.md describes the result).

  1-morning.jpg, 2-noon.jpg, 3-dusk.jpg
                                    1200x800 JPEG: sky, sea, a lighthouse, boats, gulls, houses
  detections.json                   COCO detections, as a detector would write them: one box per
                                    object drawn (the box is where it was drawn), a category, a
                                    score, and info.description naming the "model"
  tags.csv                          file,x,y,w,h,label,score: whole-image tags (empty box) and a
                                    few boxes a person would draw, without a score

Every box is the bounding box of what was painted, so the annotations sit on the objects.
"""

import csv
import json
import os
import random
import sys

from PIL import Image, ImageDraw

W, H = 1200, 800
HORIZON = 470
LIGHTHOUSE_X = 1080  # its rock spans x 990..1170, y 510..540

# name -> (sky top, sky bottom, sea, sun or None: (x, y, r, colour))
SCENES = {
    "1-morning.jpg": ((120, 170, 230), (250, 215, 170), (60, 110, 150),
                      (260, 380, 50, (255, 235, 170))),
    "2-noon.jpg": ((70, 140, 235), (170, 210, 245), (40, 100, 160),
                   (900, 120, 45, (255, 250, 220))),
    "3-dusk.jpg": ((40, 40, 100), (235, 120, 70), (50, 60, 100),
                   (700, 440, 70, (250, 150, 60))),
}
CATEGORIES = ["lighthouse", "boat", "gull", "house", "sun"]
TAGS = {  # whole-image tags, in the CSV
    "1-morning.jpg": ["harbour", "morning", "calm sea"],
    "2-noon.jpg": ["harbour", "noon", "fishing fleet"],
    "3-dusk.jpg": ["harbour", "dusk", "evening light"],
}


def gradient(top, bottom, h):
    col = Image.new("RGB", (1, h))
    col.putdata([tuple(round(a + (b - a) * y / max(1, h - 1)) for a, b in zip(top, bottom))
                 for y in range(h)])
    return col.resize((W, h))


def box_of(points):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def lighthouse(d, x, lit):
    base, top = HORIZON + 40, HORIZON - 260
    d.polygon([(x - 30, top - 70), (x + 30, top - 70), (x, top - 110)], fill=(150, 40, 40))
    d.rectangle([x - 26, top - 70, x + 26, top], fill=(255, 240, 150) if lit else (200, 220, 230))
    d.polygon([(x - 45, base), (x + 45, base), (x + 28, top), (x - 28, top)], fill=(240, 240, 235))
    for k in range(3):  # red bands
        y0 = top + 40 + 70 * k
        hw = 28 + 17 * (y0 - top) / (base - top)
        d.rectangle([x - hw, y0, x + hw, y0 + 30], fill=(190, 45, 45))
    d.rectangle([x - 90, base, x + 90, base + 30], fill=(90, 85, 80))  # the rock
    return [x - 90, top - 110, 180, base + 30 - (top - 110)]


def boat(d, x, y, s, colour):
    hull = [(x, y), (x + 160 * s, y), (x + 130 * s, y + 40 * s), (x + 30 * s, y + 40 * s)]
    d.polygon(hull, fill=colour)
    mast = x + 80 * s
    d.line([(mast, y), (mast, y - 150 * s)], fill=(60, 50, 40), width=max(2, round(4 * s)))
    sail = [(mast + 5 * s, y - 145 * s), (mast + 5 * s, y - 10 * s), (mast + 75 * s, y - 10 * s)]
    d.polygon(sail, fill=(245, 240, 225))
    return [round(v) for v in box_of(hull + sail + [(mast, y - 150 * s)])]


def gull(d, x, y, s):
    pts = [(x, y), (x + 20 * s, y - 12 * s), (x + 40 * s, y), (x + 60 * s, y - 12 * s),
           (x + 80 * s, y)]
    d.line(pts, fill=(40, 40, 45), width=max(2, round(3 * s)), joint="curve")
    return [round(v) for v in box_of(pts)]


def house(d, x, w, colour):
    y = HORIZON + 30
    d.rectangle([x, y - 110, x + w, y], fill=colour)
    d.polygon([(x - 10, y - 110), (x + w + 10, y - 110), (x + w / 2, y - 170)], fill=(110, 60, 50))
    d.rectangle([x + w / 2 - 15, y - 55, x + w / 2 + 15, y], fill=(70, 50, 40))
    return [x - 10, y - 170, w + 20, 170]


def scene(name, rnd):
    sky_top, sky_bottom, sea, sun = SCENES[name]
    img = Image.new("RGB", (W, H))
    img.paste(gradient(sky_top, sky_bottom, HORIZON), (0, 0))
    img.paste(gradient(sea, tuple(v // 2 for v in sea), H - HORIZON), (0, HORIZON))
    d = ImageDraw.Draw(img)
    objs = []
    if sun:
        x, y, r, c = sun
        d.ellipse([x - r, y - r, x + r, y + r], fill=c)
        objs.append(("sun", [x - r, y - r, 2 * r, min(2 * r, HORIZON - (y - r))]))
    for _ in range(60):  # ripples
        x, y = rnd.randint(0, W), rnd.randint(HORIZON + 10, H)
        d.line([(x, y), (x + rnd.randint(20, 80), y)], fill=tuple(min(255, v + 35) for v in sea))
    objs.append(("house", house(d, 60, 140, (230, 220, 190))))
    objs.append(("house", house(d, 230, 110, (200, 210, 225))))
    objs.append(("lighthouse", lighthouse(d, LIGHTHOUSE_X, name == "3-dusk.jpg")))
    for i in range({"2-noon.jpg": 3}.get(name, 2)):
        s = rnd.uniform(0.6, 1.0)  # boats stay left of x 980, clear of the lighthouse rock
        x, y = 400 + 200 * i + rnd.randint(-20, 20), HORIZON + 80 + rnd.randint(0, 180)
        objs.append(("boat", boat(d, x, y, s, rnd.choice([(150, 40, 40), (40, 70, 120),
                                                          (60, 110, 60)]))))
    for _ in range(rnd.randint(2, 4)):
        objs.append(("gull", gull(d, rnd.randint(350, 900), rnd.randint(80, 300),
                                  rnd.uniform(0.6, 1.0))))
    return img, objs


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: photos.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rnd = random.Random(42)
    coco = {"info": {"description": "toy-harbour-detector", "version": "1.0",
                     "contributor": "iiifd make-samples"},
            "images": [], "annotations": [],
            "categories": [{"id": i + 1, "name": c} for i, c in enumerate(CATEGORIES)]}
    rows = [["file", "x", "y", "w", "h", "label", "score"]]
    for image_id, name in enumerate(SCENES, 1):
        img, objs = scene(name, rnd)
        img.save(os.path.join(outdir, name), quality=90)
        coco["images"].append({"id": image_id, "file_name": name, "width": W, "height": H})
        for cat, box in objs:
            coco["annotations"].append({
                "id": len(coco["annotations"]) + 1, "image_id": image_id,
                "category_id": CATEGORIES.index(cat) + 1, "bbox": [round(v) for v in box],
                "area": round(box[2] * box[3]), "iscrowd": 0,
                "score": round(rnd.uniform(0.62, 0.99), 2)})
        rows += [[name, "", "", "", "", tag, ""] for tag in TAGS[name]]
    # a person's notes with boxes (no score): the lighthouse rock and the houses on the quay
    rows.append(["3-dusk.jpg", LIGHTHOUSE_X - 90, HORIZON + 40, 180, 30, "Skerry rock", ""])
    rows.append(["1-morning.jpg", 50, 330, 310, 170, "harbour master's cottages", ""])
    with open(os.path.join(outdir, "detections.json"), "w") as f:
        json.dump(coco, f, indent=1)
        f.write("\n")
    with open(os.path.join(outdir, "tags.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


if __name__ == "__main__":
    main()
