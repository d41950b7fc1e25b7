#!/usr/bin/python3
"""make_fixtures.py ROOT: the small library the browser tests serve (run with Debian's python3).

  ROOT/book/page{1,2,3}.jpg + .xml   a three-page book; each page's words are drawn into its image
                                     and listed in its ALTO file with the box they were drawn in.
                                     Page 2 alone has the word "zeppelin" (the search test).
  ROOT/dense/page.jpg + page.xml     one page whose ALTO has DENSE_LINES (1,200) lines of one word.
  ROOT/video/clip.webm + clip.vtt    a 6 s VP8/Vorbis test pattern with three WebVTT cues.
  ROOT/hostile/page.jpg + manifest.yml  a sidecar whose summary, metadata and requiredStatement
                                     hold script elements, event attributes and javascript: links.

Prints a JSON summary (what the tests look for) on stdout. Skips work already done (a file
ROOT/.complete holds the summary).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

from PIL import Image, ImageDraw, ImageFont

DENSE_LINES = 1200
BOOK = [
    ["The first page", "of a small book", "printed for tests"],
    ["A zeppelin over", "the harbour at", "dawn on page two"],
    ["The third page", "ends the book", "with a short line"],
]
CUES = [("00:00.000", "00:02.000", "Hello from the caption track"),
        ("00:02.000", "00:04.000", "A second caption line"),
        ("00:04.000", "00:06.000", "The last caption")]
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"]


def font(size):
    for f in FONTS:
        if os.path.exists(f):
            return ImageFont.truetype(f, size)
    sys.exit("make_fixtures: no TrueType font found (install fonts-dejavu-core)")


def alto(width, height, lines):
    """lines: [[(word, x, y, w, h), ...], ...] in image pixels."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">',
           '<Layout><Page ID="p1" WIDTH="%d" HEIGHT="%d" PHYSICAL_IMG_NR="1">' % (width, height),
           '<PrintSpace><TextBlock ID="b1">']
    for i, words in enumerate(lines):
        x0 = min(w[1] for w in words)
        y0 = min(w[2] for w in words)
        x1 = max(w[1] + w[3] for w in words)
        y1 = max(w[2] + w[4] for w in words)
        out.append('<TextLine ID="l%d" HPOS="%d" VPOS="%d" WIDTH="%d" HEIGHT="%d">'
                   % (i + 1, x0, y0, x1 - x0, y1 - y0))
        for j, (word, x, y, w, h) in enumerate(words):
            if j:
                out.append('<SP/>')
            out.append('<String CONTENT="%s" HPOS="%d" VPOS="%d" WIDTH="%d" HEIGHT="%d"/>'
                       % (word, x, y, w, h))
        out.append('</TextLine>')
    out.append('</TextBlock></PrintSpace></Page></Layout></alto>')
    return "\n".join(out) + "\n"


def book_page(path_jpg, path_xml, lines):
    width, height = 1600, 2200
    img = Image.new("RGB", (width, height), (250, 246, 236))
    draw = ImageDraw.Draw(img)
    f = font(72)
    boxes = []
    y = 200
    for text in lines:
        x = 160
        words = []
        for word in text.split():
            l, t, r, b = draw.textbbox((x, y), word, font=f)
            draw.text((x, y), word, font=f, fill=(20, 20, 20))
            words.append((word, l, t, r - l, b - t))
            x = r + 36
        boxes.append(words)
        y += 160
    img.save(path_jpg, quality=88)
    with open(path_xml, "w", encoding="utf-8") as fh:
        fh.write(alto(width, height, boxes))


def dense_page(path_jpg, path_xml):
    width, height = 1200, DENSE_LINES * 10 + 100
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    f = font(8)
    lines = []
    for i in range(DENSE_LINES):
        word = "line%04d" % (i + 1)
        y = 50 + i * 10
        draw.text((60, y), word, font=f, fill=(0, 0, 0))
        lines.append([(word, 60, y, 60, 9)])
    img.save(path_jpg, quality=80)
    with open(path_xml, "w", encoding="utf-8") as fh:
        fh.write(alto(width, height, lines))


def video(folder):
    clip = os.path.join(folder, "clip.webm")
    if not os.path.exists(clip):
        tmp = clip + ".part.webm"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=6",
                        "-f", "lavfi", "-i", "sine=frequency=440:duration=6",
                        "-c:v", "libvpx", "-b:v", "300k", "-c:a", "libvorbis", "-shortest", tmp],
                       check=True)
        os.rename(tmp, clip)
    with open(os.path.join(folder, "clip.vtt"), "w", encoding="utf-8") as fh:
        fh.write("WEBVTT\n\n")
        for start, end, text in CUES:
            fh.write("%s --> %s\n%s\n\n" % (start, end, text))


# Each payload, if it ever ran, would set the page's title to PWNED (the test looks for that).
HOSTILE_YML = """label: {en: [Hostile sidecar]}
summary:
  en:
    - |-
      <p>Safe <b>bold</b> text<script>document.title="PWNED"</script><img src="x" onerror="document.title='PWNED'" alt="x"><a href="javascript:document.title='PWNED'">click</a></p>
metadata:
  - label: {en: [Link]}
    value:
      en:
        - |-
          <a href="jAvAsCrIpT&#58;document.title=&quot;PWNED&quot;" onclick="document.title=1">x</a>
  - label:
      en:
        - |-
          <svg onload="document.title='PWNED'"></svg>
    value:
      en:
        - |-
          <span onmouseover="document.title='PWNED'">hover</span><iframe src="javascript:parent.document.title=1"></iframe>
requiredStatement:
  label: {en: [Attribution]}
  value:
    en:
      - |-
        <p><a href="https://example.org/ok">fine</a><style>body{display:none}</style></p>
"""


def hostile(folder):
    Image.new("RGB", (400, 300), (220, 220, 210)).save(os.path.join(folder, "page.jpg"))
    with open(os.path.join(folder, "manifest.yml"), "w", encoding="utf-8") as fh:
        fh.write(HOSTILE_YML)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixtures.py ROOT")
    root = sys.argv[1]
    done = os.path.join(root, ".complete")
    with open(os.path.abspath(__file__), "rb") as fh:
        # a library made by another version of this script is made again
        version = hashlib.sha256(fh.read()).hexdigest()[:16]
    if os.path.exists(done):
        saved = json.load(open(done))
        if saved.get("version") == version:
            print(json.dumps(saved))
            return
        shutil.rmtree(root)
    for d in ("book", "dense", "video", "hostile"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for n, lines in enumerate(BOOK, 1):
        book_page(os.path.join(root, "book", "page%d.jpg" % n),
                  os.path.join(root, "book", "page%d.xml" % n), lines)
    dense_page(os.path.join(root, "dense", "page.jpg"), os.path.join(root, "dense", "page.xml"))
    video(os.path.join(root, "video"))
    hostile(os.path.join(root, "hostile"))
    summary = json.dumps({
        "book": "book", "pages": len(BOOK), "search_word": "zeppelin", "search_page": 2,
        "dense": "dense", "dense_lines": DENSE_LINES,
        "video": "video", "cues": [c[2] for c in CUES], "hostile": "hostile",
        "version": version,
    })
    with open(done, "w") as fh:
        fh.write(summary)
    print(summary)


if __name__ == "__main__":
    main()
