"""Import limits (docs/annotations.md, "Import limits"):
- the background auto-import skips files larger than auto-import-max-mb, with one log line
  naming the file and the cap; `iiifd import` still imports them;
- text that is not valid UTF-8 (CSV, WebVTT, hOCR, ALTO) fails the import of that file with a
  message naming the file and line, and nothing of the file is stored."""

import os
import sqlite3
import subprocess
import sys
import time

import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402

TIMEOUT = 30
MANIFEST = "/iiif/presentation/book/manifest"


def alto(words_per_line, lines, word="lorem"):
    body = []
    for n in range(lines):
        l = n % 45  # lines repeat down the page, all inside it
        ws = "".join(f'<String CONTENT="{word}{k}" HPOS="{10 + k * 20}" VPOS="{10 + l * 20}" '
                     f'WIDTH="18" HEIGHT="15"/>' for k in range(words_per_line))
        body.append(f'<TextLine HPOS="10" VPOS="{10 + l * 20}" WIDTH="900" HEIGHT="15">{ws}'
                    '</TextLine>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout>'
            '<Page WIDTH="1000" HEIGHT="1000"><PrintSpace><TextBlock>\n'
            + "\n".join(body) + '\n</TextBlock></PrintSpace></Page></Layout></alto>\n')


def image(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", (1000, 1000), "white").save(path)


def stored(data, source):
    db = sqlite3.connect(os.path.join(data, "annotations.sqlite"))
    try:
        return db.execute("SELECT count(*) FROM annotations WHERE source = ?",
                          (source,)).fetchone()[0]
    finally:
        db.close()


def cli_import(iiifd_bin, root, data, *paths):
    return subprocess.run([iiifd_bin, "import", "--root", root, "--data-dir", data, *paths],
                          capture_output=True, text=True, timeout=300)


def test_auto_import_skips_files_over_the_cap(iiifd_bin, tmp_path, server_factory):
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    image(os.path.join(root, "book", "page1.png"))
    image(os.path.join(root, "book", "page2.png"))
    big = alto(40, 800, "bigword")
    assert len(big) > 1.2 * (1 << 20)
    with open(os.path.join(root, "book", "page1.xml"), "w") as f:
        f.write(big)
    with open(os.path.join(root, "book", "page2.xml"), "w") as f:
        f.write(alto(5, 3, "smallword"))
    s = server_factory(args=["--data-dir", data, "--auto-import", "true",
                             "--auto-import-max-mb", "1"], root_dir=root)
    t0 = time.monotonic()
    while True:
        assert s.get(MANIFEST).status == 200
        if os.path.exists(os.path.join(data, "annotations.sqlite")) and \
                stored(data, "book/page2.xml") > 0:
            break
        assert time.monotonic() - t0 < TIMEOUT, "the small file was not auto-imported"
        time.sleep(0.2)
    for _ in range(3):  # listing the folder again logs nothing more
        assert s.get(MANIFEST).status == 200
    time.sleep(1.0)
    assert stored(data, "book/page2.xml") == 5 * 3 + 3
    assert stored(data, "book/page1.xml") == 0, "the file over the cap was auto-imported"
    log = [l for l in s.stderr_text().splitlines() if "page1.xml" in l]
    assert len(log) == 1, f"want one log line naming book/page1.xml, got {log}"
    assert "auto-import-max-mb = 1 " in log[0], log
    # an explicit import takes it
    p = cli_import(iiifd_bin, root, str(tmp_path / "data2"), os.path.join(root, "book"))
    assert p.returncode == 0, p.stderr
    assert stored(str(tmp_path / "data2"), "book/page1.xml") == 40 * 800 + 800


BAD = b"\xff\xfe"  # never valid in UTF-8


def bad_files(root):
    """format -> (relative path, line of the bad bytes, file bytes); line 1 of each is valid."""
    image(os.path.join(root, "ocr", "a.png"))
    image(os.path.join(root, "ocr", "b.png"))
    image(os.path.join(root, "tags", "p.png"))
    os.makedirs(os.path.join(root, "av"), exist_ok=True)
    fx.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=22050:duration=2", "-c:a", "libmp3lame",
            os.path.join(root, "av", "talk.mp3")], timeout=120)
    good = alto(2, 2, "fine").encode()
    alto_bad = good.replace(b'CONTENT="fine1"', b'CONTENT="fi' + BAD + b'ne"', 1)
    hocr = (b'<html><body>\n<div class="ocr_page" title="bbox 0 0 1000 1000">\n'
            b'<span class="ocr_line" title="bbox 10 10 500 30">'
            b'<span class="ocrx_word" title="bbox 10 10 50 30">okay</span></span>\n'
            b'<span class="ocr_line" title="bbox 10 40 500 60">'
            b'<span class="ocrx_word" title="bbox 10 40 50 60">b' + BAD + b'd</span></span>\n'
            b'</div></body></html>\n')
    vtt = (b"WEBVTT\n\n00:00.000 --> 00:01.000\nfine words\n\n"
           b"00:01.000 --> 00:02.000\nbad " + BAD + b" words\n")
    csv = b"file,x,y,w,h,label,score\np.png,1,1,10,10,fine,\np.png,1,1,10,10,b" + BAD + b"d,\n"
    files = {
        "alto": ("ocr/a.xml", alto_bad.split(BAD)[0].count(b"\n") + 1, alto_bad),
        "hocr": ("ocr/b.hocr", 4, hocr),
        "vtt": ("av/talk.vtt", 7, vtt),
        "csv": ("tags/tags.csv", 3, csv),
    }
    for rel, _line, content in files.values():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(content)
    return files


