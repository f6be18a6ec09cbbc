"""Schemathesis hooks for the API contract run: the throwaway user's token, and the one check
that goes beyond the document.

Any 5xx the document lists (501 `NotEmulated` on the local stack, 503 when a dependency is
unavailable, 502 when Cognito refuses this API's client) is allowed by the conformance checks;
a 500 never is: it means an unhandled case.
"""

import base64
import json
import os

import schemathesis
from hypothesis import strategies as st

TOKEN = os.environ.get("CONTRACT_BEARER_TOKEN")


def issued_by_the_stack(authorization):
    """A bearer token the stack signed (a link passed on the one it just got), rather than one
    the generator made up: its JOSE header names the signing key."""
    scheme, _, token = authorization.partition(" ")
    head = token.split(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return scheme == "Bearer" and token.count(".") == 2 and isinstance(header, dict) and "kid" in header


@schemathesis.auth(refresh_interval=None, retry_on=[])
class ThrowawayUser:
    """The throwaway user's bearer token on every request, except one that carries a token the
    stack issued: a stateful link (sign-in → me) brings the token it just got, and keeps it."""

    def get(self, case, ctx):
        return TOKEN

    def set(self, case, data, ctx):
        if data is None:
            return
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        linked = next((v for k, v in (case.headers or {}).items() if k.lower() == "authorization"), None)
        keep = isinstance(linked, str) and issued_by_the_stack(linked)
        headers["Authorization"] = linked if keep else f"Bearer {data}"
        case.headers = headers


@schemathesis.check
def no_internal_error(ctx, response, case):
    if response.status_code == 500:
        raise AssertionError(f"500 Internal Server Error: {response.text[:300]}")
    return None


# Sign-ups the pool accepts (its password policy wants lower case, upper case and a digit), mixed
# in with the generated ones, so the stateful phase's links (sign-up → verify, sign-up →
# sign-in → me, sign-in → refresh) start from an account that exists often enough to be walked.
ACCEPTED_SIGN_UP = st.builds(
    lambda name, secret: {"username": name, "password": f"Aa1-{secret}", "email": f"{name}@example.com"},
    st.from_regex(r"[a-z][a-z0-9]{5,20}", fullmatch=True),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=20),
)


@schemathesis.hook
def before_generate_body(context, strategy):
    if context.operation is not None and context.operation.label == "POST /auth/sign-up":
        return st.one_of(strategy, ACCEPTED_SIGN_UP)
    return strategy
