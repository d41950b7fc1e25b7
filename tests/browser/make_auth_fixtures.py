"""The library of the authorization browser tests (tests_auth.mjs): one folder per policy, each a
Manifest of one image, and a users file made with `iiifd user add`. Prints a JSON summary."""

import json
import os
import subprocess
import sys

from PIL import Image

POLICIES = {
    "auth-login": "policy: login\nroles: reader\ndegraded: 300\nlabel: Log in to the test library\n"
                  "heading: Readers only\nnote: Please log in with your reader account.\n",
    "auth-click": "policy: clickthrough\nterms: These photographs may not be published.\n"
                  "confirm-label: I agree\n",
    "auth-kiosk": "policy: kiosk\naddresses: [127.0.0.0/8]\n",
    "auth-strict": "policy: login\nroles: reader\nlabel: Log in to the test library\n"
                   "confirm-label: Log in\n",
}
WIDTH, HEIGHT = 1200, 900


def main(out, binary):
    root = os.path.join(out, "root")
    for i, (folder, policy) in enumerate(POLICIES.items()):
        d = os.path.join(root, folder)
        os.makedirs(d, exist_ok=True)
        # the Mirador test zooms into auth-strict: deeper levels than the first view asked for
        size = (4 * WIDTH, 4 * HEIGHT) if folder == "auth-strict" else (WIDTH, HEIGHT)
        Image.new("RGB", size, (40 + 60 * i, 120, 200 - 50 * i)).save(os.path.join(d, "img.png"))
        with open(os.path.join(d, "access.yml"), "w") as f:
            f.write(policy)
    users = os.path.join(out, "users")
    if os.path.exists(users):
        os.remove(users)
    subprocess.run([binary, "user", "add", "alice", "--roles", "reader", "--auth-users", users],
                   input="reader pass\n", text=True, check=True, capture_output=True)
    print(json.dumps({"root": root, "users": users, "user": "alice", "password": "reader pass",
                      "width": WIDTH, "height": HEIGHT, "degraded": 300,
                      "folders": list(POLICIES)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
