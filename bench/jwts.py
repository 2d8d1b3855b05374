#!/usr/bin/env python3
"""jwts.py - session JWTs for bench/scale.sh's token load.

Usage: jwts.py SECRET N ROOMS MEMBERS > FILE. Prints N lines "JWT ROOM": an
HS256 session JWT (valid one day) for member k of the big store and the room
that member belongs to, for k spread evenly over the MEMBERS memberships.
Subjects and rooms are named as bench/scale.sh names them: subject_of(k) and
room_of(k) below must match its SQL."""
import base64
import hashlib
import hmac
import json
import sys
import time


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def subject_of(k):
    return "%08x-0000-4000-8000-%012x" % (k, k)


def room_of(k, rooms):
    return "room-%06d" % (k % rooms)


secret, n, rooms, members = sys.argv[1].encode(), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
now = int(time.time())
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
for i in range(n):
    k = 1 + i * (members // n)
    claims = {"sub": subject_of(k), "iat": now, "exp": now + 86400, "name": "Member %d" % k}
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    print(f"{head}.{body}.{sig} {room_of(k, rooms)}")
