"""A client generated from the contract reads the API's documented answers.

Generates a Python client from `infra/openapi.yaml` with the pinned openapi-python-client
(`scripts/requirements-dev.txt`) and fails on any warning it prints (each one is a response or a
schema left out of the client). Then imports that client and runs a journey against a fresh local
stack (`target/debug/local-gateway`), the client raising on any status the document does not list
for the operation, and parsing every answer into the model of its documented response, whose
`code` is an enum of that response's documented codes:

- sign-up with a malformed email: 400 `ValidationFailed`, `errors` naming `email`;
- sign-up, verification and sign-in: 201, 200 and the tokens;
- sign-in with a wrong password: 401 `InvalidCredentials`;
- the user list without a token: 401 `Unauthorized` (the authorizer's gateway response);
- the user list as a user outside the `admin` group: 403 `Forbidden`.

    python tests/contract/generated_client.py     # part of `make test`
"""

import importlib
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from local_stack import ROOT, LocalStack  # noqa: E402

PACKAGE = "cognito_auth_api_client"
WARNING = re.compile(r"warning|unable|cannot|error", re.IGNORECASE)


def generate(into):
    """The client package generated in `into`; exits on a warning."""
    result = subprocess.run(
        [
            os.path.join(ROOT, ".venv/bin/openapi-python-client"), "generate",
            "--path", os.path.join(ROOT, "infra/openapi.yaml"),
            "--meta", "none",
            "--config", os.path.join(ROOT, "tests/contract/openapi-python-client.yaml"),
        ],
        cwd=into, capture_output=True, text=True,
    )
    output = (result.stdout + result.stderr).strip()
    warnings = [line for line in output.splitlines() if WARNING.search(line)]
    if result.returncode != 0 or warnings:
        raise SystemExit(f"openapi-python-client did not generate cleanly (exit {result.returncode}):\n{output}")
    sys.path.insert(0, into)
    return importlib.import_module(PACKAGE)


def expect(response, status, model, code):
    """`response` is `status`, parsed into `model` (the generated class's name) with `code`."""
    parsed = response.parsed
    name = type(parsed).__name__
    got = getattr(getattr(parsed, "code", None), "value", None)
    if (int(response.status_code), name, got) != (status, model, code):
        raise SystemExit(
            f"expected {status} {model} {code}, got {int(response.status_code)} {name} {got}: {response.content!r}"
        )
    return parsed


def main():
    with tempfile.TemporaryDirectory() as into:
        client_package = generate(into)
        client_module = importlib.import_module(f"{PACKAGE}.client")
        auth = importlib.import_module(f"{PACKAGE}.api.auth")
        admin = importlib.import_module(f"{PACKAGE}.api.admin")
        models = importlib.import_module(f"{PACKAGE}.models")
        for name in ("sign_up", "verify_account", "sign_in"):
            importlib.import_module(f"{auth.__name__}.{name}")
        importlib.import_module(f"{admin.__name__}.list_users")

        with LocalStack("debug") as stack:
            client = client_module.Client(base_url=stack.base, raise_on_unexpected_status=True)
            username, password = f"gen-{os.getpid()}", "Generated-Passw0rd1"

            bad = auth.sign_up.sync_detailed(
                client=client,
                body=models.SignUpRequest.from_dict({"username": username, "password": password, "email": "not-an-email"}),
            )
            problem = expect(bad, 400, "SignUpResponse400", "ValidationFailed")
            sources = [error.source for error in problem.errors]
            if sources != ["email"]:
                raise SystemExit(f"the 400's errors name {sources}, not email")

            signed_up = auth.sign_up.sync_detailed(
                client=client,
                body=models.SignUpRequest.from_dict({"username": username, "password": password, "email": f"{username}@example.com"}),
            )
            if int(signed_up.status_code) != 201 or type(signed_up.parsed).__name__ != "SignUpResult":
                raise SystemExit(f"sign-up: {signed_up.status_code} {signed_up.content!r}")
            # The local Cognito accepts any confirmation code.
            verified = auth.verify_account.sync_detailed(
                client=client, body=models.VerifyAccountRequest.from_dict({"username": username, "code": "123456"})
            )
            if int(verified.status_code) != 200:
                raise SystemExit(f"verify-account: {verified.status_code} {verified.content!r}")
            signed_in = auth.sign_in.sync_detailed(
                client=client, body=models.SignInRequest.from_dict({"username": username, "password": password})
            )
            tokens = signed_in.parsed
            if int(signed_in.status_code) != 200 or type(tokens).__name__ != "Tokens":
                raise SystemExit(f"sign-in: {signed_in.status_code} {signed_in.content!r}")

            wrong = auth.sign_in.sync_detailed(
                client=client, body=models.SignInRequest.from_dict({"username": username, "password": "Wrong-Passw0rd1"})
            )
            expect(wrong, 401, "SignInResponse401", "InvalidCredentials")

            anonymous = admin.list_users.sync_detailed(client=client)
            expect(anonymous, 401, "ListUsersResponse401", "Unauthorized")

            member = client_package.AuthenticatedClient(
                base_url=stack.base, token=tokens.access_token, raise_on_unexpected_status=True
            )
            refused = admin.list_users.sync_detailed(client=member)
            expect(refused, 403, "ListUsersResponse403", "Forbidden")
    print("generated client: clean generation; 400, 401 (function and authorizer) and 403 parsed as documented")


if __name__ == "__main__":
    main()
