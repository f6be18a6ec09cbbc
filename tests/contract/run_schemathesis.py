"""Property-based API testing with schemathesis against a fresh local stack.

Starts `target/debug/local-gateway` on free ports (its own emulator, so a fresh, freshly seeded
state), creates a throwaway user through the API (sign-up, verify, sign-in: never the demo
admin), then runs `st run` on the stack's `/openapi.json` with that user's bearer token, a
fixed seed and a bounded number of examples per operation.

Pass: every answer conforms to the document (status, content type, headers, schema) and no
answer is a 500 (the documented 501 `NotEmulated` and 503 answers are allowed); schema-valid
requests are accepted and schema-invalid ones refused (`schemathesis.toml` lists the operations
where state decides instead, each with its reason); undocumented methods, missing required
headers and calls without credentials are refused.

    python tests/contract/run_schemathesis.py            # `make test`: 25 examples, seed 20261128
    python tests/contract/run_schemathesis.py --long     # `make fuzz-api`: 200 examples, stateful too
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from local_stack import ROOT, LocalStack, request_json  # noqa: E402

SEED = 20261128
# Every answer conforms to the document and is never a 500; a schema-valid request is accepted
# and a schema-invalid one refused (per-operation exceptions, where state decides, with their
# reasons in schemathesis.toml); an undocumented method, a missing required header and a
# protected operation called without credentials are refused.
CHECKS = [
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "no_internal_error",
    "positive_data_acceptance",
    "negative_data_rejection",
    "unsupported_method",
    "missing_required_header",
    "ignored_auth",
]


def throwaway_user(base):
    """A user of its own, signed in: the run never touches the demo admin."""
    username = f"st-{os.getpid()}-{time.time_ns()}"
    password = "Throwaway-Passw0rd1"
    status, body = request_json(base, "/auth/sign-up", {"username": username, "password": password, "email": f"{username}@example.com"})
    if status != 201:
        raise SystemExit(f"sign-up failed: {status} {body}")
    # The emulator accepts any confirmation code.
    status, body = request_json(base, "/auth/verify-account", {"username": username, "code": "123456"})
    if status != 200:
        raise SystemExit(f"verify failed: {status} {body}")
    status, body = request_json(base, "/auth/sign-in", {"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"sign-in failed: {status} {body}")
    return body["accessToken"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--long", action="store_true", help="the longer make fuzz-api run")
    args = parser.parse_args()

    with LocalStack("debug") as stack:
        base = stack.base
        env = dict(os.environ, SCHEMATHESIS_HOOKS="tests.contract.hooks", PYTHONPATH=ROOT)

        def schemathesis(token, operations, phases):
            command = [
                os.path.join(ROOT, ".venv/bin/st"),
                "--config-file", os.path.join(ROOT, "tests/contract/schemathesis.toml"),
                "run", base + "/openapi.json",
                "--url", base,
                "--checks", ",".join(CHECKS),
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


if __name__ == "__main__":
    sys.exit(main())
