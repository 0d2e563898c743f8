#!/usr/bin/env python3
"""Fault-injecting static HTTP/1.1 file server for the Fetch tests and benchmarks.

Standard library only (Python 3.11+).

Usage:
    python fetch_server.py --root DIR [--host 127.0.0.1] [--port 0]
                           [--faults FAULTS.json] [--log REQUESTS.log]
                           [--ignore-range] [--chaos SEED:RATE]

On start the server binds (port 0 = any free port), prints exactly one line
``PORT <n>`` to stdout, flushes, and serves until SIGTERM or SIGINT, then
exits with status 0 (open keep-alive connections do not delay the exit).

Normal behaviour (GET and HEAD)
-------------------------------
* Files under --root; any path resolving outside the root (``..``, symlinks)
  is a 404, as is any unknown path.  The query string is ignored.
* Headers: Content-Length, Content-Type (``text/html`` for ``.html``, else
  ``application/octet-stream``), ETag (quoted hex of size and mtime_ns),
  Last-Modified, and ``Accept-Ranges: bytes`` (omitted with --ignore-range).
* Range: one range, ``bytes=a-``, ``bytes=a-b`` or ``bytes=-n`` -> 206 with
  ``Content-Range: bytes a-b/size``; a range starting at or beyond the end
  (or ``bytes=-0``) -> 416 with ``Content-Range: bytes */size``.  Malformed
  or multi-range headers are ignored (200, full body).  An If-Range header
  that equals neither the current ETag nor the Last-Modified string makes
  the server ignore Range (200, full body).  --ignore-range: Range is always
  ignored.
* Full bodies go out with os.sendfile (1 MiB read/write chunks where
  sendfile is unavailable), so the server can be used for throughput runs.
* A directory URL without a trailing slash -> 301 to the slash form.  A
  directory with index.html serves that file; otherwise the server renders
  an Apache-style "fancy index" (``<table>`` rows, name-sorted, dot files
  hidden, UTC times, sizes like ``44``, ``9.5K``, ``256K``, ``1.2G``;
  subdirectories have a trailing slash and size ``-``).

Fault injection (--faults FAULTS.json)
--------------------------------------
    {"rules": [
      {"path": "/sdss/a.fits", "actions": ["drop:1000", "status:503:retry-after=1", "ok"]},
      {"glob": "/ztf/*.tar.gz", "actions": ["status:429"]},
      {"path": "/missing.fits", "always": "status:404"}]}

A rule matches the percent-decoded URL path (query stripped) exactly
("path") or with fnmatch.fnmatchcase ("glob"; ``*`` also matches ``/``).
The first matching rule wins.  Each GET matching a rule consumes that rule's
next action, counted separately per path; once the list is used up requests
are normal.  "always" applies its action to every GET (a rule has either
"actions" or "always").  HEAD requests are faulted only by "always" status,
auth and announce actions.  A fault applies to whatever response the request
would otherwise get (a 404 or a listing, too).

Actions:
    ok                          normal response
    status:CODE                 reply CODE (200..599) with a short text body
    status:CODE:retry-after=S   the same plus ``Retry-After: S``
    drop:N                      normal status line and headers, N body bytes,
                                then abort the connection with a TCP RST
    short:N                     the same but a graceful close (FIN) after
                                N bytes: the body is shorter than promised
    slow:S                      sleep S seconds (float) before the status line
    trickle:BPS                 normal response, body paced at ~BPS bytes/s
    ignore-range                200 with the full body even if Range was sent
    redirect:TARGET             302 with ``Location: TARGET`` (a path or a URL)
    corrupt:OFFSET              normal response, but the file byte at OFFSET
                                (if it is part of the body sent) is XOR 0xFF
    auth:USER:PASSWORD          401 with ``WWW-Authenticate: Basic`` unless the
                                request's Authorization is HTTP basic for exactly
                                USER:PASSWORD; then the normal response
    announce:N                  200 with ``Content-Length: N`` (e.g. 1 PiB) and
                                no body: the connection closes after the headers
    gate:FILE                   wait until FILE exists (at most 120 s), then the
                                normal response: a test holds a transfer open for as
                                long as it needs, with no timing to guess
    hold:N:FILE                 normal status line and headers and N body bytes,
                                then wait until FILE exists (at most 120 s), then
                                the rest: a transfer held open mid-body (the client
                                has N bytes) for as long as the test needs

--chaos SEED:RATE (e.g. ``7:0.2``): each GET of a file (not a directory URL)
that no rule matched is, with probability RATE, given one fault chosen
uniformly from: drop at a random body offset, short at a random body offset,
status:503:retry-after=1, status:500, status:429:retry-after=1, ignore-range
(a drop at a random offset when no Range was sent), slow:0.5.  Decisions
come from one random.Random(SEED) shared by all threads, and every
eligible GET consumes exactly three draws, so the same sequence of requests
always gets the same faults.

Request log (--log FILE): after each GET/HEAD response one JSON object per
line, appended and flushed:
    {"method": "GET", "path": "/sdss/a.fits", "range": "bytes=10-" | null,
     "if_range": ... | null, "status": 206, "action": "drop:1000" | "ok",
     "chaos": false, "sent": <body bytes handed to the kernel>,
     "auth": <Authorization header present>, "ua": <User-Agent> | null}
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import errno
import fnmatch
import html
import json
import os
import random
import re
import select
import signal
import socket
import socketserver
import stat
import struct
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 20                 # read/write chunk when sendfile is unavailable
SENDFILE_MAX = 1 << 30          # largest single os.sendfile call
RST_DRAIN_TIMEOUT = 1.0         # max wait for the peer to ACK data before a RST


# ---------------------------------------------------------------------------
# Fault actions and rules
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """One parsed fault action; ``arg`` is the action's number, if any."""

    kind: str                   # ok status drop short slow trickle ignore-range corrupt auth announce gate hold
    arg: float = 0              # CODE / N / S / BPS / OFFSET
    retry_after: str | None = None
    target: str | None = None    # redirect: the Location; auth: USER:PASSWORD; gate, hold: FILE

    def __str__(self) -> str:
        """The action in the faults-file syntax (used in the request log)."""
        if self.kind in ("ok", "ignore-range"):
            return self.kind
        if self.kind in ("redirect", "gate"):
            return f"{self.kind}:{self.target}"
        if self.kind == "hold":
            return f"hold:{int(self.arg)}:{self.target}"
        if self.kind == "auth":
            return "auth"                   # the password stays out of the log
        number = int(self.arg) if self.arg == int(self.arg) else self.arg   # 1000, 0.5
        if self.kind == "status" and self.retry_after is not None:
            return f"status:{number}:retry-after={self.retry_after}"
        return f"{self.kind}:{number}"


