"""Access control end to end (docs/access.md): policies from access.yml inherited down the
tree, the users file, the Authorization Flow 2.0 services (probe, access, token, logout) and
1.0 services, tiers, signed tokens with two secrets, throttling and the access log."""

import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from auth_fixtures import (  # noqa: E402
    ALICE, ORIGIN, SECRET, OLD_SECRET, WRONG_SECRET, add_user, cookie_header, forge, login,
    make_auth_env, open_access, post_form, probe, q, realm, token2)


@pytest.fixture(scope="module")
def auth_env(tmp_path_factory, iiifd_bin):
    base = str(tmp_path_factory.mktemp("auth"))
    root, users = make_auth_env(base, iiifd_bin, ALICE, ("sam", "staff pass", "staff"))
    return {"root": root, "users": users, "log": os.path.join(base, "auth.log"), "base": base}


@pytest.fixture(scope="module")
def srv(auth_env, iiifd_bin, tmp_path_factory):
    server = fx.Server(iiifd_bin, auth_env["root"], str(tmp_path_factory.mktemp("authsrv")),
                       args=["--auth-secrets", f"{SECRET}, {OLD_SECRET}", "--auth-users",
                             auth_env["users"], "--auth-log", auth_env["log"]], name="auth")
    with fx.serving(server) as s:
        yield s


def cli(args, stdin=""):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=60)


def info(srv, identifier, version=3, headers=None):
    return srv.get(f"/iiif/{version}/{q(identifier)}/info.json", headers=headers or {})


def test_users_file_is_hashed_with_yescrypt(auth_env, iiifd_bin):
    text = open(auth_env["users"]).read()
    assert "correct horse" not in text
    line = next(l for l in text.splitlines() if l.startswith("alice:"))
    assert line.split(":")[1].startswith("$y$") and line.endswith(":reader")
    assert oct(os.stat(auth_env["users"]).st_mode & 0o777) == "0o600"
    # the same name twice is refused; passwd changes the hash, remove removes
    r = cli([iiifd_bin, "user", "add", "alice", "--auth-users", auth_env["users"]], "x\n")
    assert r.returncode != 0 and "exists" in r.stderr
    tmp = os.path.join(auth_env["base"], "users2")
    add_user(iiifd_bin, tmp, "bob", "pw1", "x")
    before = open(tmp).read()
    r = cli([iiifd_bin, "user", "passwd", "bob", "--auth-users", tmp], "pw2\n")
    assert r.returncode == 0, r.stderr
    assert open(tmp).read() != before and ":x\n" in open(tmp).read()
    assert cli([iiifd_bin, "user", "remove", "bob", "--auth-users", tmp]).returncode == 0
    assert "bob:" not in open(tmp).read()
    r = cli([iiifd_bin, "user", "remove", "bob", "--auth-users", tmp])
    assert r.returncode != 0 and "no user" in r.stderr


def test_public_folders_have_no_services(srv):
    for ident in ("open/img.png", "login/sub/free/img.png", "embargo-past/img.png"):
        r = info(srv, ident)
        assert r.status == 200, ident
        doc = r.json()
        assert "service" not in doc and doc["@context"] == "http://iiif.io/api/image/3/context.json"
        assert "public" in r.header("Cache-Control")
        assert srv.get(f"/iiif/3/{q(ident)}/full/max/0/default.png").status == 200
        assert probe(srv, ident)["status"] == 200


def test_policy_is_inherited_and_describes_services(srv):
    r = info(srv, "login/sub/img.png", headers={"Accept": "application/json"})
    assert r.status == 302  # Auth 1.0 tiers: to the degraded description
    assert r.header("Location").endswith(f"/iiif/3/{q('login/sub/img.png')};degraded/info.json")
    r = info(srv, "strict/img.png")
    assert r.status == 401 and r.header("Cache-Control") == "no-store"
    doc = r.json()
    assert doc["@context"] == ["http://iiif.io/api/auth/2/context.json",
                               "http://iiif.io/api/image/3/context.json"]
    probe_svc = next(s for s in doc["service"] if s.get("type") == "AuthProbeService2")
    assert probe_svc["id"] == f"{srv.base}/auth/2/probe/{q('strict/img.png')}"
    access = probe_svc["service"][0]
    assert access["type"] == "AuthAccessService2" and access["profile"] == "active"
    assert access["id"] == f"{srv.base}/auth/access/{realm('strict')}"
    for k in ("label", "heading", "note", "confirmLabel"):
        assert list(access[k]) == ["en"] and access[k]["en"][0]
    kinds = sorted(s["type"] for s in access["service"])
    assert kinds == ["AuthAccessTokenService2", "AuthLogoutService2"]
    v1 = next(s for s in doc["service"] if s.get("profile") == "http://iiif.io/api/auth/1/login")
    assert v1["@context"] == "http://iiif.io/api/auth/1/context.json"
    assert {s["profile"] for s in v1["service"]} == {"http://iiif.io/api/auth/1/token",
                                                     "http://iiif.io/api/auth/1/logout"}
    # Image API 2.1 gets the 1.0 services
    doc2 = info(srv, "strict/img.png", version=2).json()
    assert any(s.get("profile") == "http://iiif.io/api/auth/1/login" for s in doc2["service"])


