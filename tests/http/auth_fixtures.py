"""Fixtures for the access-control tests: a root with one folder per policy, a users file made
with `iiifd user add`, and helpers that log in, fetch tokens and forge tokens like the server
signs them (HMAC-SHA256 over base64url JSON) with a known or a wrong secret."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse

import numpy as np
from PIL import Image

import fixtures as fx

SECRET = "test-secret-0123456789abcdef"
OLD_SECRET = "previous-secret-0123456789"
WRONG_SECRET = "not-the-secret-0123456789ab"
ORIGIN = "http://viewer.example.org"

POLICIES = {
    "open": None,
    "login": "policy: login\nroles: [reader, staff]\ndegraded: 400\n"
             "heading: Registered readers only\nnote: Log in with your reader card.\n",
    "login/sub": None,  # inherits login
    "login/sub/free": "policy: public\n",
    "strict": "policy: login\nroles: staff\n",
    "click": "policy: clickthrough\nterms: Do not publish these photographs.\n"
             "confirm-label: I agree\n",
    "kiosk": "policy: kiosk\naddresses: [127.0.0.0/8]\n",
    "kioskfar": "policy: kiosk\naddresses: [192.0.2.0/24]\ndegraded: 300\n",
    "external": "policy: external\ntrusted-header: true\nroles: staff\n",
    "embargo": "policy: public\nembargo-until: 2999-01-01\ndegraded: 300\n",
    "embargo-past": "policy: public\nembargo-until: 2000-01-01\n",
    "broken": "policy: sometimes\n",
    # one folder, a policy per kind of resource: images open, OCR for staff, PDFs after terms
    "mixed": "policy: public\ntext:\n  policy: login\n  roles: staff\ndownloads:\n"
             "  policy: clickthrough\n  terms: Downloads are for research only.\n",
}


def grid_image(path, w=1600, h=1200):
    """A colour grid (8x6 squares) with fine stripes: detail that a small copy cannot hold."""
    ys, xs = np.mgrid[0:h, 0:w]
    arr = np.zeros((h, w, 3), np.uint8)
    arr[..., 0] = (xs * 8 // w) * 30
    arr[..., 1] = (ys * 6 // h) * 40
    arr[..., 2] = np.where((xs // 2) % 2 == 0, 255, 0)  # 2-px stripes
    Image.fromarray(arr).save(path)


def make_auth_root(base):
    root = os.path.join(base, "root")
    for folder, policy in POLICIES.items():
        d = os.path.join(root, folder)
        os.makedirs(d, exist_ok=True)
        grid_image(os.path.join(d, "img.png"))
        if policy:
            with open(os.path.join(d, "access.yml"), "w") as f:
                f.write(policy)
    # a pyramidal tiled TIFF: tiles are passed through without decoding
    fx.run(["vips", "tiffsave", os.path.join(root, "login", "img.png"),
            os.path.join(root, "login", "tiled.tif"), "--tile", "--pyramid",
            "--tile-width", "256", "--tile-height", "256", "--compression", "jpeg"])
    return root


ALICE = ("alice", "correct horse", "reader")


def make_auth_env(base, binary, *people):
    """make_auth_root(base) and a users file beside it with people, (name, password, roles)
    each. Returns (root, users file)."""
    root = make_auth_root(base)
    users = os.path.join(base, "users")
    for name, password, roles in people:
        add_user(binary, users, name, password, roles)
    return root, users


def add_user(binary, users, name, password, roles):
    r = subprocess.run([binary, "user", "add", name, "--roles", roles, "--auth-users", users],
                       input=password + "\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(kind, secret, user="", roles="", grants=(), expires=None, sid="0" * 32, origins=()):
    claims = {"e": int(expires if expires is not None else time.time() + 300), "g": list(grants),
              "k": kind, "r": roles, "s": sid, "u": user}
    if origins:
        claims["o"] = list(origins)
    body = b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return body + "." + b64(mac)


def q(identifier):
    return urllib.parse.quote(identifier, safe="")


def cookies_from(resp, jar=None):
    jar = dict(jar or {})
    for v in resp.header_all("Set-Cookie"):
        name, _, rest = v.partition("=")
        value = rest.split(";")[0]
        if value:
            jar[name] = value
        else:
            jar.pop(name, None)
    return jar


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def realm(folder):
    return q("/" + folder)


def open_access(server, folder, jar=None):
    """GETs the access service page; returns (response, jar, csrf)."""
    r = server.get(f"/auth/access/{realm(folder)}?origin={q(ORIGIN)}",
                   headers={"Cookie": cookie_header(jar or {})})
    jar = cookies_from(r, jar)
    m = re.search(rb'name="csrf" value="([^"]+)"', r.body)
    return r, jar, m.group(1).decode() if m else None


def send(port, path, method, headers, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(body)
        r = conn.getresponse()
        return fx.Response(r.status, r.reason, r.getheaders(), r.read(), 0)
    finally:
        conn.close()


def post_form(server, folder, jar, fields, origin=ORIGIN):
    """POSTs the access service's form to the page's own URL, its ?origin= included, as a
    browser does with a form that has no action (origin None: a page opened without one)."""
    body = urllib.parse.urlencode(fields).encode()
    conn_headers = {"Cookie": cookie_header(jar), "Content-Type":
                    "application/x-www-form-urlencoded", "Content-Length": str(len(body))}
    path = f"/auth/access/{realm(folder)}" + (f"?origin={q(origin)}" if origin else "")
    r = send(server.port, path, "POST", conn_headers, body)
    return r, cookies_from(r, jar)


def login(server, folder, user, password, origin=ORIGIN):
    _, jar, csrf = open_access(server, folder)
    r, jar = post_form(server, folder, jar, {"csrf": csrf, "user": user, "password": password},
                       origin)
    return r, jar


def token_page(server, version, folder, jar, message_id="m1", origin=ORIGIN, headers=None):
    """The token service's postMessage page (Auth 2.0, or 1.0 with version 1), parsed: (message,
    targetOrigin). jar: the cookies to send (None: no Cookie header); headers: more (a trusted
    proxy's)."""
    headers = dict(headers or {})
    if jar is not None:
        headers["Cookie"] = cookie_header(jar)
    r = server.get(f"/auth/{version}/token/{realm(folder)}?messageId={q(message_id)}"
                   f"&origin={q(origin)}", headers=headers)
    assert r.status == 200
    m = re.search(rb"postMessage\((\{.*\}), (\"[^\"]*\")\);", r.body)
    assert m, r.body
    return json.loads(m.group(1)), json.loads(m.group(2))


def token2(server, folder, jar, message_id="m1", origin=ORIGIN):
    return token_page(server, 2, folder, jar, message_id, origin)


def token1(server, folder, jar, origin=ORIGIN, message_id="m1"):
    return token_page(server, 1, folder, jar, message_id, origin)


def probe(server, identifier, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    r = server.get(f"/auth/2/probe/{q(identifier)}", headers=headers)
    assert r.status == 200, (r.status, r.body)  # the probe itself is always 200
    return r.json()
