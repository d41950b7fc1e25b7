#!/usr/bin/python3
"""Helpers for bench/run (standard library only, run with Debian's /usr/bin/python3).

  helper.py lists INFO.json OUTDIR IDPATTERN NAMES SEED
      Write the URL lists of one image, paths without the server prefix, one per line. The image
      is served under NAMES names: IDPATTERN with "{n}" for 1..NAMES (pyramid-{n}.tif); the
      lists keep the "{n}" and bench/urls.lua fills it in.
        tiles.txt    every tile of every zoom level, from the tile grid in INFO.json, shuffled
                     with SEED
        regions.txt  4000 random 2000x2000 regions (inside the image) scaled to 1000 px wide
        full.txt     full/1000,
        info.txt     info.json
        checks.txt   URLs to try before measuring (names 1 and NAMES written out): info.json, the
                     first and the last tile of each zoom level, a region and full/1000,
      Tile geometry follows the Image API: for scale factor s and tile (col,row) of size t the
      region is x=col*t*s, y=row*t*s, w=min(t*s, W-x), h=min(t*s, H-y) and the size ceil(w/s),
      (the `w,` form, which both Image API 2 and 3 accept).

  helper.py tileinfo INFO.json
      Print the tile grid an info.json advertises ("256x256 tiles, scale factors 1,2,4").

  helper.py isjson FILE
      Exit 0 when FILE is valid JSON.

  helper.py port
      Print a free TCP port on 127.0.0.1.

  helper.py hyperfine JSON
      Print "median_us mean_us runs" of the first result of a `hyperfine --export-json` file.

  helper.py soakcorpus DIR PAGES WORDS
      bench/soak's book: DIR/page{1..PAGES}.png (hard links to DIR/page1.png, which must exist)
      with an ALTO file each (40 lines of 12 words from a fixed vocabulary of about 500 made-up
      words, seeded), and the file WORDS with the vocabulary, one word a line.

  helper.py soaklist BASE OUT WORDS PAGES
      bench/soak's mixed request list, paths without BASE, one per line, shuffled: every tile of
      photo.tif and photo.jp2 (from their info.json at BASE), renders of random regions and sizes
      of them (at most 600 px a side) and of grid.png and multipage.tif, searches and autocompletes within the book's
      Manifest and the book's AnnotationPages. About half are tiles, a fifth renders, the rest
      search and annotation reads. Prints how many of each.

  helper.py report RESULTS.tsv META.tsv OUT.md [BASELINE.tsv]
      Print the results table and the targets, and write them as markdown to OUT.md. RESULTS.tsv
      has one line per measured run (see FIELDS); META.tsv has lines "date<TAB>text",
      "machine<TAB>name<TAB>text", "note<TAB>text" and, with BASELINE.tsv,
      "baseline<TAB>binary<TAB>text" and "current<TAB>binary<TAB>text". BASELINE.tsv (same
      fields, keys WORKLOAD@REPETITION, servers "iiifd (this build)" and "iiifd (baseline)") adds
      a section comparing the two builds: median req/s of the repetitions, the ratio of the
      medians, and the target "within 5 % of the baseline" (ratio >= 0.95) per workload.
"""
import json
import math
import os
import random
import socket
import statistics
import sys


