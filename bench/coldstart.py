#!/usr/bin/env python3
"""coldstart.py - exec of `roomkey serve` to the first token served.

One process spawns the server and polls it over a socket, so no extra process
start-up (curl, grep) lands inside the measurement. Prints
"cold_us <best> <median>" over N runs. Env: ROOMKEY_* and LIVEKIT_* as the
server needs them, BENCH_JWT (a session JWT), BIN (the roomkey binary)."""
import http.client
import os
import socket
import subprocess
import sys
import time

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
binary = os.environ["BIN"]
body = b'{"roomId":"general"}'
headers = {"Authorization": "Bearer " + os.environ["BENCH_JWT"], "Content-Type": "application/json"}
times = []
for _ in range(runs):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen([binary, "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    host, port = line.strip().rsplit("//", 1)[1].rsplit(":", 1)
    while True:
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("POST", "/api/livekit/token", body, headers)
            r = c.getresponse()
            r.read()
            if r.status == 200:
                break
            raise SystemExit(f"unexpected status {r.status}")
        except (ConnectionRefusedError, socket.timeout):
            pass
    t1 = time.perf_counter_ns()
    p.terminate()
    p.wait()
    times.append((t1 - t0) // 1000)
times.sort()
print(f"cold_us {times[0]} {times[len(times) // 2]}")
