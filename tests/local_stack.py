"""The local stack for the Python tools (the browser journey, the schemathesis run, the load
run): `local-gateway` started on free loopback ports with its own emulator, so a fresh, freshly
seeded state, waited for, and stopped however the run ends.

    with LocalStack("debug") as stack:
        status, body = request_json(stack.base, "/auth/sign-in", {"username": ..., "password": ...})
"""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


def wait_for_url(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def request_json(base, path, body=None, token=None):
    """GET `path`, or POST `body` as JSON; the status and the decoded answer, errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST")
    if body is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class LocalStack:
    """`target/<profile>/local-gateway` on free ports: `base` is the API, `login_site` the pool
    domain's stand-in, `pid` the gateway's process."""

    def __init__(self, profile="debug"):
        self.binary = os.path.join(ROOT, "target", profile, "local-gateway")
        self.gateway, self.emulator, self.oauth = free_port(), free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.gateway}"
        self.login_site = f"http://localhost:{self.oauth}"
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.gateway), "--emulator-port", str(self.emulator),
             "--oauth-port", str(self.oauth)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_url(self.base + "/openapi.json")
            wait_for_port(self.oauth)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @property
    def pid(self):
        return self.process.pid

    def __exit__(self, *_):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return False
