"""Fixtures for the Content Search tests that build their own store: a root of white pages with
generated ALTO, imported once into a data dir of its own by `iiifd import`, and a server on it
that imports nothing more."""

import fixtures as fx
from PIL import Image

from annotation_fixtures import alto_v4, run_import


def imported_store(iiifd_bin, tmp_path_factory, name, pages):
    """pages: {"folder/page": (width, height, ALTO lines as alto_v4 takes them)}: each a white
    PNG and its ALTO file, imported. Returns (root, data dir) as strings."""
    root = tmp_path_factory.mktemp(f"{name}-root")
    for rel, (width, height, lines) in pages.items():
        png = root / f"{rel}.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (width, height), "white").save(png)
        (root / f"{rel}.xml").write_text(alto_v4(lines, width, height, png.name))
    data = str(tmp_path_factory.mktemp(f"{name}-data"))
    p = run_import(iiifd_bin, str(root), data, str(root))
    assert p.returncode == 0, f"import failed: {p.stdout}\n{p.stderr}"
    return str(root), data


def store_server(iiifd_bin, tmp_path_factory, name, store, *args):
    """A Server (not started) on store (root, data dir) that imports nothing, with args."""
    root, data = store
    return fx.Server(iiifd_bin, root, str(tmp_path_factory.mktemp(f"{name}-srv")),
                     ["--data-dir", data, "--auto-import", "false", *args], name=name)
