"""Property-based API testing with schemathesis against a fresh local stack.

Starts `target/debug/local-gateway` on free ports (its own emulator, so a fresh, freshly seeded
state), creates a throwaway user through the API (sign-up, verify, sign-in: never the demo
admin), then runs `st run` on the stack's `/openapi.json` with that user's bearer token, a
fixed seed and a bounded number of examples per operation.

Pass: every answer conforms to the document (status, content type, headers, schema) and no
answer is a 500. The documented 501 `NotEmulated` and 503 answers are allowed.

    python tests/contract/run_schemathesis.py            # `make test`: 25 examples, seed 20261128
    python tests/contract/run_schemathesis.py --long     # `make fuzz-api`: 200 examples, stateful too
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = 20261128


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def post(base, path, body):
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def throwaway_user(base):
    """A user of its own, signed in: the run never touches the demo admin."""
    username = f"st-{os.getpid()}-{time.time_ns()}"
    password = "Throwaway-Passw0rd1"
    status, body = post(base, "/auth/sign-up", {"username": username, "password": password, "email": f"{username}@example.com"})
    if status != 201:
        raise SystemExit(f"sign-up failed: {status} {body}")
    # The emulator accepts any confirmation code.
    status, body = post(base, "/auth/verify-account", {"username": username, "code": "123456"})
    if status != 200:
        raise SystemExit(f"verify failed: {status} {body}")
    status, body = post(base, "/auth/sign-in", {"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"sign-in failed: {status} {body}")
    return body["accessToken"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--long", action="store_true", help="the longer make fuzz-api run")
    args = parser.parse_args()

    gateway, emulator, oauth = free_port(), free_port(), free_port()
    stack = subprocess.Popen(
        [os.path.join(ROOT, "target/debug/local-gateway"), "--port", str(gateway),
         "--emulator-port", str(emulator), "--oauth-port", str(oauth)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{gateway}"
        wait_for(base + "/openapi.json")
        env = dict(os.environ, SCHEMATHESIS_HOOKS="tests.contract.hooks", PYTHONPATH=ROOT)

        def schemathesis(token, operations, phases):
            command = [
                os.path.join(ROOT, ".venv/bin/st"), "run", base + "/openapi.json",
                "--url", base,
                "--checks", "status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,no_internal_error",
                "--seed", str(SEED),
                "--workers", "1",
                "--request-timeout", "20",
                "--max-redirects", "0",
                "--suppress-health-check", "all",
                "--warnings", "off",
            ] + operations
            command += ["--max-examples", "200" if args.long else "25", "--phases", phases]
            if args.long:
                command += ["--continue-on-failure"]
            print(" ".join(command), "(the throwaway user's token in CONTRACT_BEARER_TOKEN)", flush=True)
            return subprocess.call(command, cwd=ROOT, env=dict(env, CONTRACT_BEARER_TOKEN=token))

        # Logging out and deleting the account end the user's sessions: those two run last,
        # with a user of their own, so every other operation is tried signed in.
        ending = ["logout", "deleteMe"]
        # The operations the document links (sign-up → verify, sign-up → sign-in → me,
        # sign-in → refresh → me, forgot → confirm): walked on their own in the long run, so
        # each link is followed, not only the few a run over every operation reaches.
        linked = ["signUp", "verifyAccount", "resendCode", "signIn", "getMe", "refreshTokens",
                  "forgotPassword", "confirmForgotPassword"]
        phases = "examples,coverage,fuzzing" if args.long else "examples,fuzzing"
        runs = [
            ([f"--exclude-operation-id={o}" for o in ending], phases + (",stateful" if args.long else "")),
            ([f"--include-operation-id={o}" for o in ending], phases),
        ]
        if args.long:
            runs.append(([f"--include-operation-id={o}" for o in linked], "stateful"))
        failed = 0
        for operations, run_phases in runs:
            failed |= schemathesis(throwaway_user(base), operations, run_phases)
        return failed
    finally:
        stack.terminate()
        try:
            stack.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stack.kill()


if __name__ == "__main__":
    sys.exit(main())
