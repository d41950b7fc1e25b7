"""Fixtures of machine-learning output for test_ml_*.py (docs/ml.md), written by the tests:

  ROOT/
    htr/       page1.png (1000x1500) + page1.xml: PAGE XML (imageWidth 2000: coordinates / 2),
               two regions whose ReadingOrder is the reverse of the file order, lines, words
    det/       a.jpg (800x600), b.jpg (640x480)
               coco.json   COCO: a polygon on a.jpg ("okapi", 0.9), an RLE mask on b.jpg
                           ("lynx", 0.4), images declared at half size (coordinates x 2)
               a.txt       YOLO: one box "heron" (0.8) + classes.txt
               ls.json     Label Studio: a prediction "ibis" (0.3, model_version "ls-model 2")
                           on b.jpg, uploaded as "1a2b3c4d-b.jpg"
    av/        talk.mp3 (10 s) + talk.json (a Whisper transcript with word timings)
               + talk.csv (speaker turns: start,end,speaker)

  BROKEN/      one malformed file of each new format, each with a unique word ("quokka...")
               before the fault, so that "nothing half-imported" can be checked by search

Words that occur once: "wombat" (talk.json, word 1.0-1.5 s), "quokkapage" (page1.xml line 2).
Nothing here is a test.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from annotation_fixtures import make_mp3, page_png, write  # noqa: E402

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


def page_xml(regions, order, w=2000, h=3000, creator="Kraken 4.3"):
    """regions: [(id, points, [(line points, text, [(word points, word)])])]."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<PcGts xmlns="{PAGE_NS}">',
           f"<Metadata><Creator>{creator}</Creator></Metadata>",
           f'<Page imageFilename="page1.png" imageWidth="{w}" imageHeight="{h}">',
           '<ReadingOrder><OrderedGroup id="ro">']
    out += [f'<RegionRefIndexed index="{i}" regionRef="{rid}"/>' for i, rid in enumerate(order)]
    out.append("</OrderedGroup></ReadingOrder>")
    for rid, pts, lines in regions:
        out.append(f'<TextRegion id="{rid}"><Coords points="{pts}"/>')
        for lpts, text, words in lines:
            out.append(f'<TextLine><Coords points="{lpts}"/>')
            for wpts, word in words:
                out.append(f'<Word><Coords points="{wpts}"/><TextEquiv conf="0.9">'
                           f"<Unicode>{word}</Unicode></TextEquiv></Word>")
            out.append(f"<TextEquiv><Unicode>{text}</Unicode></TextEquiv></TextLine>")
        out.append("</TextRegion>")
    out.append("</Page></PcGts>\n")
    return "\n".join(out)


PAGE_REGIONS = [
    ("r-second", "100,2000 1900,2000 1900,2400 100,2400",
     [("100,2000 1900,2000 1900,2200 100,2200", "closing words", [])]),
    ("r-first", "100,100 1900,100 1900,700 100,700",
     [("100,100 1900,100 1900,300 100,300", "opening line", []),
      ("100,400 1000,400 1000,600 100,600", "quokkapage here",
       [("100,400 600,400 600,600 100,600", "quokkapage"),
        ("700,400 1000,400 1000,600", "here")])]),
]

# COCO images declared at half their size: coordinates double on the Canvas
COCO = {
    "info": {"description": "Mask R-CNN R50"},
    "images": [{"id": 1, "file_name": "a.jpg", "width": 400, "height": 300},
               {"id": 2, "file_name": "b.jpg", "width": 320, "height": 240}],
    "categories": [{"id": 1, "name": "okapi"}, {"id": 2, "name": "lynx"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "score": 0.9,
         "segmentation": [[10, 10, 110, 10, 110, 60, 10, 60]]},
        # 4x3 mask (column-major runs): pixels (1,0) (1,1) and (3,1) (3,2)
        {"id": 2, "image_id": 2, "category_id": 2, "score": 0.4,
         "segmentation": {"size": [3, 4], "counts": [3, 2, 5, 2]}},
    ],
}

LABEL_STUDIO = [{
    "id": 7, "data": {"image": "/data/upload/3/1a2b3c4d-b.jpg"},
    "annotations": [],
    "predictions": [{"model_version": "ls-model 2", "score": 0.3, "result": [
        {"type": "rectanglelabels", "original_width": 640, "original_height": 480,
         "value": {"x": 25, "y": 50, "width": 50, "height": 25, "rotation": 0,
                   "rectanglelabels": ["ibis"]}}]}],
}]

