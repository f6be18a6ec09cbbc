"""Schemathesis hooks for the API contract run: the one check that goes beyond the document.

Any 5xx the document lists (501 `NotEmulated` on the local stack, 503 when a dependency is
unavailable, 502 when Cognito refuses this API's client) is allowed by the conformance checks;
a 500 never is: it means an unhandled case.
"""

import schemathesis


@schemathesis.check
def no_internal_error(ctx, response, case):
    if response.status_code == 500:
        raise AssertionError(f"500 Internal Server Error: {response.text[:300]}")
    return None
