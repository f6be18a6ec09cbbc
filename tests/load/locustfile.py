"""The `make load` workload: each simulated user signs up, verifies and signs in once, then
mixes sign-ins, refreshes, `GET /auth/me`, a route the authorizer refuses it (`GET
/admin/users`, 403) and bad requests (400, 401), checking every answer's status.

Answers other than the expected one are counted as unexpected; 503s (the single-process
emulator overloaded, answered as `IdentityProviderUnavailable` with `Retry-After`) are counted
apart. Totals are written to the file named by LOAD_RESULTS at the end.
"""

import itertools
import json
import os
import threading

from locust import HttpUser, between, events, task

COUNTS = {"unexpected": 0, "unavailable": 0, "total": 0, "examples": []}
LOCK = threading.Lock()
SEQUENCE = itertools.count()
PASSWORD = "Load-Test-Passw0rd1"


def record(response, expected):
    with LOCK:
        COUNTS["total"] += 1
        if response.status_code == expected:
            response.success()
            return
        if response.status_code == 503:
            COUNTS["unavailable"] += 1
            response.success()
            return
        COUNTS["unexpected"] += 1
        if len(COUNTS["examples"]) < 10:
            COUNTS["examples"].append(f"{response.request.method} {response.request.path_url}: {response.status_code} {response.text[:200]}")
    response.failure(f"expected {expected}, got {response.status_code}")


class AccountUser(HttpUser):
    wait_time = between(0.05, 0.2)

    def on_start(self):
        self.username = f"load-{os.getpid()}-{next(SEQUENCE)}"
        body = {"username": self.username, "password": PASSWORD, "email": f"{self.username}@example.com"}
        with self.client.post("/auth/sign-up", json=body, name="sign-up", catch_response=True) as r:
            record(r, 201)
        with self.client.post("/auth/verify-account", json={"username": self.username, "code": "123456"}, name="verify", catch_response=True) as r:
            record(r, 200)
        self.sign_in()

    def sign_in(self):
        with self.client.post("/auth/sign-in", json={"username": self.username, "password": PASSWORD}, name="sign-in", catch_response=True) as r:
            record(r, 200)
            if r.status_code == 200:
                body = r.json()
                self.access = body["accessToken"]
                self.refresh_token = body["refreshToken"]

    @task(2)
    def signs_in(self):
        self.sign_in()

    @task(2)
    def refreshes(self):
        if not getattr(self, "refresh_token", None):
            return
        with self.client.post("/auth/refresh", json={"refreshToken": self.refresh_token}, name="refresh", catch_response=True) as r:
            record(r, 200)

    @task(5)
    def reads_its_profile(self):
        if not getattr(self, "access", None):
            return
        with self.client.get("/auth/me", headers={"authorization": f"Bearer {self.access}"}, name="me", catch_response=True) as r:
            record(r, 200)

    @task(1)
    def is_refused_an_admin_route(self):
        if not getattr(self, "access", None):
            return
        with self.client.get("/admin/users", headers={"authorization": f"Bearer {self.access}"}, name="admin (refused)", catch_response=True) as r:
            record(r, 403)

    @task(1)
    def sends_a_bad_body(self):
        with self.client.post("/auth/sign-in", data=b'{"username": 1', headers={"content-type": "application/json"}, name="bad body", catch_response=True) as r:
            record(r, 400)

    @task(1)
    def has_no_token(self):
        with self.client.get("/auth/me", name="no token", catch_response=True) as r:
            record(r, 401)


@events.test_stop.add_listener
def write_counts(environment, **_):
    path = os.environ.get("LOAD_RESULTS")
    if path:
        with open(path, "w") as f:
            json.dump(COUNTS, f)