def test_probe_anonymous_shows_substitute_and_texts(srv):
    res = probe(srv, "login/img.png")
    assert res["@context"] == "http://iiif.io/api/auth/2/context.json"
    assert res["type"] == "AuthProbeResult2" and res["status"] == 401
    assert res["heading"] == {"en": ["Registered readers only"]}
    assert res["note"] == {"en": ["Log in with your reader card."]}
    assert "location" not in res
    sub = res["substitute"][0]
    assert sub["type"] == "Image" and ";degraded" in sub["id"]
    r = srv.get(sub["id"].replace(srv.base, ""))
    assert r.status == 200
    img = r.image()
    assert max(img.size) == 400
    res = probe(srv, "strict/img.png")
    assert res["status"] == 401 and "substitute" not in res
    # unknown images: 404 like the Image API
    assert srv.get(f"/auth/2/probe/{q('login/nothing.png')}").status == 404


def test_degraded_tier_never_larger(srv):
    ident = q("login/img.png") + ";degraded"
    doc = srv.get(f"/iiif/3/{ident}/info.json").json()
    assert max(doc["width"], doc["height"]) == 400
    assert doc.get("maxWidth", 400) <= 400 and doc.get("maxHeight", 400) <= 400
    assert any(s.get("type") == "AuthProbeService2" for s in doc["service"])  # way to log in
    for url in ("full/max/0/default.jpg", "full/^max/0/default.jpg", "full/^800,/0/default.jpg",
                "0,0,100,100/^400,/0/default.jpg", "pct:0,0,10,10/^max/0/default.jpg"):
        r = srv.get(f"/iiif/3/{ident}/{url}")
        if r.status == 200:
            assert max(r.image().size) <= 400, url
        else:
            assert r.status in (400, 403), (url, r.status)
    # a policy without a degraded tier has none
    assert srv.get(f"/iiif/3/{q('strict/img.png')};degraded/info.json").status == 404
    assert srv.get(f"/iiif/3/{q('open/img.png')};degraded/info.json").status == 404


def test_login_flow_token_probe_logout(srv, auth_env):
    r, jar, csrf = open_access(srv, "login")
    assert r.status == 200 and b'type="password"' in r.body and csrf
    assert r.header("Content-Type").startswith("text/html")
    r, jar2 = post_form(srv, "login", jar, {"csrf": csrf, "user": "alice",
                                            "password": "correct horse"})
    assert r.status == 200 and b"window.close()" in r.body
    set_cookie = next(v for v in r.header_all("Set-Cookie") if v.startswith("iiifd_access="))
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
    msg, target = token2(srv, "login", jar2, message_id="abc 1")
    assert target == ORIGIN
    assert msg["type"] == "AuthAccessToken2" and msg["messageId"] == "abc 1"
    assert msg["@context"] == "http://iiif.io/api/auth/2/context.json"
    assert 0 < msg["expiresIn"] <= 300
    token = msg["accessToken"]
    assert token not in set_cookie and "alice" not in token  # opaque, not the cookie
    assert probe(srv, "login/img.png", token)["status"] == 200
    assert probe(srv, "login/sub/img.png", token)["status"] == 200
    assert probe(srv, "strict/img.png", token)["status"] == 401  # wrong role
    cookie = {"Cookie": cookie_header(jar2)}
    r = srv.get(f"/iiif/3/{q('login/img.png')}/full/max/0/default.png", headers=cookie)
    assert r.status == 200 and r.image().size == (1600, 1200)
    assert r.header("Cache-Control").startswith("private")
    r = info(srv, "login/img.png", headers=cookie)
    assert r.status == 200 and r.json()["width"] == 1600
    assert r.header("Cache-Control").startswith("private")
    # the 1.0 token service answers JSON without messageId
    r = srv.get(f"/auth/1/token/{realm('login')}", headers=cookie)
    assert r.status == 200 and r.json()["accessToken"]
    # logout: cookie cleared, session revoked (the old cookie and token stop working)
    r = srv.get("/auth/logout", headers=cookie)
    assert r.status == 200
    assert any(v.startswith("iiifd_access=;") for v in r.header_all("Set-Cookie"))
    assert srv.get(f"/iiif/3/{q('login/img.png')}/full/max/0/default.png",
                   headers=cookie).status == 401
    assert probe(srv, "login/img.png", token)["status"] == 401
    log = open(auth_env["log"]).read()
    assert " login user=alice from=127.0.0.1 login" in log and " logout user=alice" in log