@pytest.mark.parametrize("fmt", ["alto", "hocr", "vtt", "csv"])
def test_invalid_utf8_fails_the_file(fmt, iiifd_bin, tmp_path):
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    files = bad_files(root)
    rel, line, _content = files[fmt]
    p = cli_import(iiifd_bin, root, data, os.path.join(root, rel))
    assert p.returncode != 0, f"{rel}: import of invalid UTF-8 succeeded:\n{p.stdout}"
    msg = [l for l in p.stderr.splitlines() if rel in l]
    assert msg and f"{rel}:{line}:" in msg[0], f"want a message naming {rel}:{line}: {p.stderr}"
    assert "UTF-8" in msg[0], msg
    assert stored(data, rel) == 0, f"{rel}: part of the file was stored"


def test_fingerprint_commits_with_the_records(iiifd_bin, tmp_path):
    """The fingerprint is written in the transaction of the records: when writing it fails
    (here a trigger refuses it; in life a kill or a full disk), none of the records stay
    either, so the store never holds records of a version it does not know it imported."""
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    image(os.path.join(root, "book", "page1.png"))
    with open(os.path.join(root, "book", "page1.xml"), "w") as f:
        f.write(alto(5, 3, "fresh"))
    p = cli_import(iiifd_bin, root, data, os.path.join(root, "book"))  # creates the store
    assert p.returncode == 0, p.stderr
    db = sqlite3.connect(os.path.join(data, "annotations.sqlite"))
    db.execute("CREATE TRIGGER no_fp BEFORE UPDATE ON sources BEGIN "
               "SELECT RAISE(ABORT, 'fingerprint refused'); END")
    db.commit()
    db.close()
    with open(os.path.join(root, "book", "page1.xml"), "w") as f:
        f.write(alto(6, 2, "second"))
    p = cli_import(iiifd_bin, root, data, os.path.join(root, "book"))
    assert p.returncode != 0, f"the import succeeded although its fingerprint failed:\n{p.stdout}"
    assert stored(data, "book/page1.xml") == 5 * 3 + 3, \
        "records of the new version were committed without their fingerprint"
