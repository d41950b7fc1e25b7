"""The access-file setting (#14 §1): policies given by configuration, beneath every access.yml
sidecar: the root's, and under `folders:` a folder's. A folder protected by the file alone is
tried by every road of the leak test as anonymous, a reader without the role, an expired and a
wrong-secret identity: 0 leaks; a sidecar below overrides it; a broken file stops the start
with its file and line; a reload reads the file again, and a broken one on reload keeps the
policies in force and names its file and line."""

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import test_auth_leaks as leaks  # noqa: E402
from auth_fixtures import SECRET, cookie_header, login, probe, q, token2  # noqa: E402

POLICY = "# the whole collection: registered readers, a 400 px tier for the others\n" \
         "policy: login\nroles: reader\ndegraded: 400\n"
FOLDERS = ("# no policy for the root: only these folders\nfolders:\n"
           "  book:\n    policy: login\n    roles: reader\n    degraded: 400\n"
           "  shelf:\n    policy: login\n    roles: reader\n")


def start(tmp_path_factory, iiifd_bin, name, policy_text):
    """A server on the leak test's root plus shelf/img.png and shelf/free/img.png (the latter
    under a public access.yml), whose access-file (outside the root) holds policy_text."""
    base = str(tmp_path_factory.mktemp(name))
    root, users = leaks.make_leak_root(base, iiifd_bin)
    free = os.path.join(root, "shelf", "free")
    os.makedirs(free)
    for folder in (free, os.path.dirname(free)):
        shutil.copy(os.path.join(root, "login", "img.png"), os.path.join(folder, "img.png"))
    with open(os.path.join(free, "access.yml"), "w") as f:
        f.write("policy: public\n")
    access_file = os.path.join(base, "policy.yml")
    with open(access_file, "w") as f:
        f.write(policy_text)
    server = fx.Server(iiifd_bin, root, str(tmp_path_factory.mktemp(name + "srv")),
                       args=["--auth-secrets", SECRET, "--auth-users", users],
                       config={"access-file": access_file, "log-level": "info"}, name=name)
    server.access_file = access_file
    return fx.serving(server)


@pytest.fixture(scope="module")
def env(tmp_path_factory, iiifd_bin):
    with start(tmp_path_factory, iiifd_bin, "authcfg", POLICY) as s:
        yield s


@pytest.fixture(scope="module")
def folders_env(tmp_path_factory, iiifd_bin):
    with start(tmp_path_factory, iiifd_bin, "authcfgdirs", FOLDERS) as s:
        yield s


def image(s, folder):
    return s.get(f"/iiif/3/{q(folder + '/img.png')}/full/max/0/default.jpg")


def test_config_policy_no_road_leaks(env):
    alice, _, others = leaks.identities(env, "")  # the root's realm, "/"
    leaks.check_every_road_answers(env, alice)
    leaks.assert_no_road_leaks(env, others)


def test_folder_policy_from_the_file_no_road_leaks(folders_env):
    s = folders_env
    alice, _, others = leaks.identities(s, "book")  # the folder's realm, as an access.yml's
    leaks.check_every_road_answers(s, alice)
    leaks.assert_no_road_leaks(s, others)
    # the root has no policy: the rest stays open, its text found by everyone
    assert image(s, "open").status == 200
    r = leaks.fetch(s, f"{leaks.PRES}/collection/search?q={leaks.OPEN_WORD}", {}, None)
    assert leaks.OPEN_WORD.encode() in r.body
    assert probe(s, "book/img.png")["status"] == 401


def test_sidecar_below_a_folder_of_the_file_overrides_it(folders_env):
    s = folders_env
    assert image(s, "shelf").status == 401
    r = image(s, "shelf/free")
    assert r.status == 200 and max(r.image().size) == 1600
    # a folder with an access.yml of its own keeps it
    assert image(s, "kiosk").status == 200 and image(s, "strict").status == 401


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
    r = image(s, "shelf/free")
    assert r.status == 200 and max(r.image().size) == 1600
    assert image(s, "shelf").status == 401
    # a folder with no access.yml of its own is the config's; those with one keep theirs
    assert image(s, "open").status == 401
    assert image(s, "kiosk").status == 200


def serve_with(tmp_path, iiifd_bin, access_file):
    """`iiifd serve --access-file access_file` on an unusable port: (exit code, stderr)."""
    p = subprocess.run([iiifd_bin, "serve", "--host", "127.0.0.1", "--root", str(tmp_path),
                        "--data-dir", str(tmp_path / "d"), "--cache-dir", str(tmp_path / "c"),
                        "--port", "1", "--access-file", str(access_file)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr


def test_broken_access_file_stops_the_start(tmp_path, iiifd_bin):
    bad = tmp_path / "policy.yml"
    bad.write_text("# comment\npolicy: login\ndegraded: huge\n")
    code, stderr = serve_with(tmp_path, iiifd_bin, bad)
    assert code != 0 and f"{bad}:3" in stderr, stderr
    missing = tmp_path / "none.yml"
    code, stderr = serve_with(tmp_path, iiifd_bin, missing)
    assert code != 0 and str(missing) in stderr, stderr
    # folders: a name that leaves the root, a folder's bad policy: each at its line
    for text, line in (("folders:\n  ../up:\n    policy: login\n", 2),
                       ("folders:\n  book:\n    policy: login\n  shelf:\n"
                        "    policy: sometimes\n", 5),
                       ("folders:\n  book: login\n", 2),
                       ("roles: [reader]\nfolders:\n  book:\n    policy: login\n", 1)):
        bad.write_text(text)
        code, stderr = serve_with(tmp_path, iiifd_bin, bad)
        assert code != 0 and f"{bad}:{line}:" in stderr, (text, stderr)


def rewrite_and_reload(s, text, logged):
    with open(s.access_file, "w") as f:
        f.write(text)
    fx.sighup_and_wait(s, logged)


def test_reload_reads_the_access_file_again(tmp_path_factory, iiifd_bin):
    with start(tmp_path_factory, iiifd_bin, "authreload", FOLDERS) as s:
        assert image(s, "book").status == 401 and image(s, "open").status == 200
        read = f"access-file {s.access_file} read"
        rewrite_and_reload(s, "folders:\n  open:\n    policy: login\n", read)
        assert image(s, "open").status == 401 and image(s, "book").status == 200
        assert probe(s, "open/img.png")["status"] == 401
        # broken on reload: the policies in force stay, the log names the file and line
        rewrite_and_reload(s, "folders:\n  open:\n    policy: login\n    degraded: huge\n",
                           "the previous access-file policies stay in force")
        assert f"{s.access_file}:4: degraded" in s.stderr_text()
        assert image(s, "open").status == 401 and image(s, "book").status == 200
        # the root's policy, on the next good reload; a sidecar still overrides it
        rewrite_and_reload(s, POLICY, read)
        assert image(s, "book").status == 401 and image(s, "open").status == 401
        assert image(s, "kiosk").status == 200 and image(s, "shelf/free").status == 200
        _, alice = login(s, "", "alice", "correct horse")
        r = s.get(f"/iiif/3/{q('open/img.png')}/full/max/0/default.jpg",
                  headers={"Cookie": cookie_header(alice)})
        assert r.status == 200
