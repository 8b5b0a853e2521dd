#!/usr/bin/env python3
"""A registry token server for the integration tests (python3 stdlib + openssl).

It answers GET /token?service=S&scope=T:NAME:ACTIONS[&scope=…] the way
docker-registry's `auth.token` expects: an RS256 JWT whose header carries x5c
(the base64 DER of the self-signed signing certificate, which the registry
also trusts as its rootcertbundle), with claims iss, sub, aud (= service),
exp, nbf, iat, jti and access[{type, name, actions}]. The reply is
{"token", "access_token", "expires_in", "issued_at"}.

Users come from a JSON file (never the command line):
  {"tester": {"password": "…", "actions": ["pull", "push"]}, …}
A request with a valid Basic login is granted the requested actions that its
user's "actions" allow; an anonymous request is granted nothing (a token with
an empty access list, as Docker Hub does); a wrong login gets 401.

Each request appends one JSON line to --log: client, account, the requested
scopes (as sent), what was granted, the jti, and the status; never a password
or a token. Each issued token is appended, one a line, to --issued so a test
can check that none leaked into any output.

It listens on 127.0.0.1 port 0 and prints "listening on 127.0.0.1:PORT".
"""

import argparse
import base64
import binascii
import datetime
import hmac
import json
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_LIFETIME = 300


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cert_der_b64(cert_file: str) -> str:
    """The base64 (standard, padded) DER of the PEM certificate in cert_file."""
    der = subprocess.run(
        ["openssl", "x509", "-in", cert_file, "-outform", "DER"],
        check=True, capture_output=True).stdout
    return base64.b64encode(der).decode("ascii")


def parse_scope(scope: str):
    """'repository:a/b:pull,push' -> ('repository', 'a/b', ['pull', 'push'])."""
    first = scope.find(":")
    last = scope.rfind(":")
    if first < 0 or last == first:
        return None
    actions = [a for a in scope[last + 1:].split(",") if a]
    return scope[:first], scope[first + 1:last], actions


class TokenServer:
    def __init__(self, args):
        self.key_file = args.key
        self.issuer = args.issuer
        self.service = args.service
        self.log_file = args.log
        self.issued_file = args.issued
        with open(args.users, encoding="utf-8") as f:
            self.users = json.load(f)
        self.x5c = cert_der_b64(args.cert)
        self.lock = threading.Lock()

    def sign(self, signing_input: bytes) -> bytes:
        return subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.key_file],
            input=signing_input, check=True, capture_output=True).stdout

    def make_token(self, account: str, access) -> (str, str, int):
        now = int(time.time())
        jti = secrets.token_hex(16)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": self.issuer, "sub": account, "aud": self.service,
            "exp": now + TOKEN_LIFETIME, "nbf": now - 10, "iat": now,
            "jti": jti, "access": access,
        }
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode("ascii")
        signature = self.sign(signing_input)
        return signing_input.decode("ascii") + "." + b64url(signature), jti, now

    def authenticate(self, header: str):
        """Returns (account, allowed actions), ("", []) when anonymous, or None."""
        if not header:
            return "", []
        kind, _, value = header.partition(" ")
        if kind.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        entry = self.users.get(user)
        if not entry or not hmac.compare_digest(entry["password"].encode(), password.encode()):
            return None
        return user, list(entry.get("actions", []))

    def record(self, entry: dict, token: str = ""):
        with self.lock:
            with open(self.log_file, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")
            if token:
                with open(self.issued_file, "a", encoding="utf-8") as f:
                    f.write(token + "\n")


def make_handler(server: TokenServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status: int, body: dict, extra_headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            scopes = query.get("scope", [])
            entry = {"method": "GET", "path": url.path, "service": query.get("service", [""])[0],
                     "scopes": scopes, "account": query.get("account", [""])[0]}
            if url.path != "/token":
                entry["status"] = 404
                server.record(entry)
                self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
                return
            login = server.authenticate(self.headers.get("Authorization", ""))
            if login is None:
                entry["status"] = 401
                entry["login"] = "rejected"
                server.record(entry)
                self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                             "message": "incorrect username or password"}]},
                           [("WWW-Authenticate", 'Basic realm="polyarch-test-token"')])
                return
            account, allowed = login
            entry["login"] = account or "anonymous"
            access = []
            for scope in scopes:
                # Several scopes may share one query value, space-separated.
                for item in scope.split(" "):
                    parsed = parse_scope(item)
                    if parsed is None:
                        continue
                    kind, name, actions = parsed
                    granted = [a for a in actions if a in allowed or "*" in allowed]
                    if granted:
                        access.append({"type": kind, "name": name, "actions": granted})
            token, jti, now = server.make_token(account, access)
            entry.update(status=200, granted=access, jti=jti)
            server.record(entry, token)
            issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
            self.reply(200, {"token": token, "access_token": token,
                             "expires_in": TOKEN_LIFETIME,
                             "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")})

        def log_message(self, format, *args):  # noqa: A002 (quiet: the JSON log is ours)
            pass

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", required=True, help="PEM RSA private key that signs tokens")
    parser.add_argument("--cert", required=True, help="PEM self-signed certificate of that key")
    parser.add_argument("--users", required=True, help="JSON file of users, passwords, actions")
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--log", required=True, help="one JSON line per request")
    parser.add_argument("--issued", required=True, help="each issued token, one a line")
    args = parser.parse_args()

    server = TokenServer(args)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(server))
    httpd.daemon_threads = True
    print("listening on 127.0.0.1:%d" % httpd.server_address[1], flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