def test_token_errors(srv):
    msg, _ = token2(srv, "login", {})
    assert msg["type"] == "AuthAccessTokenError2" and msg["profile"] == "missingAspect"
    assert msg["messageId"] == "m1" and msg["heading"]["en"][0]
    jar = {"iiifd_access": forge("c", WRONG_SECRET, user="alice", roles="reader")}
    msg, _ = token2(srv, "login", jar)
    assert msg["profile"] == "invalidAspect"
    msg, target = token2(srv, "login", {}, origin="javascript:alert(1)")
    assert msg["profile"] == "invalidOrigin" and target == "*"
    r = srv.get(f"/auth/2/token/{realm('login')}?origin={q(ORIGIN)}")
    assert b"invalidRequest" in r.body
    msg, _ = token2(srv, "nosuch", {})
    assert msg["profile"] == "invalidRequest"
    r = srv.get(f"/auth/1/token/{realm('login')}")
    assert r.status == 401 and r.json()["error"] == "missingCredentials"
    # script-breaking message ids are JSON-escaped
    msg, _ = token2(srv, "login", {}, message_id="</script><b>")
    assert msg["messageId"] == "</script><b>"


def test_login_needs_csrf_and_right_password(srv):
    _, jar, csrf = open_access(srv, "strict")
    r, _ = post_form(srv, "strict", jar, {"user": "sam", "password": "staff pass"})
    assert r.status == 403 and not any(v.startswith("iiifd_access=") for v in
                                       r.header_all("Set-Cookie"))
    r, _ = post_form(srv, "strict", {}, {"csrf": csrf, "user": "sam", "password": "staff pass"})
    assert r.status == 403  # the token without its cookie
    r, _ = post_form(srv, "strict", jar, {"csrf": csrf, "user": "sam", "password": "nope"})
    assert r.status == 401 and b"wrong password" in r.body
    r, jar = login(srv, "strict", "sam", "staff pass")
    assert r.status == 200
    r = srv.get(f"/iiif/3/{q('strict/img.png')}/full/200,/0/default.jpg",
                headers={"Cookie": cookie_header(jar)})
    assert r.status == 200


def test_login_attempts_are_throttled(srv, auth_env):
    for _ in range(5):
        r, _ = login(srv, "strict", "throttled-user", "bad")
        assert r.status == 401
    r, _ = login(srv, "strict", "throttled-user", "bad")
    assert r.status == 429 and r.header("Retry-After")
    assert "login-throttled user=throttled-user" in open(auth_env["log"]).read()
    # another account from the same address is still let in
    r, _ = login(srv, "strict", "sam", "staff pass")
    assert r.status == 200


def test_login_attempts_are_throttled_per_address(auth_env, server_factory):
    s = server_factory(args=["--auth-secrets", SECRET, "--auth-users", auth_env["users"]],
                       root_dir=auth_env["root"])
    for i in range(20):
        assert login(s, "strict", f"guess{i}", "bad")[0].status == 401
    r, _ = login(s, "strict", "sam", "staff pass")  # right password, but too many tries here
    assert r.status == 429


def test_clickthrough(srv):
    ident = "click/img.png"
    res = probe(srv, ident)
    assert res["status"] == 401
    doc = info(srv, ident).json()
    access = next(s for s in doc["service"] if s.get("type") == "AuthProbeService2")["service"][0]
    assert access["profile"] == "active" and access["confirmLabel"] == {"en": ["I agree"]}
    v1 = next(s for s in doc["service"] if "@context" in s)
    assert v1["profile"] == "http://iiif.io/api/auth/1/clickthrough"
    assert v1["description"] == "Do not publish these photographs."
    r, jar, csrf = open_access(srv, "click")
    assert b"Do not publish these photographs." in r.body and b"password" not in r.body
    r, jar = post_form(srv, "click", jar, {"csrf": csrf})
    assert r.status == 200
    msg, _ = token2(srv, "click", jar)
    assert probe(srv, ident, msg["accessToken"])["status"] == 200
    assert srv.get(f"/iiif/3/{q(ident)}/full/max/0/default.jpg",
                   headers={"Cookie": cookie_header(jar)}).status == 200
    # accepting one folder's terms opens no other
    assert probe(srv, "login/img.png", msg["accessToken"])["status"] == 401