OK = Action("ok")


def parse_action(spec: str) -> Action:
    """Parses an action string such as ``drop:1000``; raises ValueError."""
    if not isinstance(spec, str):
        raise ValueError(f"fault action must be a string, got {spec!r}")
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    try:
        if kind in ("ok", "ignore-range") and not rest:
            return Action(kind)
        if kind == "redirect" and rest:
            return Action(kind, target=rest)
        if kind == "auth" and ":" in rest:
            return Action(kind, target=rest)
        if kind == "gate" and rest:
            return Action(kind, target=rest)
        if kind == "hold":
            count_text, sep, target = rest.partition(":")
            n = int(count_text)
            if n < 0 or not sep or not target:
                raise ValueError
            return Action(kind, n, target=target)
        if kind == "status":
            code_text, _, extra = rest.partition(":")
            code = int(code_text)
            if not 200 <= code <= 599:
                raise ValueError
            retry_after = None
            if extra:
                key, eq, value = extra.partition("=")
                if key.strip().lower() != "retry-after" or not eq or not value.strip():
                    raise ValueError
                retry_after = value.strip()
            return Action("status", code, retry_after)
        if kind in ("drop", "short", "corrupt", "announce"):
            n = int(rest)
            if n < 0:
                raise ValueError
            return Action(kind, n)
        if kind == "slow":
            seconds = float(rest)
            if not 0 <= seconds < float("inf"):
                raise ValueError
            return Action(kind, seconds)
        if kind == "trickle":
            bps = float(rest)
            if not 0 < bps < float("inf"):
                raise ValueError
            return Action(kind, bps)
    except ValueError:
        pass
    raise ValueError(f"bad fault action {spec!r}")


