"""HTTP clients that misbehave on purpose, on a raw socket: a chunked body sent until the server
answers, and a request head whose announced body never comes. The service's red-team tests
and `benchmarks/serve_redteam.py` measure the server against them."""

from __future__ import annotations

import socket
import time


def stream_chunked(port: int, path: str, total: int, headers: dict[str, str] | None = None,
                   piece: int = 64 * 1024) -> tuple[int, float, int]:
    """Send a chunked body of `total` bytes until the server answers; (status, seconds, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + "\r\n"
    t0 = time.perf_counter()
    sock.sendall(head.encode())
    chunk = f"{piece:x}\r\n".encode() + b'"' * piece + b"\r\n"
    sent = 0
    sock.setblocking(False)
    reply = b""
    while sent < total:
        try:
            reply += sock.recv(65536)
            if reply:
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        try:
            sock.setblocking(True)
            sock.settimeout(2)
            sock.sendall(chunk)
            sent += piece
            sock.setblocking(False)
        except OSError:
            break
    sock.setblocking(True)
    sock.settimeout(10)
    while b"\r\n" not in reply:
        data = sock.recv(65536)
        if not data:
            break
        reply += data
    seconds = time.perf_counter() - t0
    sock.close()
    return int(reply.split(b" ")[1]), seconds, sent


def raw_status(port: int, method: str, path: str, headers: dict[str, str]) -> int:
    """Send only a request head (a client that announces a body it never sends) and read the status."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall((head + "\r\n").encode())
        try:
            return int(sock.recv(4096).split(b" ")[1])
        except (OSError, IndexError, ValueError):
            return -1  # no answer: the caller counts these
