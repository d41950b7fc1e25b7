"""The access-file setting (#14 §1): a policy for the root given by configuration, beneath every
access.yml sidecar. A folder protected by it alone is tried by every road of the leak test as
anonymous, a reader without the role, an expired and a wrong-secret identity: 0 leaks; a sidecar
below overrides it; a broken file stops the start with its file and line."""

import os
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import test_auth_leaks as leaks  # noqa: E402
from annotation_fixtures import alto_v4, layout, make_mp3  # noqa: E402
from auth_fixtures import (  # noqa: E402
    SECRET, WRONG_SECRET, add_user, forge, login, make_auth_root, probe, q, token2)

POLICY = "# the whole collection: registered readers, a 400 px tier for the others\n" \
         "policy: login\nroles: reader\ndegraded: 400\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory, iiifd_bin):
    base = str(tmp_path_factory.mktemp("authcfg"))
    root = make_auth_root(base)
    book = os.path.join(root, "book")  # no access.yml: the config's policy alone protects it
    os.makedirs(book)
    for name in ("img.png", "tiled.tif"):
        shutil.copy(os.path.join(root, "login", name), os.path.join(book, name))
    free = os.path.join(root, "shelf", "free")  # a public sidecar below the config's policy
    os.makedirs(free)
    for folder in (free, os.path.dirname(free)):
        shutil.copy(os.path.join(root, "login", "img.png"), os.path.join(folder, "img.png"))
    with open(os.path.join(free, "access.yml"), "w") as f:
        f.write("policy: public\n")
    for folder, word in (("book", f"{leaks.SECRET_WORD} {leaks.SECRET_LINE_WORD}"),
                         ("open", f"{leaks.OPEN_WORD} publicnotes")):
        with open(os.path.join(root, folder, "img.xml"), "w") as f:
            f.write(alto_v4([layout(word, 100, 100, 40, 20, 40)], 1600, 1200, "img.png"))
    make_mp3(os.path.join(book, "clip.mp3"), seconds=2)
    users = os.path.join(base, "users")
    add_user(iiifd_bin, users, "alice", "correct horse", "reader")
    add_user(iiifd_bin, users, "bob", "bob pass", "visitor")
    access_file = os.path.join(base, "policy.yml")  # outside the root
    with open(access_file, "w") as f:
        f.write(POLICY)
    s = fx.Server(iiifd_bin, root, str(tmp_path_factory.mktemp("authcfgsrv")),
                  args=["--auth-secrets", SECRET, "--auth-users", users,
                        "--access-file", access_file], name="authcfg").start()
    yield s
    s.kill()
    found, text = s.new_sanitizer_reports()
    assert not found, text[-4000:]


def identities(s):
    _, alice = login(s, "", "alice", "correct horse")  # the root's realm, "/"
    _, bob = login(s, "", "bob", "bob pass")
    past = time.time() - 10
    return alice, {
        "anonymous": ({}, None),
        "degraded user (no role)": (bob, None),
        "expired": ({"iiifd_access": forge("c", SECRET, "alice", "reader", expires=past)},
                    forge("t", SECRET, "~", "reader", expires=past)),
        "wrong secret": ({"iiifd_access": forge("c", WRONG_SECRET, "alice", "reader")},
                         forge("t", WRONG_SECRET, "~", "reader")),
    }


def test_config_policy_no_road_leaks(env):
    s = env
    alice, others = identities(s)
    leaks.wait_for_import(s, alice)
    for path in leaks.IMAGE_ROADS + leaks.TEXT_ROADS:
        r = leaks.fetch(s, path, alice, None, rng=path.endswith(".mp3"))
        assert r.status in (200, 206), (path, r.status, r.body[:200])
        assert r.header("Cache-Control").startswith("private"), path
    found = []
    for who, (jar, token) in others.items():
        for path in leaks.IMAGE_ROADS + leaks.TEXT_ROADS:
            for rng in ((False, True) if path.endswith(".mp3") else (False,)):
                r = leaks.fetch(s, path, jar, token, rng)
                if r.status != 401 or leaks.shows_secret(path, r.body):
                    found.append(f"{who}: {path} range={rng} -> {r.status}")
        for path in leaks.WIDE_ROADS:
            r = leaks.fetch(s, path, jar, token)
            if leaks.shows_secret(path, r.body):
                found.append(f"{who}: {path} -> {r.status} shows the protected text")
        for v in (2, 3):
            r = leaks.fetch(s, f"/iiif/{v}/{leaks.IMG}/info.json", jar, token)
            if r.status == 200:
                found.append(f"{who}: info.json v{v} -> {r.status}")
        r = leaks.fetch(s, f"/iiif/3/{leaks.IMG};degraded/full/max/0/default.jpg", jar, token)
        if r.status == 200 and max(r.image().size) > 400:
            found.append(f"{who}: degraded max -> {r.image().size}")
    assert found == [], "\n".join(found)


def test_config_policy_services_and_tokens(env):
    s = env
    result = probe(s, "book/img.png")
    assert result["status"] == 401 and result["substitute"]
    r = s.get(f"/iiif/3/{q('book/img.png')}/info.json")  # to the degraded tier's description
    assert r.status == 302 and ";degraded" in r.header("Location")
    doc = s.get(f"/iiif/3/{q('book/img.png')};degraded/info.json").json()
    assert max(doc["width"], doc["height"]) <= 400
    _, alice = login(s, "", "alice", "correct horse")
    msg, _ = token2(s, "", alice)
    assert msg["type"] == "AuthAccessToken2"
    assert probe(s, "book/img.png", msg["accessToken"])["status"] == 200


def test_sidecar_below_overrides_the_config_policy(env):
    s = env
    url = f"/iiif/3/{q('shelf/free/img.png')}/full/max/0/default.jpg"
    r = s.get(url)
    assert r.status == 200 and max(r.image().size) == 1600
    assert s.get(f"/iiif/3/{q('shelf/img.png')}/full/max/0/default.jpg").status == 401
    # a folder with no access.yml of its own is the config's; those with one keep theirs
    assert s.get(f"/iiif/3/{q('open/img.png')}/full/max/0/default.jpg").status == 401
    assert s.get(f"/iiif/3/{q('kiosk/img.png')}/full/max/0/default.jpg").status == 200


def test_broken_access_file_stops_the_start(tmp_path, iiifd_bin):
    bad = tmp_path / "policy.yml"
    bad.write_text("# comment\npolicy: login\ndegraded: huge\n")
    p = subprocess.run([iiifd_bin, "serve", "--host", "127.0.0.1", "--root", str(tmp_path), "--data-dir", str(tmp_path / "d"),
                        "--cache-dir", str(tmp_path / "c"), "--port", "1",
                        "--access-file", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert f"{bad}:3" in p.stderr, p.stderr
    missing = tmp_path / "none.yml"
    p = subprocess.run([iiifd_bin, "serve", "--host", "127.0.0.1", "--root", str(tmp_path), "--data-dir", str(tmp_path / "d"),
                        "--cache-dir", str(tmp_path / "c"), "--port", "1",
                        "--access-file", str(missing)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and str(missing) in p.stderr, p.stderr