def test_kiosk(srv):
    doc = info(srv, "kiosk/img.png").json()
    access = next(s for s in doc["service"] if s.get("type") == "AuthProbeService2")["service"][0]
    assert access["profile"] == "kiosk"
    # the address alone admits image requests from the kiosk range
    assert srv.get(f"/iiif/3/{q('kiosk/img.png')}/full/100,/0/default.jpg").status == 200
    r = srv.get(f"/auth/access/{realm('kiosk')}?origin={q(ORIGIN)}")
    assert r.status == 200 and b"window.close()" in r.body
    msg, _ = token2(srv, "kiosk", {}, origin=srv.base)  # the address alone: own origin
    assert msg["type"] == "AuthAccessToken2"
    assert probe(srv, "kiosk/img.png", msg["accessToken"])["status"] == 200
    # a kiosk elsewhere: refused, degraded tier offered
    r = srv.get(f"/auth/access/{realm('kioskfar')}?origin={q(ORIGIN)}")
    assert r.status == 403
    msg, _ = token2(srv, "kioskfar", {})
    assert msg["profile"] == "missingAspect"
    assert probe(srv, "kioskfar/img.png")["substitute"]


def test_embargo_and_broken_policy(srv):
    res = probe(srv, "embargo/img.png")
    assert res["status"] == 401 and res["heading"] == {"en": ["Under embargo"]}
    assert "2999-01-01" in res["note"]["en"][0] and res["substitute"]
    assert srv.get(f"/iiif/3/{q('embargo/img.png')}/full/max/0/default.jpg").status == 401
    # a broken access.yml admits nobody, and says nothing of a degraded tier
    assert info(srv, "broken/img.png").status == 401
    assert srv.get(f"/iiif/3/{q('broken/img.png')}/full/10,/0/default.jpg").status == 401
    jar = {"iiifd_access": forge("c", SECRET, user="sam", roles="staff")}
    assert srv.get(f"/iiif/3/{q('broken/img.png')}/full/10,/0/default.jpg",
                   headers={"Cookie": cookie_header(jar)}).status == 401


def test_key_rotation_and_forgeries(srv):
    url = f"/iiif/3/{q('strict/img.png')}/full/100,/0/default.jpg"
    for secret, want in ((SECRET, 200), (OLD_SECRET, 200), (WRONG_SECRET, 401)):
        jar = {"iiifd_access": forge("c", secret, user="sam", roles="staff")}
        assert srv.get(url, headers={"Cookie": cookie_header(jar)}).status == want, secret
    expired = forge("c", SECRET, user="sam", roles="staff", expires=time.time() - 5)
    assert srv.get(url, headers={"Cookie": "iiifd_access=" + expired}).status == 401
    # a token is no cookie, and a cookie is no token
    tok = forge("t", SECRET, user="~", roles="staff")
    assert srv.get(url, headers={"Cookie": "iiifd_access=" + tok}).status == 401
    assert probe(srv, "strict/img.png", tok)["status"] == 200
    assert probe(srv, "strict/img.png", forge("c", SECRET, user="sam", roles="staff"))["status"] == 401


def test_external_trusted_header(auth_env, iiifd_bin, server_factory):
    s = server_factory(args=["--auth-secrets", SECRET, "--auth-users", auth_env["users"],
                             "--auth-user-header", "X-Remote-User", "--auth-roles-header",
                             "X-Remote-Roles", "--trusted-proxies", "127.0.0.1"],
                       root_dir=auth_env["root"])
    url = f"/iiif/3/{q('external/img.png')}/full/50,/0/default.jpg"
    assert s.get(url).status == 401
    sso = {"X-Remote-User": "carol", "X-Remote-Roles": "staff"}
    assert s.get(url, headers=sso).status == 200
    assert s.get(url, headers={"X-Remote-User": "carol", "X-Remote-Roles": "guest"}).status == 401
    doc = s.get(f"/iiif/3/{q('external/img.png')}/info.json", headers=sso).json()
    access = next(x for x in doc["service"] if x.get("type") == "AuthProbeService2")["service"][0]
    assert access["profile"] == "external" and "id" not in access
    msg, _ = token2(s, "external", {})
    assert msg["profile"] == "missingAspect"
    # the same header from a server that trusts no proxy counts for nothing
    s2 = server_factory(args=["--auth-secrets", SECRET, "--auth-user-header", "X-Remote-User",
                              "--auth-roles-header", "X-Remote-Roles"], root_dir=auth_env["root"])
    assert s2.get(url, headers=sso).status == 401