@dataclass
class Rule:
    path: str | None            # exact percent-decoded URL path, or
    glob: str | None            # an fnmatch pattern
    actions: list[Action]
    always: Action | None

    def matches(self, path: str) -> bool:
        if self.path is not None:
            return path == self.path
        return fnmatch.fnmatchcase(path, self.glob)


class FaultRules:
    """The --faults rules plus the per-(rule, path) count of consumed actions."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self._used: dict[tuple[int, str], int] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, filename: str) -> FaultRules:
        with open(filename, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
            raise ValueError('faults file must be {"rules": [...]}')
        rules = []
        for i, r in enumerate(doc["rules"]):
            where = f"rule {i}"
            if not isinstance(r, dict):
                raise ValueError(f"{where}: must be an object")
            unknown = set(r) - {"path", "glob", "actions", "always"}
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
            if ("path" in r) == ("glob" in r):
                raise ValueError(f'{where}: needs exactly one of "path" and "glob"')
            if "actions" in r and "always" in r:
                raise ValueError(f'{where}: has both "actions" and "always"')
            actions = r.get("actions", [])
            if not isinstance(actions, list):
                raise ValueError(f'{where}: "actions" must be a list')
            rules.append(Rule(
                path=r.get("path"),
                glob=r.get("glob"),
                actions=[parse_action(a) for a in actions],
                always=parse_action(r["always"]) if "always" in r else None,
            ))
        return cls(rules)

    def next_action(self, path: str, method: str) -> Action | None:
        """The action for this request, or None when no rule matches."""
        for index, rule in enumerate(self.rules):
            if not rule.matches(path):
                continue
            if rule.always is not None:
                if method == "GET" or rule.always.kind in ("status", "auth", "announce"):
                    return rule.always
                return OK
            if method != "GET":
                return OK
            with self._lock:
                n = self._used.get((index, path), 0)
                self._used[(index, path)] = n + 1
            return rule.actions[n] if n < len(rule.actions) else OK
        return None


class Chaos:
    """Random faults for GETs no rule matched (--chaos SEED:RATE)."""

    CHOICES = ("drop", "short", "status:503:retry-after=1", "status:500",
               "status:429:retry-after=1", "ignore-range", "slow:0.5")

    def __init__(self, seed: int | str, rate: float):
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str) -> Chaos:
        seed_text, sep, rate_text = text.rpartition(":")
        if not sep:
            raise ValueError("--chaos wants SEED:RATE")
        try:
            seed: int | str = int(seed_text)
        except ValueError:
            seed = seed_text
        rate = float(rate_text)
        if not 0 <= rate <= 1:
            raise ValueError("--chaos RATE must be within [0, 1]")
        return cls(seed, rate)

    def draw(self) -> tuple[str, float] | None:
        """Returns (choice, fraction) or None (no fault).  Always 3 draws."""
        with self._lock:
            roll = self._rng.random()
            choice = self.CHOICES[self._rng.randrange(len(self.CHOICES))]
            fraction = self._rng.random()    # where to cut the body for drop/short
        return (choice, fraction) if roll < self.rate else None


class RequestLog:
    """Appends one JSON line per request (--log FILE)."""

    def __init__(self, filename: str):
        self._file = open(filename, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, record: dict) -> None:
        line = json.dumps(record) + "\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


@dataclass
class Config:
    root: str                   # realpath of --root
    ignore_range: bool
    faults: FaultRules | None
    chaos: Chaos | None
    log: RequestLog | None


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

_RANGE_RE = re.compile(r"bytes\s*=\s*(\d*)\s*-\s*(\d*)", re.ASCII | re.IGNORECASE)
UNSATISFIABLE = "unsatisfiable"


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """Inclusive (first, last) for a single byte range, UNSATISFIABLE, or
    None when the header should be ignored (malformed or several ranges)."""
    m = _RANGE_RE.fullmatch(header.strip())
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first:                       # suffix range: bytes=-n
        if not last:
            return None
        n = int(last)
        if n == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return start, min(end, size - 1)


def human_size(n: int) -> str:
    """Size as Apache's fancy index prints it: 44, 9.5K, 256K, 1.2G."""
    if n < 1024:
        return str(n)
    units = "KMGTP"
    value, i = n / 1024, 0
    while True:
        if value < 9.95:
            return f"{value:.1f}{units[i]}"
        if value < 1023.5 or i == len(units) - 1:
            return f"{int(value + 0.5)}{units[i]}"
        value, i = value / 1024, i + 1