WHISPER = {
    "text": " The wombat sleeps. Goodbye now.", "language": "en",
    "segments": [
        {"id": 0, "start": 0.5, "end": 3.0, "text": " The wombat sleeps.", "words": [
            {"word": " The", "start": 0.5, "end": 0.9, "probability": 0.99},
            {"word": " wombat", "start": 1.0, "end": 1.5, "probability": 0.92},
            {"word": " sleeps.", "start": 1.6, "end": 2.8, "probability": 0.95}]},
        {"id": 1, "start": 4.0, "end": 6.0, "text": " Goodbye now."},
    ],
}

SPEAKERS = "start,end,speaker\n0,3.5,SPEAKER_00\n00:00:03.5,00:00:07,SPEAKER_01\n"

EXPECTED_COUNTS = {
    # 2 regions + 3 lines + 2 words
    "htr/page1.xml": 7,
    "det/coco.json": 2, "det/a.txt": 1, "det/ls.json": 1,
    # 2 segments + 3 words; 2 turns
    "av/talk.json": 5, "av/talk.csv": 2,
}


def make_ml_tree(base):
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "htr"))
    page_png(os.path.join(root, "htr", "page1.png"), (240, 240, 230))
    write(os.path.join(root, "htr", "page1.xml"),
          page_xml(PAGE_REGIONS, ["r-first", "r-second"]))
    det = os.path.join(root, "det")
    os.makedirs(det)
    page_png(os.path.join(det, "a.jpg"), (200, 60, 60), (800, 600))
    page_png(os.path.join(det, "b.jpg"), (60, 60, 200), (640, 480))
    write(os.path.join(det, "coco.json"), json.dumps(COCO, indent=1))
    write(os.path.join(det, "classes.txt"), "heron\negret\n")
    write(os.path.join(det, "a.txt"), "0 0.5 0.5 0.25 0.5 0.8\n")
    write(os.path.join(det, "ls.json"), json.dumps(LABEL_STUDIO))
    av = os.path.join(root, "av")
    os.makedirs(av)
    make_mp3(os.path.join(av, "talk.mp3"))
    write(os.path.join(av, "talk.json"), json.dumps(WHISPER))
    write(os.path.join(av, "talk.csv"), SPEAKERS)
    return root


# (folder, file, text, expected message fragment): each names the file and the line or JSON
# path; the "quokka..." word before the fault must never be stored
BROKEN = [
    ("page", "page1.xml",
     page_xml([("r", "10,10 500,10 500,500", [("10,10 500,10 500,100", "quokkaone", []),
                                                ("10,200 x,200 500,300", "two", [])])], ["r"]),
     "page/page1.xml:11: Coords: point 'x,200' is not x,y"),
    ("coco", "coco.json", json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 800, "height": 600}],
        "categories": [{"id": 1, "name": "quokkatwo"}],
        "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]},
                        {"image_id": 1, "category_id": 1, "segmentation": [[1, 2, 3]]}]}),
     "coco/coco.json: annotations[1].segmentation: a polygon with an odd number of coordinates"),
    ("yolo", "a.txt", "0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1 0.1\n5 0.5 0.5 0.1 0.1\n",
     "yolo/a.txt:3: class 5 is not in the class list (1 classes)"),
    ("ls", "ls.json", json.dumps([{"data": {"image": "a.jpg"}, "annotations": [{"result": [
        {"type": "choices", "value": {"choices": ["quokkathree"]}},
        {"type": "rectanglelabels", "value": {"x": 1, "y": 1, "width": 2,
                                              "rectanglelabels": ["x"]}}]}]}]),
     "ls/ls.json: [0].annotations[0].result[1].value.height: missing"),
    ("whisper", "talk.json", json.dumps({"segments": [
        {"start": 0, "end": 1, "text": "quokkafour"},
        {"start": 2, "end": 1, "text": "late"}]}),
     "whisper/talk.json: segments[1]: end 1 is before start 2"),
    ("turns", "talk.csv", "start,end,label\n0,1,quokkafive\n1,zz,b\n",
     "turns/talk.csv:3: end: 'zz' is not a time"),
]


def make_broken_ml_tree(base):
    root = os.path.join(base, "broken")
    for folder, name, text, _msg in BROKEN:
        d = os.path.join(root, folder)
        os.makedirs(d)
        if name.endswith(".txt") or name in ("page1.xml", "coco.json", "ls.json"):
            page_png(os.path.join(d, "a.jpg" if name != "page1.xml" else "page1.png"),
                     (90, 90, 90), (800, 600))
        if name.startswith("talk"):
            make_mp3(os.path.join(d, "talk.mp3"), seconds=2)
        if name.endswith(".txt"):
            write(os.path.join(d, "classes.txt"), "heron\n")
        write(os.path.join(d, name), text)
    return root