def cmd_lists(info_path, outdir, pattern, names, seed):
    with open(info_path) as f:
        info = json.load(f)
    W, H = int(info["width"]), int(info["height"])
    tiles = (info.get("tiles") or [{}])[0]
    tw = int(tiles.get("width", 512))
    th = int(tiles.get("height", tw))
    scales = tiles.get("scaleFactors") or [1]
    names = int(names)
    first, last = pattern.replace("{n}", "1"), pattern.replace("{n}", str(names))
    rnd = random.Random(int(seed))

    geometry = []
    checks = [f"{first}/info.json"]
    for s in scales:
        s = int(s)
        level = []
        for row in range(math.ceil(H / (th * s))):
            for col in range(math.ceil(W / (tw * s))):
                x, y = col * tw * s, row * th * s
                w, h = min(tw * s, W - x), min(th * s, H - y)
                level.append(f"{x},{y},{w},{h}/{math.ceil(w / s)},/0/default.jpg")
        geometry += level
        checks += [f"{first}/{level[0]}", f"{last}/{level[-1]}"]
    tiles_out = [f"{pattern}/{g}" for g in geometry]
    rnd.shuffle(tiles_out)

    regions = []
    rw, rh = min(2000, W), min(2000, H)
    for _ in range(4000):
        x, y = rnd.randint(0, W - rw), rnd.randint(0, H - rh)
        regions.append(f"{pattern}/{x},{y},{rw},{rh}/1000,/0/default.jpg")
    checks += [regions[0].replace("{n}", "1"), f"{last}/full/1000,/0/default.jpg"]

    # the render workloads of issue 13 (docs/benchmarks.md): thumbnails of random widths, random
    # 1024x1024 regions to 512, random 512x512 crops at full size (not tile-aligned)
    thumbs = [f"{pattern}/full/{rnd.randint(300, 1200)},/0/default.jpg" for _ in range(2000)]
    regions1024, crops512 = [], []
    for size, out, lines in ((1024, 512, regions1024), (512, 512, crops512)):
        cw, ch = min(size, W), min(size, H)
        for _ in range(4000):
            x, y = rnd.randint(0, W - cw), rnd.randint(0, H - ch)
            lines.append(f"{pattern}/{x},{y},{cw},{ch}/{min(out, cw)},/0/default.jpg")
    checks += [thumbs[0].replace("{n}", "1"), regions1024[0].replace("{n}", "1"),
               crops512[0].replace("{n}", "1")]

    os.makedirs(outdir, exist_ok=True)
    for name, lines in (("thumbs", thumbs), ("regions1024", regions1024),
                        ("crops512", crops512),
                        ("tiles", tiles_out), ("regions", regions), ("checks", checks),
                        ("full", [f"{pattern}/full/1000,/0/default.jpg"]),
                        ("info", [f"{pattern}/info.json"])):
        with open(os.path.join(outdir, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"{W}x{H}, tiles {tw}x{th}, scale factors {','.join(str(s) for s in scales)} "
          f"({len(scales)} levels), {len(geometry)} tiles per name, "
          f"{len(geometry) * names} under the {names} names")


def cmd_tileinfo(path):
    try:
        with open(path) as f:
            t = json.load(f)["tiles"][0]
        print(f"{t['width']}x{t.get('height', t['width'])} tiles, scale factors "
              + ",".join(str(x) for x in t["scaleFactors"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        print("no tiles in its info.json")


def cmd_isjson(path):
    try:
        with open(path) as f:
            json.load(f)
    except (OSError, ValueError):
        sys.exit(1)


def cmd_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_hyperfine(path):
    with open(path) as f:
        r = json.load(f)["results"][0]
    print(round(r["median"] * 1e6), round(r["mean"] * 1e6), len(r["times"]))


# --- soak --------------------------------------------------------------------------------------

def cmd_soakcorpus(d, pages, words_path):
    rnd = random.Random(10)
    vocab = sorted({"".join(rnd.choice("abcdefghijklmnopqrstuvwxyz")
                            for _ in range(rnd.randint(4, 9))) for _ in range(500)})
    os.makedirs(d, exist_ok=True)
    first = os.path.join(d, "page1.png")
    with open(words_path, "w") as f:
        f.write("\n".join(vocab) + "\n")
    for p in range(1, int(pages) + 1):
        img = os.path.join(d, f"page{p}.png")
        if p > 1 and not os.path.exists(img):
            os.link(first, img)
        lines = []
        for row in range(40):
            y = 80 + row * 38
            words = [f'<String CONTENT="{rnd.choice(vocab)}" HPOS="{60 + k * 90}" VPOS="{y}" '
                     f'WIDTH="80" HEIGHT="30"/>' for k in range(12)]
            lines.append(f'<TextLine HPOS="60" VPOS="{y}" WIDTH="1080" HEIGHT="30">'
                         + "<SP/>".join(words) + "</TextLine>")
        with open(os.path.join(d, f"page{p}.xml"), "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout>'
                    '<Page WIDTH="1200" HEIGHT="1600"><PrintSpace><TextBlock>'
                    + "\n".join(lines) + "</TextBlock></PrintSpace></Page></Layout></alto>\n")


def _get_json(url):
    import urllib.request
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


def cmd_soaklist(base, out, words_path, pages):
    rnd = random.Random(20)
    tiles, renders = [], []
    for ident in ("photo.tif", "photo.jp2"):
        info = _get_json(f"{base}/iiif/3/{ident}/info.json")
        W, H = int(info["width"]), int(info["height"])
        t = info["tiles"][0]
        tw, th = int(t["width"]), int(t.get("height", t["width"]))
        for s in t["scaleFactors"]:
            for row in range(math.ceil(H / (th * s))):
                for col in range(math.ceil(W / (tw * s))):
                    x, y = col * tw * s, row * th * s
                    w, h = min(tw * s, W - x), min(th * s, H - y)
                    tiles.append(f"/iiif/3/{ident}/{x},{y},{w},{h}/{math.ceil(w / s)},"
                                 f"/0/default.jpg")
        for _ in range(3000):   # many different ones, so that the render cache keeps working
            w, h = rnd.randint(64, min(2000, W)), rnd.randint(64, min(2000, H))
            x, y = rnd.randint(0, W - w), rnd.randint(0, H - h)
            # outputs of at most 600 px a side: renders as a viewer or a page of results asks
            # for them (a 2000 px PNG per request would only measure the encoder)
            size = rnd.choice([f"{min(w, 600)},", f",{min(h, 400)}", "pct:25", "!300,300",
                               "max" if max(w, h) <= 600 else "!600,600"])
            rot = rnd.choice(["0", "0", "90", "!0"])
            fmt = rnd.choice(["jpg", "jpg", "png", "webp"])
            renders.append(f"/iiif/3/{ident}/{x},{y},{w},{h}/{size}/{rot}/default.{fmt}")
        renders += [f"/iiif/3/{ident}/full/{w},/0/default.jpg" for w in (150, 400, 1000)]
    for ident in ("grid.png", "multipage.tif"):
        for size in ("max", "200,", "pct:50", "!120,120"):
            renders.append(f"/iiif/3/{ident}/full/{size}/0/default.jpg")
        renders.append(f"/iiif/3/{ident}/square/100,/0/gray.png")
    with open(words_path) as f:
        words = [w.strip() for w in f if w.strip()]
    m = "/iiif/presentation/book/manifest"
    search = [f"{m}/search?q={rnd.choice(words)}" for _ in range(300)]
    search += [f"{m}/search?q={rnd.choice(words)}+{rnd.choice(words)}" for _ in range(100)]
    search += [f"{m}/autocomplete?q={rnd.choice(words)[:3]}" for _ in range(100)]
    annos = [f"{m}/canvas/{p}/annotations/supplementing" for p in range(1, int(pages) + 1)]
    # weights: tiles 50 %, renders 20 %, search 15 %, annotation pages 15 %
    n = 20000
    mix = ([rnd.choice(tiles) for _ in range(n * 50 // 100)]
           + [rnd.choice(renders) for _ in range(n * 20 // 100)]
           + [rnd.choice(search) for _ in range(n * 15 // 100)]
           + [rnd.choice(annos) for _ in range(n * 15 // 100)])
    rnd.shuffle(mix)
    with open(out, "w") as f:
        f.write("\n".join(mix) + "\n")
    print(f"{len(mix)} requests drawn from {len(tiles)} tiles, {len(renders)} renders, "
          f"{len(search)} searches and autocompletes, {len(annos)} AnnotationPages "
          f"(50/20/15/15 %)")


# --- report ------------------------------------------------------------------------------------

FIELDS = ["key", "label", "server", "status", "rps", "p50_us", "p99_us", "non2xx", "sockerr",
          "rss_kb", "requests", "note"]


def load_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            parts += [""] * (len(FIELDS) - len(parts))
            r = dict(zip(FIELDS, parts))
            for k in ("rps",):
                r[k] = float(r[k]) if r[k] not in ("", "-") else None
            for k in ("p50_us", "p99_us", "non2xx", "sockerr", "rss_kb", "requests"):
                r[k] = int(float(r[k])) if r[k] not in ("", "-") else None
            rows.append(r)
    return rows


def f_rps(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def f_ms(us):
    if us is None:
        return "-"
    ms = us / 1000
    if ms >= 100:
        return f"{ms:,.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def f_mb(kb):
    return "-" if kb is None else f"{kb / 1024:,.0f} MB"


def f_err(r):
    if r["non2xx"] is None:
        return "-"
    s = f"{r['non2xx']:,}"
    if r["sockerr"]:
        s += f" (+{r['sockerr']:,} socket errors)"
    return s


def find(rows, key, server):
    for r in rows:
        if r["key"] == key and r["status"] == "ok" and (
                r["server"] == server or (server == "iiifd" and r["server"].startswith("iiifd"))):
            return r
    return None


def good_rps(r):
    """Requests per second answered with 2xx and an image (bench/urls.lua counts a 200 whose body
    is not a JPEG, as iipsrv behind lighttpd gives for a failed decode, with non2xx)."""
    if r is None or r["rps"] is None:
        return None
    if not r["requests"]:
        return r["rps"]
    return r["rps"] * max(0, r["requests"] - (r["non2xx"] or 0)) / r["requests"]


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def baseline_section(path, meta):
    """Markdown lines and terminal rows comparing this build with the baseline build."""
    rows = load_rows(path)
    order, runs = [], {}
    for r in rows:
        key = r["key"].split("@")[0]
        if key not in order:
            order.append(key)
        runs.setdefault((key, r["server"]), []).append(r)
    cur, base = "iiifd (this build)", "iiifd (baseline)"
    head = ["workload", "this build req/s (median)", "baseline req/s (median)",
            "ratio this/baseline", "p99 this / baseline", "errors this / baseline",
            "within 5 %"]
    body = []
    for key in order:
        a, b = runs.get((key, cur), []), runs.get((key, base), [])
        label = (a or b)[0]["label"]

        def med(rs, field):
            v = [r[field] for r in rs if r["status"] == "ok" and r[field] is not None]
            return statistics.median(v) if v else None

        def every(rs):
            return ", ".join(f_rps(r["rps"]) if r["status"] == "ok" else r["status"] for r in rs)

        def errs(rs):
            return sum((r["non2xx"] or 0) + (r["sockerr"] or 0) for r in rs)

        ma, mb = med(a, "rps"), med(b, "rps")
        q = ratio(ma, mb)
        body.append([label, f"{f_rps(ma)} ({every(a)})", f"{f_rps(mb)} ({every(b)})",
                     "-" if q is None else f"**{q:.3f}**",
                     f"{f_ms(med(a, 'p99_us'))} / {f_ms(med(b, 'p99_us'))}",
                     f"{errs(a)} / {errs(b)}",
                     "n/a" if q is None else ("met" if q >= 0.95 else "NOT met")])
    lines = ["## Baseline: this build against an earlier one", ""]
    for k in ("current", "baseline"):
        if k in meta:
            lines.append(f"- {'this build' if k == 'current' else 'baseline'}: "
                         f"{meta[k][0]}, {meta[k][1]}")
    lines += ["", "Tile throughput must stay within 5 % of the baseline: ratio of the medians "
              ">= 0.95.", "", "| " + " | ".join(head) + " |",
              "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(body_row) + " |" for body_row in body]
    lines.append("")
    return lines, head, body


def jpeg2000_targets(rows, target, meta):
    """Issue 13's HTJ2K targets, from rows of this run: HTJ2K against iiifd's own classic JPEG
    2000 (tiles) and TIFF (the render workloads; the JPEG 2000 render targets against IIPImage
    are with the other render targets)."""
    def iiifd_row(key):
        return next((r for r in rows if r["key"] == key and r["server"].startswith("iiifd")
                     and r["status"] == "ok"), None)

    def rps_ratio(key_a, key_b):
        a, b = iiifd_row(key_a), iiifd_row(key_b)
        return ratio(a and a["rps"], b and b["rps"])

    def show(q):
        return "-" if q is None else f"{q:.2f}x"

    for key, what in (("tiles_cold", "cold"), ("tiles_64", "random, 64 connections")):
        q = rps_ratio(f"jph_{key}", f"jp2_{key}")
        target(f"HTJ2K tiles ({what}) >= 2.5x iiifd's classic JPEG 2000 req/s", show(q),
               None if q is None else q >= 2.5)
    renders = (("thumbs", "full/W, W random in 300..1200"), ("regions", "2000x2000 region to 1000,"),
               ("regions1024", "1024x1024 region to 512,"), ("crops512", "512x512 region at full size"))
    for kind, what in renders:
        for conns in (1, 8):
            q = rps_ratio(f"jph_r_{kind}_{conns}", f"tif_r_{kind}_{conns}")
            target(f"HTJ2K {what}, {conns} conn: within 2x of the TIFF path (HTJ2K/TIFF >= 0.5)",
                   show(q), None if q is None else q >= 0.5)


def cmd_report(results, meta_path, out, baseline=None):
    rows = load_rows(results)
    meta = {"date": "", "machine": [], "notes": []}
    with open(meta_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "date":
                meta["date"] = parts[1]
            elif parts[0] == "machine":
                meta["machine"].append((parts[1], parts[2]))
            elif parts[0] == "note":
                meta["notes"].append(parts[1])
            elif parts[0] in ("baseline", "current"):
                meta[parts[0]] = (parts[1], parts[2])

    # table rows, in the order measured; the ratio goes on the iiifd row of each workload
    table = []
    for r in rows:
        if r["status"] == "ok":
            vals = [f_rps(r["rps"]), f_ms(r["p50_us"]), f_ms(r["p99_us"]), f_err(r),
                    f_mb(r["rss_kb"])]
        else:
            vals = [r["status"], "-", "-", "-", "-"]
        rat = ""
        if r["server"].startswith("iiifd"):
            other = next((o for o in rows if o["key"] == r["key"] and o is not r
                          and not o["server"].startswith("iiifd")), None)
            if other is not None:
                if other["status"] != "ok":
                    rat = f"n/a ({other['server']}: {other['status']})"
                elif r["status"] == "ok":
                    if other["server"] == "vipsthumbnail":
                        q = ratio(other["p50_us"], r["p50_us"])  # time ratio: >1 = iiifd faster
                        rat = f"{q:.2f}x faster" if q and q >= 1 else (
                            f"{1 / q:.2f}x slower" if q else "")
                    else:
                        q = ratio(r["rps"], other["rps"])
                        rat = f"**{q:.2f}x**" if q is not None else ""
        table.append([r["label"], r["server"]] + vals + [rat])

    header = ["workload", "server", "req/s", "p50", "p99", "non-2xx", "peak RSS",
              "ratio iiifd/IIPImage"]

    # targets
    T = []

    def target(name, measured, met):
        T.append((name, measured, "n/a" if met is None else ("met" if met else "NOT met")))

    def row_ok(key, server="iiifd"):
        return find(rows, key, server)

    def errs(r):
        return None if r is None else (r["non2xx"] or 0) + (r["sockerr"] or 0)

    a, b = row_ok("tif_tiles_cold"), row_ok("tif_tiles_cold", "IIPImage")
    q = ratio(a and a["rps"], b and b["rps"])
    target("Random tiles from the pyramidal TIFF >= 4x IIPImage req/s, p99 below IIPImage's",
           "-" if q is None else f"{q:.2f}x; p99 {f_ms(a['p99_us'])} vs {f_ms(b['p99_us'])}",
           None if q is None else (q >= 4 and a["p99_us"] < b["p99_us"]))

    a, b = row_ok("jp2_tiles_cold"), row_ok("jp2_tiles_cold", "IIPImage")
    jp2_rows = [row_ok(k) for k in ("jp2_tiles_cold", "jp2_tiles_warm", "jp2_tiles_64")]
    e = sum(errs(r) or 0 for r in jp2_rows if r)
    q = ratio(a and a["rps"], b and b["rps"])
    if b is None and any(o["key"] == "jp2_tiles_cold" and o["server"] == "IIPImage"
                         for o in rows):
        target("JPEG 2000 tiles >= 3x IIPImage, zero errors",
               f"IIPImage: unsupported; iiifd errors in JP2 tile runs: {e}", None)
    else:
        target("JPEG 2000 tiles >= 3x IIPImage, zero errors",
               "-" if q is None else f"{q:.2f}x; iiifd errors in JP2 tile runs: {e}",
               None if q is None else (q >= 3 and e == 0))

    for fmt, name in (("tif", "TIFF"), ("jp2", "JPEG 2000")):
        a = row_ok(f"{fmt}_tiles_warm")
        target(f"Warm tiles ({name}) >= 15,000 req/s",
               "-" if a is None else f"{f_rps(a['rps'])} req/s",
               None if a is None else a["rps"] >= 15000)

    a = row_ok("tif_full_seq")
    target("full/1000, from the 300 MP pyramid: p50 < 60 ms (1 connection, iiifd render cache off)",
           "-" if a is None else f"p50 {f_ms(a['p50_us'])}",
           None if a is None else a["p50_us"] < 60000)

    a, b = row_ok("flat_full_seq"), row_ok("flat_full_seq", "vipsthumbnail")
    target("Flat 100 MP JPEG to full/1000, no slower than vipsthumbnail",
           "-" if (a is None or b is None) else
           f"iiifd p50 {f_ms(a['p50_us'])} vs vipsthumbnail median {f_ms(b['p50_us'])}",
           None if (a is None or b is None) else a["p50_us"] <= b["p50_us"])

    for fmt, name in (("tif", "TIFF"), ("jp2", "JPEG 2000")):
        a = row_ok(f"{fmt}_tiles_64")
        target(f"Peak RSS < 300 MB with 64 connections (iiifd, random {name} tiles)",
               "-" if a is None or a["rss_kb"] is None else f_mb(a["rss_kb"]),
               None if a is None or a["rss_kb"] is None else a["rss_kb"] < 300 * 1024)

    # issue 13: renders against IIPImage, one and eight connections (render caches off), in
    # requests per second answered with an image (good_rps)
    renders = (("thumbs", "full/W, W random in 300..1200"), ("regions", "2000x2000 region to 1000,"),
               ("regions1024", "1024x1024 region to 512,"), ("crops512", "512x512 region at full size"))
    for fmt, name, need1, need8 in (("tif", "TIFF", 2.0, 2.0), ("jp2", "JPEG 2000", 2.0, 1.3)):
        for kind, what in renders:
            for conns, need in ((1, need1), (8, need8)):
                key = f"{fmt}_r_{kind}_{conns}"
                a = next((r for r in rows if r["key"] == key and r["server"].startswith("iiifd")
                          and r["status"] == "ok"), None)
                b = row_ok(key, "IIPImage")
                q = ratio(good_rps(a), good_rps(b))
                rss_ok = a is not None and a["rss_kb"] is not None and a["rss_kb"] < 300 * 1024
                target(f"{name} {what}, {conns} conn: >= {need}x IIPImage"
                       + (", p99 below IIPImage's, peak RSS < 300 MB" if fmt == "tif" else ""),
                       "-" if q is None else
                       f"{q:.2f}x; p99 {f_ms(a['p99_us'])} vs {f_ms(b['p99_us'])}; "
                       f"RSS {f_mb(a['rss_kb'])}",
                       None if q is None else (q >= need and (fmt != "tif" or (
                           a["p99_us"] < b["p99_us"] and rss_ok))))
    for fmt, name in (("tif", "TIFF"), ("jp2", "JPEG 2000")):
        key = f"{fmt}_tiles_16"
        a = next((r for r in rows if r["key"] == key and r["server"].startswith("iiifd")
                  and r["status"] == "ok"), None)
        b = row_ok(key, "IIPImage")
        target(f"Random {name} tiles over all levels (16 conn, render caches off): p99 below "
               "IIPImage's",
               "-" if a is None or b is None else
               f"p99 {f_ms(a['p99_us'])} vs {f_ms(b['p99_us'])}; "
               f"{ratio(a['rps'], b['rps']):.2f}x req/s",
               None if a is None or b is None else a["p99_us"] < b["p99_us"])

    jpeg2000_targets(rows, target, meta)

    # --- output ---
    lines = []
    lines.append("# iiifd vs IIPImage: benchmark results")
    lines.append("")
    lines.append(f"Written by `make bench` (bench/run) on {meta['date']}.")
    lines.append("")
    lines.append("## Machine and software")
    lines.append("")
    for k, v in meta["machine"]:
        lines.append(f"- {k}: {v}")
    lines.append("")
    lines.append("## Results")
    lines.append("")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    for t in table:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in t) + " |")
    lines.append("")
    lines.append("## Targets")
    lines.append("")
    lines.append("Ratios from this one run; targets are reported, not asserted.")
    lines.append("")
    lines.append("| target | measured | result |")
    lines.append("|---|---|---|")
    for name, measured, res in T:
        lines.append(f"| {name} | {measured} | {res} |")
    lines.append("")
    if baseline:
        blines, bhead, bbody = baseline_section(baseline, meta)
        lines += blines
    lines.append("## How it was measured")
    lines.append("")
    for n in meta["notes"]:
        lines.append(f"- {n}")
    notes = [r for r in rows if r["note"]]
    if notes:
        lines.append("")
        lines.append("## Notes on individual runs")
        lines.append("")
        for r in notes:
            lines.append(f"- {r['label']}, {r['server']}: {r['note']}")
    lines.append("")
    md = "\n".join(lines)
    with open(out, "w") as f:
        f.write(md)

    # terminal version: aligned columns
    def aligned(head, body):
        w = [max(len(str(x)) for x in col) for col in zip(head, *body)]
        fmt = lambda r: "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip()
        return "\n".join([fmt(head), fmt(["-" * x for x in w])] + [fmt(r) for r in body])

    print()
    print(aligned(header, [[c.replace("**", "") for c in t] for t in table]))
    print()
    print(aligned(["target", "measured", "result"], T))
    print()
    if baseline:
        print(aligned(bhead, [[c.replace("**", "") for c in t] for t in bbody]))
        print()


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "lists" and len(args) == 5:
        cmd_lists(*args)
    elif cmd == "tileinfo" and len(args) == 1:
        cmd_tileinfo(*args)
    elif cmd == "isjson" and len(args) == 1:
        cmd_isjson(*args)
    elif cmd == "port" and not args:
        cmd_port()
    elif cmd == "hyperfine" and len(args) == 1:
        cmd_hyperfine(*args)
    elif cmd == "soakcorpus" and len(args) == 3:
        cmd_soakcorpus(*args)
    elif cmd == "soaklist" and len(args) == 4:
        cmd_soaklist(*args)
    elif cmd == "report" and len(args) in (3, 4):
        cmd_report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
