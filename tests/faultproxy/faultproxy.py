#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between polyarch and a real docker-registry.

    faultproxy.py --upstream 127.0.0.1:5000 [--seed N] [--rate 0.2]
                  [--faults 500,502,...] [--stall SECONDS] [--retry-after SECONDS]
                  [--log FILE]

Listens on 127.0.0.1, port 0, and prints "listening on 127.0.0.1:PORT". Every
request goes to the registry unchanged (the Host header too, so the
registry's Location URLs point back at the proxy), except that a request
draws a fault with probability --rate. The draw is seeded by --seed, the
request's method, its path with upload ids left out, and how many times that
same request came before, so a client that sends the same requests gets the
same faults whatever the thread interleaving. Fault kinds:

  500, 503    the proxy answers with that status (a registry-style JSON
              error) and the registry never sees the request
  429         the same, with "Retry-After: <--retry-after>"
  502         the registry handles the request, then the proxy answers 502
              instead of its response (the work is done, the answer lost)
  reset       the registry handles the request, then the proxy resets the
              connection before any byte of the response
  stall       the proxy says nothing for --stall seconds, then closes the
              connection; the registry never sees the request
  cut         a GET's response body ends half-way (Content-Length says more)
  digest      a wrong Docker-Content-Digest header on a response that has one
  manifest    a manifest GET whose bytes no longer match its digest (a space
              after the first "{": still valid JSON, a different sha256)

cut, digest and manifest only apply where they can (a 2xx GET with a body, a
response with Docker-Content-Digest, a 2xx manifest GET); elsewhere the
request goes through untouched and no fault is counted.

Control endpoints (never forwarded, never faulted):
  GET  /_faultproxy/counters  JSON: requests by "METHOD kind", responses by
                              "METHOD kind STATUS", faults by kind and by
                              "METHOD kind fault", blob digests uploaded
                              (PUT ?digest= answered 201) and mounted, how
                              many uploads were held and how many of those
                              were dropped (client gone)
  POST /_faultproxy/config    JSON object merged into the settings: rate,
                              seed, faults (list), stall, retry_after,
                              hold_uploads_after (int or null)
  POST /_faultproxy/reset     zeroes the counters and the request history

hold_uploads_after K lets the next K blob-upload PUT/PATCH requests through
and holds every later one once its body is in: no answer, nothing
forwarded, until the client goes away (then it is dropped) or the hold is
lifted (then it is forwarded). Tests use it to SIGKILL a client mid-upload
with an exact number of blobs already in the registry.

Path kinds: base (/v2/), catalog, tags, manifest, blob, blob-upload,
blob-mount (POST …/blobs/uploads/?mount=), other.
"""

import argparse
import hashlib
import http.client
import json
import random
import re
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ALL_FAULTS = ["500", "502", "503", "429", "reset", "stall", "cut", "digest", "manifest"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection",
              "proxy-authenticate", "proxy-authorization", "te", "trailer", "upgrade"}
CONTROL = "/_faultproxy/"
UPLOAD_ID = re.compile(r"(/blobs/uploads/)[^/?]+")


def path_kind(method, target):
    """The kind of registry request a method and target are."""
    parts = urlsplit(target)
    path, query = parts.path, parse_qs(parts.query)
    if path in ("/v2", "/v2/"):
        return "base"
    if path == "/v2/_catalog":
        return "catalog"
    if path.endswith("/tags/list"):
        return "tags"
    if "/manifests/" in path:
        return "manifest"
    if "/blobs/uploads" in path:
        return "blob-mount" if method == "POST" and "mount" in query else "blob-upload"
    if "/blobs/" in path:
        return "blob"
    return "other"


def request_key(method, target):
    """The request without what changes between identical requests."""
    parts = urlsplit(target)
    query = parse_qs(parts.query)
    kept = "&".join(f"{k}={v[0]}" for k, v in sorted(query.items()) if k in ("digest", "mount", "from"))
    path = UPLOAD_ID.sub(r"\1*", parts.path)
    return f"{method} {path}?{kept}"


def error_body(code, message):
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


class State:
    """Settings, counters and the request history, under one lock."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.settings = {"rate": args.rate, "seed": args.seed, "faults": args.faults,
                         "stall": args.stall, "retry_after": args.retry_after,
                         "hold_uploads_after": None}
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.reset()

    def reset(self):
        self.history = {}
        self.admitted = 0
        self.counters = {"total": 0, "requests": {}, "responses": {}, "faults": {},
                         "faults_by_request": {}, "uploaded": [], "mounted": [],
                         "held": 0, "dropped": 0}

    def bump(self, table, key):
        table[key] = table.get(key, 0) + 1

    def draw(self, method, target, kind):
        """Counts the request and returns the fault it gets, or None."""
        with self.lock:
            self.counters["total"] += 1
            self.bump(self.counters["requests"], f"{method} {kind}")
            key = request_key(method, target)
            seen = self.history.get(key, 0)
            self.history[key] = seen + 1
            s = self.settings
            rng = random.Random(f"{s['seed']}|{key}|{seen}")
            if not s["faults"] or rng.random() >= s["rate"]:
                return None
            return rng.choice(s["faults"])

    def count_fault(self, method, kind, fault):
        with self.lock:
            self.bump(self.counters["faults"], fault)
            self.bump(self.counters["faults_by_request"], f"{method} {kind} {fault}")

    def count_response(self, method, kind, status):
        with self.lock:
            self.bump(self.counters["responses"], f"{method} {kind} {status}")

    def record(self, entry):
        if self.log:
            with self.lock:
                self.log.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"

    def log_message(self, *args):  # quiet: --log has one JSON line per request
        pass

    def do_GET(self):
        self.handle_any()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # ---- plumbing ---------------------------------------------------------

    def read_body(self, limit=None):
        """The request body (Content-Length or chunked); limit: read only that much."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length if limit is None else min(limit, length))

    def send_raw(self, status, headers, body, declared_length=None):
        reason = http.client.responses.get(status, "")
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if self.command != "HEAD" or declared_length is not None:
            lines.append(f"Content-Length: {len(body) if declared_length is None else declared_length}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()

    def reset_connection(self):
        """Closes the client connection with a TCP RST, sending nothing."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
        self.close_connection = True

    def forward(self, body):
        """Sends the request to the registry; returns (status, headers, body)."""
        conn = http.client.HTTPConnection(self.server.upstream, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    conn.putheader(name, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
            data = response.read()
            headers = [(k, v) for k, v in response.getheaders()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
            if self.command == "HEAD":
                length = response.getheader("Content-Length")
                if length is not None:
                    headers.append(("Content-Length", length))
            return response.status, headers, data
        finally:
            conn.close()

    def hold(self, state):
        """Holds an upload; returns its body when released, None when the client left."""
        body = self.read_body()
        with state.lock:
            state.counters["held"] += 1
        while True:
            with state.lock:
                if state.settings["hold_uploads_after"] is None:
                    return body
            # The client sends nothing more before our answer: readable means gone.
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            try:
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    raise ConnectionResetError
            except OSError:
                with state.lock:
                    state.counters["dropped"] += 1
                self.close_connection = True
                return None

    # ---- one request ------------------------------------------------------

    def handle_any(self):
        state = self.server.state
        if self.path.startswith(CONTROL):
            return self.control(state)
        method, kind = self.command, path_kind(self.command, self.path)
        fault = state.draw(method, self.path, kind)
        entry = {"method": method, "path": self.path, "kind": kind, "fault": None}

        if kind == "blob-upload" and method in ("PUT", "PATCH"):
            with state.lock:
                limit = state.settings["hold_uploads_after"]
                held = limit is not None and state.admitted >= limit
                if limit is not None and not held:
                    state.admitted += 1
            if held:
                body = self.hold(state)
                if body is None:
                    entry["status"] = "held, client gone"
                    return state.record(entry)
            else:
                body = self.read_body()
        else:
            body = self.read_body()

        if fault in ("500", "503", "429"):
            return self.answer_fault(state, entry, fault, int(fault), [])
        if fault == "stall":
            state.count_fault(method, kind, fault)
            entry.update(fault=fault, status="stalled")
            state.record(entry)
            time.sleep(state.settings["stall"])
            self.close_connection = True
            return None

        try:
            status, headers, data = self.forward(body)
        except OSError as error:
            entry["status"] = f"upstream error: {error}"
            state.record(entry)
            return self.send_raw(502, [("Content-Type", "application/json")],
                                 error_body("UNAVAILABLE", f"faultproxy: upstream: {error}"))

        if method == "PUT" and kind == "blob-upload" and status == 201:
            digest = parse_qs(urlsplit(self.path).query).get("digest", [""])[0]
            with state.lock:
                state.counters["uploaded"].append(digest)
        if kind == "blob-mount" and status == 201:
            with state.lock:
                state.counters["mounted"].append(parse_qs(urlsplit(self.path).query)["mount"][0])

        if fault == "502":
            return self.answer_fault(state, entry, fault, 502, [])
        if fault == "reset":
            state.count_fault(method, kind, fault)
            entry.update(fault=fault, status="reset")
            state.record(entry)
            return self.reset_connection()
        ok = 200 <= status < 300
        declared = None
        if fault == "cut" and ok and method == "GET" and len(data) >= 2:
            declared, data = len(data), data[: len(data) // 2]
            self.close_connection = True
        elif fault == "digest" and any(k.lower() == "docker-content-digest" for k, _ in headers):
            headers = [(k, v) if k.lower() != "docker-content-digest" else
                       (k, "sha256:" + hashlib.sha256(b"faultproxy" + v.encode()).hexdigest())
                       for k, v in headers]
        elif fault == "manifest" and ok and method == "GET" and kind == "manifest" and data.startswith(b"{"):
            data = b"{ " + data[1:]
        else:
            fault = None
        if fault:
            state.count_fault(method, kind, fault)
            entry["fault"] = fault
        entry["status"] = status
        state.count_response(method, kind, status)
        state.record(entry)
        self.send_raw(status, headers, data, declared)
        return None

    def answer_fault(self, state, entry, fault, status, headers):
        method, kind = entry["method"], entry["kind"]
        state.count_fault(method, kind, fault)
        state.count_response(method, kind, status)
        entry.update(fault=fault, status=status)
        state.record(entry)
        codes = {429: "TOOMANYREQUESTS", 500: "UNKNOWN", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
        if status == 429:
            headers = headers + [("Retry-After", str(state.settings["retry_after"]))]
        self.send_raw(status, headers + [("Content-Type", "application/json")],
                      error_body(codes[status], f"fault injected by faultproxy: {fault}"))

    def control(self, state):
        body = self.read_body()
        what = self.path[len(CONTROL):]
        with state.changed:
            if what == "counters" and self.command == "GET":
                reply = state.counters
            elif what == "config" and self.command == "POST":
                try:
                    update = json.loads(body or b"{}")
                    unknown = set(update) - set(state.settings)
                    if unknown:
                        raise ValueError(f"unknown settings {sorted(unknown)}")
                    bad = set(update.get("faults", [])) - set(ALL_FAULTS)
                    if bad:
                        raise ValueError(f"unknown faults {sorted(bad)}")
                except ValueError as error:
                    self.send_raw(400, [], f"{error}\n".encode())
                    return
                if "seed" in update:
                    state.history = {}
                if "hold_uploads_after" in update:
                    state.admitted = 0
                state.settings.update(update)
                reply = state.settings
            elif what == "reset" and self.command == "POST":
                state.reset()
                reply = state.counters
            else:
                self.send_raw(404, [], b"unknown control endpoint\n")
                return
            text = json.dumps(reply, sort_keys=True, indent=1).encode()
        self.send_raw(200, [("Content-Type", "application/json")], text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.0, help="chance of a fault per request")
    parser.add_argument("--faults", default=",".join(ALL_FAULTS),
                        help="comma-separated kinds to draw from (default: all)")
    parser.add_argument("--stall", type=float, default=2.0, help="seconds a stall lasts")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After of a 429")
    parser.add_argument("--log", help="append one JSON line per request to FILE")
    args = parser.parse_args()
    args.faults = [f for f in args.faults.split(",") if f]
    bad = set(args.faults) - set(ALL_FAULTS)
    if bad:
        parser.error(f"unknown faults {sorted(bad)}; known: {','.join(ALL_FAULTS)}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.upstream = args.upstream
    server.state = State(args)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
