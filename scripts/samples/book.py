#!/usr/bin/python3
"""book.py OUTDIR: the sample book, "The Keeper's Log of Skerry Light", five page images with an
ALTO file each (scripts/make-samples calls it; docs/samples.md describes the result).

Every word is drawn with PIL at a known position in a DejaVu font, and its ALTO String box is
the box PIL reports for exactly that drawing (ImageDraw.textbbox), so the boxes a viewer shows
sit on the printed words. Lines and blocks are the union of their words' boxes.

Words a search should find (docs/samples.md lists them too):
  "narwhal"   page 2 only (once)
  "lamp"      on pages 2, 3, 4 and 5
Keep these true when the text changes: tests/http/test_samples.py checks them.
"""

import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"  # Debian's fonts-dejavu-core
PAGE_W, PAGE_H = 1240, 1754                    # A4 at 150 dpi
MARGIN_X, TOP = 130, 150
BODY_PX, HEAD_PX, TITLE_PX = 34, 48, 64
LINE_STEP = 56                                 # baseline to baseline, body text
PAPER = (243, 235, 214)
INK = (46, 36, 30)

# (heading, paragraphs). Page 1 is the title page (its heading is the title).
PAGES = [
    ("The Keeper's Log of Skerry Light", [
        "Being the daily record kept by Thomas Arden, principal keeper, from the first of "
        "March to the last of June in the year 1887.",
        "Written at the station on the western skerries, twelve miles beyond the harbour, "
        "and sent ashore with the relief boat at the end of each month.",
    ]),
    ("March", [
        "Third of March. Wind north west, strong, with squalls of hail until noon. Lit the "
        "lamp at six and trimmed the wicks twice in the first watch.",
        "Ninth of March. A calm grey morning. At eight the assistant keeper called me to the "
        "gallery to see a narwhal rising in the channel below the rocks, the long tusk plain "
        "above the water. None of us had seen the like so far south.",
        "Twentieth of March. Painted the iron rails of the gallery.",
        "Twenty fourth of March. Snow showers all day, the first of the spring birds on the "
        "north stack in the afternoon. Mended the door of the oil store, which the last gale "
        "had loosened on its hinges.",
        "Thirty first of March. Wind backing south. Barometer falling fast at midnight; made "
        "all secure outside and brought the boat higher up the landing.",
    ]),
    ("April", [
        "Second of April. Heavy gale from the south west. Spray over the lantern glass all "
        "night; the lamp burned steady and the clockwork was wound every hour.",
        "Eleventh of April. The relief boat could not land for the swell. We are short of "
        "paraffin and of flour but in good health.",
        "Twenty eighth of April. Boat landed at last with stores, letters and a new barometer.",
        "Thirtieth of April. Fine and clear. Hung the washing on the gallery for the first time "
        "this year and aired the bedding. The assistant keeper caught eleven mackerel off the "
        "landing with a hand line.",
    ]),
    ("May", [
        "Sixth of May. Fair and warm. Cleaned the lenses and polished the brass of the lamp "
        "room. Gannets nesting on the north stack in great numbers.",
        "Fourteenth of May. Fog from dawn; sounded the horn at intervals of two minutes for "
        "nine hours. The steamer Marguerite passed safely to the east at noon.",
        "Thirtieth of May. Inspector's visit. He found the station clean and the log in order.",
        "Thirty first of May. Planted potatoes and kale in the walled garden behind the "
        "keepers' houses, where the salt wind does least harm.",
    ]),
    ("June", [
        "Fifth of June. Long light evenings; the lamp is lit after ten and put out before four.",
        "Eighteenth of June. Seals hauled out on the low skerry, forty at the least count.",
        "Twenty first of June. Midsummer. A school of porpoises played about the rocks for an "
        "hour at sunset; the children of the relief crew will hear of it next month.",
        "Thirtieth of June. End of the quarter. Oil used this month, ninety gallons. All well "
        "at the station. This log goes ashore with the relief boat tomorrow.",
    ]),
]


def font(name, px):
    return ImageFont.truetype(os.path.join(FONT_DIR, name), px)


def paper(rnd):
    """A page of slightly uneven paper: a flat colour with faint blotches, cheap to make."""
    img = Image.new("RGB", (PAGE_W, PAGE_H), PAPER)
    small = Image.new("L", (31, 44))
    small.putdata([rnd.randint(0, 18) for _ in range(31 * 44)])
    shade = small.resize((PAGE_W, PAGE_H), Image.BICUBIC)
    dark = Image.new("RGB", (PAGE_W, PAGE_H), (205, 190, 160))
    return Image.composite(dark, img, shade)


def union(boxes):
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