_COMPRESSED = (".gz", ".tgz", ".bz2", ".xz", ".zst", ".zip", ".z", ".fz", ".tar")


def render_listing(dirpath: str, url_path: str, root: str) -> bytes:
    """An Apache 2.4 style fancy index of dirpath (url_path ends with /).
    Dot files and symlinks leading outside root (which 404) are left out."""
    entries = []
    with os.scandir(dirpath) as it:
        for entry in it:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink() and not is_within(os.path.realpath(entry.path), root):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            entries.append((entry.name, stat.S_ISDIR(st.st_mode), st))
    entries.sort(key=lambda e: e[0])

    title = html.escape(f"Index of {url_path}")
    out = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">',
        "<html>",
        " <head>",
        f"  <title>{title}</title>",
        " </head>",
        " <body>",
        f"<h1>{title}</h1>",
        "  <table>",
        '   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th>'
        '<th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th>'
        '<th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>',
        '   <tr><th colspan="5"><hr></th></tr>',
    ]
    if url_path != "/":
        parent = url_path.rstrip("/").rpartition("/")[0] + "/"
        out.append(
            '<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td>'
            f'<td><a href="{html.escape(urllib.parse.quote(parent))}">Parent Directory</a></td>'
            '<td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>')
    for name, is_dir, st in entries:
        shown = name + "/" if is_dir else name
        if is_dir:
            icon, alt, size = "folder.gif", "[DIR]", "-"
        else:
            lower = name.lower()
            icon = "compressed.gif" if lower.endswith(_COMPRESSED) else (
                "text.gif" if lower.endswith((".html", ".txt")) else "unknown.gif")
            alt = "[TXT]" if icon == "text.gif" else "[   ]"
            size = human_size(st.st_size)
        mtime = time.strftime("%Y-%m-%d %H:%M", time.gmtime(st.st_mtime))
        out.append(
            f'<tr><td valign="top"><img src="/icons/{icon}" alt="{alt}"></td>'
            f'<td><a href="{html.escape(urllib.parse.quote(shown))}">{html.escape(shown)}</a></td>'
            f'<td align="right">{mtime}  </td><td align="right">{size}</td><td>&nbsp;</td></tr>')
    out += ['   <tr><th colspan="5"><hr></th></tr>', "</table>", "</body></html>", ""]
    return "\n".join(out).encode("utf-8")


GATE_TIMEOUT = 120.0            # longest wait of gate:FILE and hold:N:FILE


def wait_for_file(path: str) -> None:
    """Returns once path exists, or after GATE_TIMEOUT seconds."""
    deadline = time.monotonic() + GATE_TIMEOUT
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)


