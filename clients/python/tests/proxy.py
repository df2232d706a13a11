"""A TCP proxy in front of `cloche serve` that misbehaves on purpose.

Each connection takes the next plan of ``plans`` (then ``forward``):

- ``forward``: pass the request on and the answer back;
- ``kill``: pass the request on, wait for the server's whole answer (so the
  server has acted), then reset the connection without answering;
- ``503`` / ``429``: answer that status at once, with ``Retry-After``;
- ``hang``: read the request and never answer.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from typing import List, Optional, Tuple


class Proxy:
    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.plans: List[str] = []
        self.retry_after = "0"
        self.seen: List[Tuple[str, str, str]] = []  # (plan, method, path)
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self._sock.getsockname()[1]
        self._hung: List[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._sock.close()
        for s in self._hung:
            s.close()

    def requests(self, path: Optional[str] = None) -> List[Tuple[str, str, str]]:
        with self._lock:
            return [s for s in self.seen if path is None or s[2] == path]

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                plan = self.plans.pop(0) if self.plans else "forward"
            threading.Thread(target=self._serve, args=(conn, plan), daemon=True).start()

    def _serve(self, conn: socket.socket, plan: str) -> None:
        try:
            request = _read_request(conn)
            line = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            with self._lock:
                self.seen.append((plan, line[0], line[1].split("?")[0]))
            if plan == "hang":
                self._hung.append(conn)
                return
            if plan in ("503", "429"):
                body = json.dumps({"error": {"code": "unavailable" if plan == "503" else "rate_limited",
                                             "message": "the proxy says no", "request_id": "proxy"}}).encode()
                conn.sendall(
                    f"HTTP/1.1 {plan} No\r\nContent-Type: application/json\r\nRetry-After: {self.retry_after}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
                )
                conn.close()
                return
            up = socket.create_connection(self.upstream, timeout=60)
            up.sendall(request)
            answer = b""
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                answer += chunk
            up.close()
            if plan == "kill":
                # A reset, not a clean close: the client sees the
                # connection break after sending its request.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            conn.sendall(answer)
            conn.close()
        except OSError:
            conn.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