def test_secure_cookie_behind_https(auth_env, server_factory):
    s = server_factory(args=["--auth-secrets", SECRET, "--auth-users", auth_env["users"],
                             "--public-url", "https://images.example.org"],
                       root_dir=auth_env["root"])
    r, jar = login(s, "login", "alice", "correct horse")
    cookie = next(v for v in r.header_all("Set-Cookie") if v.startswith("iiifd_access="))
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie
    doc = s.get(f"/iiif/3/{q('strict/img.png')}/info.json").json()
    assert doc["service"][0]["id"].startswith("https://images.example.org/auth/2/probe/")


def test_bad_secrets_refused(iiifd_bin, auth_env):
    r = cli([iiifd_bin, "serve", "--port", str(fx.free_port()), "--auth-secrets", "short",
             auth_env["root"]])
    assert r.returncode != 0 and "auth-secrets" in r.stderr


def test_logout_holds_on_every_node(auth_env, iiifd_bin, tmp_path):
    """Two nodes with the same secret and store (data-dir): a logout on one ends the session on
    the other, through the revocation list in the database."""
    shared = ["--auth-secrets", SECRET, "--auth-users", auth_env["users"],
              "--data-dir", str(tmp_path / "shared-data")]
    nodes = [fx.Server(iiifd_bin, auth_env["root"], str(tmp_path), args=shared,
                       name=f"node{i}").start() for i in range(2)]
    try:
        a, b = nodes
        _, jar = login(a, "strict", "sam", "staff pass")
        url = f"/iiif/3/{q('strict/img.png')}/full/80,/0/default.jpg"
        cookie = {"Cookie": cookie_header(jar)}
        assert a.get(url, headers=cookie).status == 200
        assert b.get(url, headers=cookie).status == 200  # one secret: every node accepts it
        assert a.get("/auth/logout", headers=cookie).status == 200
        assert b.get(url, headers=cookie).status == 401
    finally:
        for n in nodes:
            n.kill()


def test_policies_per_kind_of_resource(srv):
    """access.yml's media:, text: and downloads: govern those kinds; the rest follows policy:."""
    # images: public, no services
    assert "service" not in info(srv, "mixed/img.png").json()
    assert srv.get(f"/iiif/3/{q('mixed/img.png')}/full/50,/0/default.jpg").status == 200
    # OCR and search: staff only
    search = "/iiif/presentation/mixed/manifest/search?q=anything"
    assert srv.get(search).status == 401
    _, staff = login(srv, "mixed#text", "sam", "staff pass")
    assert srv.get(search, headers={"Cookie": cookie_header(staff)}).status == 200
    # the PDF: after the terms of the downloads policy, which open nothing else
    assert srv.get("/pdf/mixed/manifest").status == 401
    r, jar, csrf = open_access(srv, "mixed#downloads")
    assert b"Downloads are for research only." in r.body
    r, jar = post_form(srv, "mixed#downloads", jar, {"csrf": csrf})
    assert r.status == 200
    r = srv.get("/pdf/mixed/manifest", headers={"Cookie": cookie_header(jar)})
    assert r.status == 200 and r.body.startswith(b"%PDF")
    assert r.header("Cache-Control").startswith("private")
    assert srv.get(search, headers={"Cookie": cookie_header(jar)}).status == 401
    # the Manifest names the downloads' and text's services only where they apply: images none
    doc = srv.get("/iiif/presentation/mixed/manifest").json()
    assert "AuthProbeService2" not in str(doc)
    # kinds the file does not give have no access service
    assert srv.get(f"/auth/access/{realm('mixed#media')}").status == 404


def test_check_reports_policy_files(auth_env, iiifd_bin):
    """iiifd check reads access.yml as a policy (not as a Presentation sidecar): only the broken
    one is reported, with its line."""
    r = cli([iiifd_bin, "check", auth_env["root"], "--quiet"])
    lines = [l for l in r.stdout.splitlines() if "access.yml" in l]
    assert lines == [f"broken/access.yml:1: policy: expected one of public, login, clickthrough, "
                     f"kiosk, external, found 'sometimes'"], r.stdout