def is_within(path: str, root: str) -> bool:
    """True if the (real) path is root or lies below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def unacked_bytes(sock: socket.socket) -> int | None:
    """Bytes the peer has not acknowledged yet, or None if unknown here."""
    try:
        if sys.platform.startswith("linux"):
            import fcntl
            import termios
            raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")  # == SIOCOUTQ
            return struct.unpack("i", raw)[0]
        if sys.platform == "darwin":
            return sock.getsockopt(socket.SOL_SOCKET, 0x1024)               # SO_NWRITE
    except OSError:
        pass
    return None


@dataclass
class Body:
    """What a response body is made of: a file descriptor or bytes."""

    source: int | bytes
    start: int                  # offset into source
    length: int


# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------

class FetchHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       # keep-alive
    server_version = "fetch_server/1.0"
    disable_nagle_algorithm = True      # headers and small bodies leave at once
    # No socket timeout: blocking sockets let os.sendfile push a whole body in
    # one call.  Idle keep-alive threads are daemons and die with the process.
    timeout = None

    server: FetchServer

    # -- plumbing ----------------------------------------------------------

    def log_message(self, format, *args):   # quiet: no per-request stderr line
        pass

    def version_string(self) -> str:        # "Server:" without the Python version
        return self.server_version

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def do_GET(self):
        self._serve()

    def do_HEAD(self):
        self._serve()

    def _serve(self) -> None:
        """Runs one GET/HEAD and logs it, whatever happens to the socket."""
        self._status: int | None = None
        self._sent = 0
        self._action = "ok"
        self._chaos = False
        self._path = self.path
        try:
            self._handle()
        except OSError:
            # The client went away or we aborted the connection: it cannot be
            # reused, and there is nobody left to report the error to.
            self.close_connection = True
        finally:
            log = self.server.config.log
            if log is not None:
                h = self.headers
                log.write({
                    "method": self.command, "path": self._path,
                    "range": h.get("Range"), "if_range": h.get("If-Range"),
                    "status": self._status, "action": self._action,
                    "chaos": self._chaos, "sent": self._sent,
                    "auth": "Authorization" in h, "ua": h.get("User-Agent"),
                })

    # -- request dispatch ----------------------------------------------------

    def _handle(self) -> None:
        cfg = self.server.config
        if self.path.startswith("/"):
            raw_path, _, query = self.path.partition("#")[0].partition("?")
        else:                                   # absolute-form request target
            parts = urllib.parse.urlsplit(self.path)
            raw_path, query = parts.path or "/", parts.query
        path = urllib.parse.unquote(raw_path)
        self._path = path

        rule_action = cfg.faults.next_action(path, self.command) if cfg.faults else None
        action = rule_action or OK
        self._action = str(action)
        if action.kind == "slow":
            time.sleep(action.arg)
        if action.kind == "gate":
            wait_for_file(action.target)
            action = OK
        if action.kind == "status":
            return self._send_status_fault(action)
        if action.kind == "redirect":
            return self._send_text(302, f"Moved to {action.target}", [("Location", action.target)], action)
        if action.kind == "auth":
            expected = "Basic " + base64.b64encode(action.target.encode("utf-8")).decode("ascii")
            if self.headers.get("Authorization") != expected:
                self._action = "auth:refused"
                return self._send_text(401, "Unauthorized", [("WWW-Authenticate", 'Basic realm="fetch_server"')])
            action = OK
        if action.kind == "announce":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(int(action.arg)))
            self.end_headers()
            if self.command == "GET":
                self._abort(reset=False)
            return

        fspath = self._resolve(path)
        if fspath is None:
            return self._send_text(404, "Not Found", action=action)
        if os.path.isdir(fspath):
            if not raw_path.endswith("/"):
                location = raw_path + "/" + ("?" + query if query else "")
                return self._send_text(301, f"Moved to {location}",
                                       [("Location", location)], action)
            index = os.path.join(fspath, "index.html")
            if not os.path.isfile(index):
                return self._send_listing(fspath, path, action)
            return self._send_file(index, action)
        if raw_path.endswith("/"):              # "/file.fits/" is not the file
            return self._send_text(404, "Not Found", action=action)

        fraction = None
        if rule_action is None and cfg.chaos is not None and self.command == "GET":
            drawn = cfg.chaos.draw()
            if drawn is not None:
                choice, fraction = drawn
                if choice == "ignore-range" and "Range" not in self.headers:
                    choice = "drop"
                self._chaos = True
                if choice in ("drop", "short"):
                    action = Action(choice)     # cut offset fixed in _send_file
                else:
                    action = parse_action(choice)
                    self._action = str(action)
                    if action.kind == "slow":
                        time.sleep(action.arg)
                    elif action.kind == "status":
                        return self._send_status_fault(action)
        return self._send_file(fspath, action, fraction)

    def _resolve(self, path: str) -> str | None:
        """The filesystem path for a URL path, or None (missing / outside root)."""
        root = self.server.config.root
        if "\0" in path:
            return None
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        return full if is_within(full, root) and os.path.exists(full) else None

    # -- responses -----------------------------------------------------------

    def _send_status_fault(self, action: Action) -> None:
        code = int(action.arg)
        extra = [("Retry-After", action.retry_after)] if action.retry_after is not None else []
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Injected Fault"
        self._send_text(code, f"injected fault: {code} {phrase}", extra)

    def _send_text(self, code: int, text: str, extra_headers=(), action: Action = OK) -> None:
        body = b"" if code in (204, 304) else (text + "\n").encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        if code not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self._send_body(Body(body, 0, len(body)), action)

    def _send_listing(self, dirpath: str, url_path: str, action: Action) -> None:
        try:
            page = render_listing(dirpath, url_path, self.server.config.root)
        except OSError:
            return self._send_text(404, "Not Found", action=action)
        self.send_response(200)
        self.send_header("Content-Type", "text/html;charset=UTF-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self._send_body(Body(page, 0, len(page)), action)

    def _send_file(self, fspath: str, action: Action, chaos_fraction: float | None = None) -> None:
        """Serves a regular file, honouring Range / If-Range.  A chaos
        drop/short arrives without a byte count; chaos_fraction places it."""
        cfg = self.server.config
        try:
            fd = os.open(fspath, os.O_RDONLY)
        except OSError:
            return self._send_text(404, "Not Found", action=action)
        try:
            st = os.fstat(fd)
            size = st.st_size
            etag = '"%x-%x"' % (size, st.st_mtime_ns)
            last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)

            byte_range = None
            range_header = self.headers.get("Range")
            if range_header is not None and not cfg.ignore_range and action.kind != "ignore-range":
                if_range = self.headers.get("If-Range")
                if if_range is None or if_range.strip() in (etag, last_modified):
                    byte_range = parse_range(range_header, size)

            if byte_range == UNSATISFIABLE:
                code, headers, body = 416, [("Content-Range", f"bytes */{size}")], None
            elif byte_range is not None:
                first, last = byte_range
                code, body = 206, Body(fd, first, last - first + 1)
                headers = [("Content-Range", f"bytes {first}-{last}/{size}")]
            else:
                code, headers, body = 200, [], Body(fd, 0, size)

            if chaos_fraction is not None and action.kind in ("drop", "short"):
                sent_len = body.length if body is not None else 0
                action = Action(action.kind, int(chaos_fraction * sent_len))
                self._action = str(action)

            if body is None:
                return self._send_text(416, "Range Not Satisfiable", headers, action)

            self.send_response(code)
            self.send_header("Content-Type",
                             "text/html" if fspath.lower().endswith(".html") else "application/octet-stream")
            self.send_header("Content-Length", str(body.length))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            if not cfg.ignore_range:
                self.send_header("Accept-Ranges", "bytes")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self._send_body(body, action)
        finally:
            os.close(fd)

    # -- body transmission and faults ---------------------------------------

    def _send_body(self, body: Body, action: Action) -> None:
        """Sends the body (GET only), applying a body-level fault action."""
        if self.command == "HEAD":
            return
        kind = action.kind
        if kind in ("drop", "short"):
            self._emit(body.source, body.start, min(int(action.arg), body.length))
            self._abort(reset=(kind == "drop"))
        elif kind == "trickle":
            self._trickle(body, action.arg)
        elif kind == "hold":
            first = min(int(action.arg), body.length)
            self._emit(body.source, body.start, first)
            wait_for_file(action.target)
            self._emit(body.source, body.start + first, body.length - first)
        elif kind == "corrupt" and body.start <= action.arg < body.start + body.length:
            pos = int(action.arg)
            end = body.start + body.length
            self._emit(body.source, body.start, pos - body.start)
            if isinstance(body.source, int):
                original = os.pread(body.source, 1, pos)
            else:
                original = body.source[pos:pos + 1]
            if len(original) != 1:
                raise ConnectionAbortedError("file shrank while being sent")
            self.connection.sendall(bytes([original[0] ^ 0xFF]))
            self._sent += 1
            self._emit(body.source, pos + 1, end - pos - 1)
        else:
            self._emit(body.source, body.start, body.length)

    def _emit(self, source: int | bytes, offset: int, count: int) -> None:
        """Sends count bytes of source from offset; counts them in _sent."""
        if count <= 0:
            return
        sock = self.connection
        if not isinstance(source, int):
            sock.sendall(memoryview(source)[offset:offset + count])
            self._sent += count
            return
        end = offset + count
        while offset < end and self.server.use_sendfile:
            try:
                n = os.sendfile(sock.fileno(), source, offset, min(end - offset, SENDFILE_MAX))
            except BlockingIOError:             # only if a socket timeout is set
                select.select([], [sock], [])
                continue
            except OSError as e:
                if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK,
                                   errno.EOPNOTSUPP, errno.ENOTSUP):
                    raise
                self.server.use_sendfile = False   # fall back to read/write below
                break
            if n == 0:
                raise ConnectionAbortedError("file shrank while being sent")
            offset += n
            self._sent += n
        while offset < end:
            data = os.pread(source, min(CHUNK, end - offset), offset)
            if not data:
                raise ConnectionAbortedError("file shrank while being sent")
            sock.sendall(data)
            offset += len(data)
            self._sent += len(data)

    def _trickle(self, body: Body, bps: float) -> None:
        """Sends the body in small writes paced at about bps bytes/s."""
        chunk = max(1, min(64 * 1024, int(bps / 10)))     # ~10 writes a second
        started = time.monotonic()
        done = 0
        while done < body.length:
            n = min(chunk, body.length - done)
            self._emit(body.source, body.start + done, n)
            done += n
            delay = started + done / bps - time.monotonic()
            if delay > 0 and done < body.length:
                time.sleep(delay)

    def _abort(self, reset: bool) -> None:
        """Ends the connection mid-body: RST (reset) or FIN, then closes it."""
        sock = self.connection
        self.close_connection = True
        try:
            if reset:
                # A RST discards whatever is still queued, so let the peer
                # acknowledge the bytes already sent: the client then sees
                # exactly N bytes followed by "connection reset".
                deadline = time.monotonic() + RST_DRAIN_TIMEOUT
                while (unacked_bytes(sock) or 0) > 0 and time.monotonic() < deadline:
                    time.sleep(0.001)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        # rfile (from makefile()) holds a reference that would keep the
        # descriptor open past sock.close(); release it first.
        try:
            self.rfile.close()
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass


class FetchServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128            # many concurrent connects in benchmarks
    use_sendfile = hasattr(os, "sendfile")

    def __init__(self, address: tuple[str, int], config: Config):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.config = config
        super().__init__(address, FetchHandler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), which
        # can stall for seconds; the name is not needed here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return                      # client hung up: not worth a traceback
        super().handle_error(request, client_address)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Fault-injecting static HTTP/1.1 file server (see module docstring).")
    parser.add_argument("--root", required=True, help="directory to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--faults", metavar="FAULTS.json", help="fault rules")
    parser.add_argument("--log", metavar="REQUESTS.log", help="append one JSON line per request")
    parser.add_argument("--ignore-range", action="store_true",
                        help="ignore Range headers; no Accept-Ranges")
    parser.add_argument("--chaos", metavar="SEED:RATE",
                        help="random faults for requests no rule matches")
    args = parser.parse_args(argv)

    root = os.path.realpath(args.root)
    if not os.path.isdir(root):
        parser.error(f"--root {args.root!r} is not a directory")
    try:
        faults = FaultRules.load(args.faults) if args.faults else None
        chaos = Chaos.parse(args.chaos) if args.chaos else None
    except (OSError, ValueError) as e:
        parser.error(str(e))
    log = RequestLog(args.log) if args.log else None

    server = FetchServer((args.host, args.port),
                         Config(root, args.ignore_range, faults, chaos, log))

    def stop(signum, frame):
        # shutdown() blocks until serve_forever returns, so not on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start us with these signals blocked (the mask of a thread-pool thread is
    # inherited through fork/exec); unblock them so SIGTERM stops the server.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        if log is not None:
            log.close()
        sys.stdout.flush()
        sys.stderr.flush()
    # Handler threads may sit in a keep-alive read, a sleep or a sendfile;
    # leave at once instead of letting interpreter shutdown wait on them.
    os._exit(0)


if __name__ == "__main__":
    main()
