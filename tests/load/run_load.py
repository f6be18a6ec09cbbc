"""`make load`: the local stack under the locust workload in `locustfile.py` for 60 s on
loopback. Reports throughput, p50/p99 latency, unexpected answers (503s apart) and the
gateway's RSS after the warm-up and at the end. Exits non-zero on an unexpected answer or on
RSS growth of 10 % or more.
"""

import csv
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from local_stack import ROOT, LocalStack  # noqa: E402

USERS = int(os.environ.get("LOAD_USERS", "20"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
# Long enough for the gateway's bounded caches (256 policies, 1024 verified tokens) to fill at
# this workload's ~25 new tokens a second; growth after it would be a leak.
WARM_UP = 20


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    work = tempfile.mkdtemp(prefix="load-")
    with LocalStack("release") as stack:
        base = stack.base
        results = os.path.join(work, "counts.json")
        env = dict(os.environ, LOAD_RESULTS=results)
        locust = subprocess.Popen(
            [os.path.join(ROOT, ".venv/bin/locust"), "-f", os.path.join(ROOT, "tests/load/locustfile.py"),
             "--headless", "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "--host", base,
             "--csv", os.path.join(work, "load"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env,
        )
        # The RSS every 5 s, so a slow climb shows apart from a warm-up that fills bounded caches.
        started = time.time()
        samples = []
        while locust.poll() is None:
            time.sleep(5)
            samples.append((round(time.time() - started), rss_kib(stack.pid)))
        rss_start = next((kib for at, kib in samples if at >= WARM_UP), samples[0][1])
        rss_end = rss_kib(stack.pid)
        with open(results) as f:
            counts = json.load(f)
        with open(os.path.join(work, "load_stats.csv")) as f:
            rows = {row["Name"]: row for row in csv.DictReader(f)}
        total = rows["Aggregated"]
        growth = (rss_end - rss_start) / rss_start * 100 if rss_start else 0.0
        print()
        print(f"Load: {USERS} users, {SECONDS} s, loopback, gateway {stack.binary}")
        print("| request | count | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|")
        for name, row in sorted(rows.items()):
            if name != "Aggregated":
                print(f"| {name} | {row['Request Count']} | {row['50%']} | {row['99%']} |")
        print(f"| all | {total['Request Count']} | {total['50%']} | {total['99%']} |")
        print()
        print(f"throughput: {float(total['Requests/s']):.1f} requests/s")
        print(f"unexpected answers: {counts['unexpected']} of {counts['total']} (503 from an overloaded emulator, counted apart: {counts['unavailable']})")
        for example in counts["examples"]:
            print(f"  {example}")
        print("gateway RSS (s: MB):", ", ".join(f"{at}: {kib / 1024:.1f}" for at, kib in samples))
        print(f"gateway RSS: {rss_start / 1024:.1f} MB after {WARM_UP} s warm-up, {rss_end / 1024:.1f} MB at the end ({growth:+.1f} %)")
        ok = counts["unexpected"] == 0 and growth < 10.0
        print("targets (0 unexpected, RSS growth under 10 %):", "met" if ok else "MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
