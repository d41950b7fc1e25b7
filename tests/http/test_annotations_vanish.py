"""An annotation file deleted from the tree takes its annotations with it (auto-import)."""

import json

import fixtures as fx
from PIL import Image

ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout><Page WIDTH="400" HEIGHT="300">
<PrintSpace><TextBlock><TextLine HPOS="10" VPOS="10" WIDTH="200" HEIGHT="20">
<String CONTENT="quetzalcoatl" HPOS="10" VPOS="10" WIDTH="120" HEIGHT="20"/>
</TextLine></TextBlock></PrintSpace></Page></Layout></alto>
"""


def total(server, word):
    r = server.get(f"/iiif/presentation/book/manifest/search?q={word}")
    assert r.status == 200, r.body
    return json.loads(r.body)["partOf"]["total"]


def test_deleted_source_takes_its_annotations(server_factory, tmp_path):
    book = tmp_path / "root" / "book"
    book.mkdir(parents=True)
    Image.new("RGB", (400, 300), (200, 200, 200)).save(book / "page1.png")
    (book / "page1.xml").write_text(ALTO)
    s = server_factory(args=("--auto-import", "true"), root_dir=str(tmp_path / "root"))
    assert s.get("/iiif/presentation/book/manifest").status == 200
    fx.wait_for(lambda: total(s, "quetzalcoatl") == 1, "the import")
    (book / "page1.xml").unlink()
    assert s.get("/iiif/presentation/book/manifest").status == 200
    fx.wait_for(lambda: total(s, "quetzalcoatl") == 0, "the annotations to go")
    canvas = json.loads(s.get("/iiif/presentation/book/manifest/canvas/1").body)
    assert "annotations" not in canvas, canvas.get("annotations")