class Page:
    """Draws words and remembers their boxes: blocks -> lines -> [(word, (x0, y0, x1, y1))]."""

    def __init__(self, img):
        self.draw = ImageDraw.Draw(img)
        self.blocks = []

    def line(self, words, f, x, y):
        """Draws words from (x, y) (top of the font's ascender), one space apart."""
        space = self.draw.textlength(" ", font=f)
        out = []
        for w in words:
            self.draw.text((x, y), w, font=f, fill=INK)
            out.append((w, self.draw.textbbox((x, y), w, font=f)))
            x += self.draw.textlength(w, font=f) + space
        return out

    def centred(self, text, f, y):
        width = self.draw.textlength(text, font=f)
        self.blocks.append([self.line(text.split(), f, (PAGE_W - width) / 2, y)])

    def paragraph(self, text, f, y):
        """Wraps text to the margins; returns the y after it."""
        lines, cur = [], []
        limit = PAGE_W - 2 * MARGIN_X
        for w in text.split():
            if cur and self.draw.textlength(" ".join(cur + [w]), font=f) > limit:
                lines.append(cur)
                cur = []
            cur.append(w)
        lines.append(cur)
        block = []
        for words in lines:
            block.append(self.line(words, f, MARGIN_X, y))
            y += LINE_STEP
        self.blocks.append(block)
        return y


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("'", "&apos;"))


def box_attrs(b):
    x0, y0, x1, y1 = (round(v) for v in b)
    return f'HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}"'


def alto(blocks, image_name, n):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">',
           '<Description>',
           '<MeasurementUnit>pixel</MeasurementUnit>',
           f'<sourceImageInformation><fileName>{esc(image_name)}</fileName>'
           '</sourceImageInformation>',
           '<Processing ID="P0"><processingSoftware><softwareName>iiifd make-samples'
           '</softwareName><softwareVersion>2</softwareVersion></processingSoftware>'
           '</Processing>',
           '</Description>',
           '<Layout>',
           f'<Page ID="PAGE{n}" PHYSICAL_IMG_NR="{n}" WIDTH="{PAGE_W}" HEIGHT="{PAGE_H}">',
           f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{PAGE_W}" HEIGHT="{PAGE_H}">']
    for bi, block in enumerate(blocks):
        out.append(f'<TextBlock ID="B{bi}" {box_attrs(union([w[1] for l in block for w in l]))}>')
        for li, line in enumerate(block):
            out.append(f'<TextLine ID="B{bi}L{li}" {box_attrs(union([w[1] for w in line]))}>')
            for wi, (word, b) in enumerate(line):
                if wi:
                    out.append('<SP/>')
                out.append(f'<String ID="B{bi}L{li}W{wi}" CONTENT="{esc(word)}" {box_attrs(b)} '
                           'WC="0.97"/>')
            out.append('</TextLine>')
        out.append('</TextBlock>')
    out += ['</PrintSpace>', '</Page>', '</Layout>', '</alto>']
    return "\n".join(out) + "\n"


def lighthouse(draw, cx, base):
    """A small engraving-like lighthouse for the title page (no text, not in the ALTO)."""
    draw.polygon([(cx - 60, base), (cx + 60, base), (cx + 34, base - 330), (cx - 34, base - 330)],
                 outline=INK, width=4)
    for k in range(1, 4):
        y = base - 82 * k
        hw = 60 - 26 * (82 * k) / 330  # the tower's half width at y
        draw.line([(cx - hw, y), (cx + hw, y)], fill=INK, width=3)
    draw.rectangle([cx - 42, base - 400, cx + 42, base - 330], outline=INK, width=4)
    draw.polygon([(cx - 50, base - 400), (cx + 50, base - 400), (cx, base - 450)], outline=INK,
                 width=4)
    for dx in (-1, 1):  # beams
        draw.line([(cx + dx * 50, base - 370), (cx + dx * 260, base - 420)], fill=INK, width=2)
        draw.line([(cx + dx * 50, base - 360), (cx + dx * 260, base - 320)], fill=INK, width=2)
    draw.line([(cx - 300, base), (cx + 300, base)], fill=INK, width=3)


def make_page(n, heading, paragraphs, outdir, rnd):
    img = paper(rnd)
    page = Page(img)
    body, body_i = font("DejaVuSerif.ttf", BODY_PX), font("DejaVuSerif-Italic.ttf", BODY_PX)
    if n == 1:
        page.centred("The Keeper's Log", font("DejaVuSerif-Bold.ttf", TITLE_PX), TOP + 60)
        page.centred("of Skerry Light", font("DejaVuSerif-Bold.ttf", HEAD_PX), TOP + 160)
        lighthouse(page.draw, PAGE_W // 2, 900)
        y = 1000
        for p in paragraphs:
            y = page.paragraph(p, body_i, y) + LINE_STEP // 2
    else:
        page.centred(heading, font("DejaVuSerif-Bold.ttf", HEAD_PX), TOP)
        y = TOP + 120
        for p in paragraphs:
            y = page.paragraph(p, body, y) + LINE_STEP // 2
    page.centred(str(n), body, PAGE_H - 110)
    name = f"page{n}.jpg"
    img.save(os.path.join(outdir, name), quality=88)
    with open(os.path.join(outdir, f"page{n}.xml"), "w", encoding="utf-8") as f:
        f.write(alto(page.blocks, name, n))
    return [w for b in page.blocks for l in b for w, _ in l]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: book.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rnd = random.Random(1887)
    words = [make_page(i + 1, h, ps, outdir, rnd) for i, (h, ps) in enumerate(PAGES)]
    # the promises of the docstring, checked where they are made
    def pages_with(term):
        return [i + 1 for i, ws in enumerate(words)
                if any(w.strip(".,;").lower() == term for w in ws)]
    assert pages_with("narwhal") == [2], pages_with("narwhal")
    assert pages_with("lamp") == [2, 3, 4, 5], pages_with("lamp")


if __name__ == "__main__":
    main()
