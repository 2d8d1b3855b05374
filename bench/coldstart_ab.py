#!/usr/bin/env python3
"""coldstart_ab.py - two or more builds' cold starts side by side.

Usage: coldstart_ab.py N BIN [BIN...], with the environment coldstart.py
needs (ROOMKEY_* and LIVEKIT_* as the server needs them, BENCH_JWT);
coldstart_ab.sh sets it and a store up.

Each round starts every binary once, in turn (the order alternates from one
round to the next), and measures what coldstart.py measures: spawn of
`BIN serve` to its first token answered. Beside it, read the moment the
answer is in: the server's own CPU time so far (all its threads,
/proc/PID/task/*/schedstat) and its minor page faults (/proc/PID/stat).
On a shared machine the wall time swings with the load; the CPU time and
the faults are the server's own work and compare builds more steadily.
Prints best, quartiles and median of each figure per binary."""
import http.client
import os
import subprocess
import sys
import time

body = b'{"roomId":"general"}'
headers = {"Authorization": "Bearer " + os.environ["BENCH_JWT"], "Content-Type": "application/json"}


def server_cpu_ms(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total / 1e6


def minor_faults(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def one(binary):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen([binary, "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    host, port = line.strip().rsplit("//", 1)[1].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("POST", "/api/livekit/token", body, headers)
    r = c.getresponse()
    r.read()
    t1 = time.perf_counter_ns()
    if r.status != 200:
        raise SystemExit(f"{binary}: unexpected status {r.status}")
    figures = ((t1 - t0) / 1e6, server_cpu_ms(p.pid), minor_faults(p.pid))
    p.terminate()
    p.wait()
    return figures


def main():
    rounds = int(sys.argv[1])
    bins = sys.argv[2:]
    res = {b: [] for b in bins}
    for i in range(rounds):
        for b in bins if i % 2 == 0 else bins[::-1]:
            res[b].append(one(b))
    for b in bins:
        for j, name in enumerate(["wall ms", "cpu ms", "faults"]):
            v = sorted(x[j] for x in res[b])
            k = len(v)
            print(f"{b:40s} {name:8s} best {v[0]:8.2f}  p25 {v[k // 4]:8.2f}  "
                  f"median {v[k // 2]:8.2f}  p75 {v[3 * k // 4]:8.2f}  (n={k})")


main()
