"""The token services serve only the origins the access service was opened for (Auth 2.0 and 1.0
let a server check the token service's `origin` against the access service's): the origin is
remembered, signed, in the access cookie, and a token request from another page's origin gets
AuthAccessTokenError2 `invalidOrigin` (1.0: error `invalidOrigin`), never a token. Access that
the address or a trusted header gives alone needs no access service, so no origin."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from auth_fixtures import (  # noqa: E402
    ALICE, ORIGIN, SECRET, cookie_header, cookies_from, forge, login, make_auth_env,
    make_auth_root, open_access, post_form, probe, q, realm, token1, token2, token_page)

OTHER = "http://other.example.net"


@pytest.fixture(scope="module")
def srv(tmp_path_factory, iiifd_bin):
    base = str(tmp_path_factory.mktemp("authorigin"))
    root, users = make_auth_env(base, iiifd_bin, ALICE)
    log = os.path.join(base, "auth.log")
    server = fx.Server(iiifd_bin, root, str(tmp_path_factory.mktemp("authoriginsrv")),
                       args=["--auth-secrets", SECRET, "--auth-users", users, "--auth-log", log],
                       name="authorigin")
    server.auth_log = log
    with fx.serving(server) as s:
        yield s


def test_login_token_only_for_the_access_services_origin(srv):
    r, jar = login(srv, "login", "alice", "correct horse")
    assert r.status == 200
    msg, target = token2(srv, "login", jar)
    assert msg["type"] == "AuthAccessToken2" and target == ORIGIN
    assert probe(srv, "login/img.png", msg["accessToken"])["status"] == 200
    # another page, the same browser (so the same cookie): refused, told so at its own origin
    msg, target = token2(srv, "login", jar, message_id="x7", origin=OTHER)
    assert msg["type"] == "AuthAccessTokenError2" and msg["profile"] == "invalidOrigin"
    assert msg["messageId"] == "x7" and "accessToken" not in msg and target == OTHER
    assert msg["heading"]["en"][0] and msg["note"]["en"][0]
    # Auth 1.0: by postMessage and as JSON
    msg, target = token1(srv, "login", jar, ORIGIN)
    assert msg["accessToken"] and target == ORIGIN
    msg, target = token1(srv, "login", jar, OTHER)
    assert msg["error"] == "invalidOrigin" and "accessToken" not in msg and target == OTHER
    cookie = {"Cookie": cookie_header(jar)}
    r = srv.get(f"/auth/1/token/{realm('login')}?origin={q(OTHER)}", headers=cookie)
    assert r.status == 401 and r.json()["error"] == "invalidOrigin"
    r = srv.get(f"/auth/1/token/{realm('login')}?origin={q(ORIGIN + '/')}", headers=cookie)
    assert r.status == 200 and r.json()["accessToken"]  # 1.0's examples end the origin with /
    # the JSON form without origin: readable by the server's own pages only (CORS has no
    # credentials), so served
    r = srv.get(f"/auth/1/token/{realm('login')}", headers=cookie)
    assert r.status == 200 and r.json()["accessToken"]
    # the cookie still gives the images themselves, whatever page shows them
    r = srv.get(f"/iiif/3/{q('login/img.png')}/full/100,/0/default.jpg", headers=cookie)
    assert r.status == 200
    log = open(srv.auth_log).read()
    assert f" token-refused-origin user=alice from=127.0.0.1 {OTHER}" in log


def test_second_origin_after_its_own_access_service_visit(srv):
    _, jar = login(srv, "login", "alice", "correct horse")
    assert token2(srv, "login", jar, origin=OTHER)[0]["profile"] == "invalidOrigin"
    _, jar, csrf = open_access(srv, "login", jar)
    r, jar = post_form(srv, "login", jar, {"csrf": csrf, "user": "alice",
                                           "password": "correct horse"}, origin=OTHER)
    assert r.status == 200
    for origin in (ORIGIN, OTHER):
        assert token2(srv, "login", jar, origin=origin)[0]["type"] == "AuthAccessToken2", origin


def test_access_service_opened_without_origin_gives_no_token(srv):
    r, jar = login(srv, "login", "alice", "correct horse", origin=None)
    assert r.status == 200
    for origin in (ORIGIN, OTHER):
        msg, _ = token2(srv, "login", jar, origin=origin)
        assert msg["profile"] == "invalidOrigin", origin
    # an access cookie signed right but with no origins (as one made before origins were kept)
    jar = {"iiifd_access": forge("c", SECRET, user="alice", roles="reader", sid="1" * 32)}
    assert token2(srv, "login", jar)[0]["profile"] == "invalidOrigin"
    jar = {"iiifd_access": forge("c", SECRET, user="alice", roles="reader", sid="2" * 32,
                                 origins=[ORIGIN])}
    assert token2(srv, "login", jar)[0]["type"] == "AuthAccessToken2"


def test_clickthrough_remembers_the_origin(srv):
    _, jar, csrf = open_access(srv, "click")
    r, jar = post_form(srv, "click", jar, {"csrf": csrf})
    assert r.status == 200
    assert token2(srv, "click", jar)[0]["type"] == "AuthAccessToken2"
    msg, target = token2(srv, "click", jar, origin=OTHER)
    assert msg["profile"] == "invalidOrigin" and target == OTHER


def test_kiosk_visit_remembers_the_origin_and_address_alone_serves_the_own_origin(srv):
    # the kiosk's address range admits by itself: the server's own pages get a token, another
    # site's page only when auth-origins lists it (below) or after an access service visit
    assert token2(srv, "kiosk", {}, origin=srv.base)[0]["type"] == "AuthAccessToken2"
    msg, target = token2(srv, "kiosk", {}, origin=OTHER)
    assert msg["profile"] == "invalidOrigin" and target == OTHER
    msg, _ = token1(srv, "kiosk", {}, OTHER)
    assert msg["error"] == "invalidOrigin" and "accessToken" not in msg
    # after a kiosk visit the cookie lists the visit's origin, and the address still admits
    r = srv.get(f"/auth/access/{realm('kiosk')}?origin={q(ORIGIN)}")
    jar = cookies_from(r)
    assert r.status == 200 and jar.get("iiifd_access")
    assert token2(srv, "kiosk", jar)[0]["type"] == "AuthAccessToken2"
    assert token2(srv, "kiosk", jar, origin=srv.base)[0]["type"] == "AuthAccessToken2"
    assert token2(srv, "kiosk", jar, origin=OTHER)[0]["profile"] == "invalidOrigin"


def sso_token2(s, folder, origin, headers):
    return token_page(s, 2, folder, None, origin=origin, headers=headers)


THIRD = "https://viewer.example.org"


def test_auth_origins_lists_the_pages_an_address_or_header_serves(tmp_path, iiifd_bin,
                                                                   server_factory):
    root = make_auth_root(str(tmp_path))
    s = server_factory(args=["--auth-secrets", SECRET, "--auth-user-header", "X-Remote-User",
                             "--auth-roles-header", "X-Remote-Roles", "--trusted-proxies",
                             "127.0.0.1", "--auth-origins", f"{OTHER}, {THIRD}/"],
                       root_dir=root)
    sso = {"X-Remote-User": "carol", "X-Remote-Roles": "staff"}
    for origin in (s.base, OTHER, THIRD):
        assert sso_token2(s, "external", origin, sso)[0]["type"] == "AuthAccessToken2", origin
        assert token2(s, "kiosk", {}, origin=origin)[0]["type"] == "AuthAccessToken2", origin
    msg, target = sso_token2(s, "external", "http://evil.example.com", sso)
    assert msg["profile"] == "invalidOrigin" and target == "http://evil.example.com"
    assert "accessToken" not in msg
    msg, _ = token2(s, "kiosk", {}, origin="http://evil.example.com")
    assert msg["profile"] == "invalidOrigin"
    # a prefix of a listed origin is not that origin
    assert sso_token2(s, "external", "http://other.example", sso)[0]["profile"] == "invalidOrigin"
    # without the header the external policy still gives nothing, whatever the origin
    assert sso_token2(s, "external", OTHER, {})[0]["profile"] == "missingAspect"


def test_trusted_header_without_auth_origins_serves_the_own_origin_only(tmp_path, iiifd_bin,
                                                                        server_factory):
    root = make_auth_root(str(tmp_path))
    s = server_factory(args=["--auth-secrets", SECRET, "--auth-user-header", "X-Remote-User",
                             "--auth-roles-header", "X-Remote-Roles", "--trusted-proxies",
                             "127.0.0.1"], root_dir=root)
    sso = {"X-Remote-User": "carol", "X-Remote-Roles": "staff"}
    msg, target = sso_token2(s, "external", s.base, sso)
    assert msg["type"] == "AuthAccessToken2" and target == s.base
    for other in (OTHER, ORIGIN):
        msg, target = sso_token2(s, "external", other, sso)
        assert msg["profile"] == "invalidOrigin" and target == other
