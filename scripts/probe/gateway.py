#!/usr/bin/env python3
"""Floods a running videobus gateway the ways issue 9 found it weak, and
reports what it did: the gateway's RSS (from /proc) before, during and after
each flood, whether a legitimate GET /healthz is served during it, and how
the flood's connections ended.

    scripts/probe/gateway.py PORT PID [--host 127.0.0.1] [--wait 20]

Floods (bounded in count and time; the whole run takes well under 60 s with
the gateway's default 10 s header and body timeouts):
  half-sent   2,000 connections that send half a request head and wait
  lying       200 POSTs whose Content-Length (1 MB) is larger than what they send
  big-posts   40 concurrent POSTs of 9.8 MB each

Stdlib only; every socket it opens is closed before it exits. Exit status 0
when /healthz was served during every flood and the slow connections were
closed by the gateway, 1 otherwise.
"""
import argparse
import select
import socket
import sys
import threading
import time


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def read_status(sock):
    """The status code of the HTTP/1.1 answer arriving on `sock`, or None."""
    data = b""
    while len(data) < 12:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else None


def healthz(host, port, timeout=5.0):
    """(status or None, seconds) of one GET /healthz on a fresh connection."""
    start = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            status = read_status(s)
    except (OSError, ValueError):
        status = None
    return status, time.monotonic() - start


def open_many(host, port, count, payload):
    sockets = []
    for _ in range(count):
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(payload)
            s.setblocking(False)
            sockets.append(s)
        except OSError:
            break
    return sockets


def wait_closed(sockets, deadline):
    """How many of `sockets` the server closed before `deadline` (reading and dropping any answer)."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in sockets}
    for fd in by_fd:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    open_ = set(by_fd)
    while open_ and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            try:
                gone = not by_fd[fd].recv(65536)
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone and fd in open_:
                open_.discard(fd)
                poller.unregister(fd)
    return len(sockets) - len(open_)


def report(name, pid, before, during, after, health, extra):
    ok = health[0] == 200
    print(f"{name:10s} rss MiB before {before:7.1f} during {during:7.1f} after {after:7.1f}  "
          f"/healthz during: {health[0]} in {health[1]*1000:.0f} ms  {extra}")
    return ok


def slow_flood(name, args, count, payload):
    before = rss_mib(args.pid)
    start = time.monotonic()
    sockets = open_many(args.host, args.port, count, payload)
    during = rss_mib(args.pid)
    health = healthz(args.host, args.port)
    closed = wait_closed(sockets, time.monotonic() + args.wait)
    elapsed = time.monotonic() - start
    for s in sockets:
        s.close()
    after = rss_mib(args.pid)
    ok = report(name, args.pid, before, during, after, health,
                f"opened {len(sockets)}/{count}, closed by the gateway {closed} within {elapsed:.1f} s")
    return ok and closed == len(sockets)


def big_posts(args, count=40, size=9_800_000):
    before = rss_mib(args.pid)
    body = b'{"video_id": "probe", "description": "' + b"d" * (size - 40) + b'"}'
    statuses = []
    lock = threading.Lock()

    def post():
        status = None
        try:
            with socket.create_connection((args.host, args.port), timeout=args.wait) as s:
                s.sendall(b"POST /api/video-analysis/ HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n"
                          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
                try:
                    s.sendall(body)
                except OSError:
                    pass  # answered (and closed) before the whole body was sent
                status = read_status(s)
        except (OSError, ValueError):
            pass
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    peak = before
    health = (None, 0.0)
    deadline = time.monotonic() + args.wait
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        peak = max(peak, rss_mib(args.pid))
        if health[0] is None:
            health = healthz(args.host, args.port)
        time.sleep(0.05)
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if health[0] is None:
        health = healthz(args.host, args.port)
    after = rss_mib(args.pid)
    counts = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    ok = report("big-posts", args.pid, before, peak, after, health,
                f"peak shown as 'during'; answers {dict(sorted(counts.items(), key=str))}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("pid", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--wait", type=float, default=20.0, help="seconds to wait for each flood to be dealt with")
    args = parser.parse_args()
    started = time.monotonic()
    print(f"gateway pid {args.pid} on {args.host}:{args.port}; rss {rss_mib(args.pid):.1f} MiB; /healthz {healthz(args.host, args.port)[0]}")
    results = [
        slow_flood("half-sent", args, 2000, b"GET /healthz HTTP/1.1\r\nHost: probe\r\nX-Slow: "),
        slow_flood("lying", args, 200, b"POST /api/video-analysis/ HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n"
                                         b"Content-Length: 1000000\r\n\r\n{\"video_id\": "),
        big_posts(args),
    ]
    print(f"done in {time.monotonic() - started:.1f} s: {'ok' if all(results) else 'FAILED'}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
