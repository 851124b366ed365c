#!/usr/bin/env python3
"""Probe a videobus listener's edges from loopback (stdlib only).

    scripts/probe/bus.py HOST:PORT PID VIDEOBUS_BINARY [--service registry] [--registry HOST:PORT]

Phases, each bounded in count and time (the whole run stays under 60 s):
  idle        5,000 idle TCP connections (no hello)
  handshaked  5,000 connections that complete the handshake (token from $VIDEOBUS_TOKEN if set)
  trickle     50 connections trickling a hello one byte a second
  oversize    200 connections announcing a 16 MiB first frame and sending 256 KiB of it

For each phase it prints the listener's RSS (VmRSS of PID, from /proc) before,
during and after, whether `videobus call <service>.ping` succeeds during it,
and how the listener treated the phase's connections. Every socket it opens
is closed before it exits. Loopback only.
"""
import argparse
import json
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import time

DEADLINE = time.monotonic() + 55  # whole run


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def fmt(kib):
    return "gone" if kib is None else f"{kib / 1024:.1f} MiB"


def frame(kind, body):
    header = json.dumps({"kind": kind}, separators=(",", ":")).encode()
    return struct.pack(">IBBHI", 8 + len(header) + len(body), 1, 0, len(header), len(body)) + header + body


def hello(token):
    body = {"versions": [1], "node": {"service": "probe", "instance": f"probe-{os.getpid()}", "version": "0"},
            "codecs": [], "limits": {"max_frame_bytes": 16777216, "max_header_bytes": 16384,
                                     "max_body_bytes": 16777216, "max_in_flight": 1024}}
    if token is not None:
        body["token"] = token
    return frame("hello", json.dumps(body, separators=(",", ":")).encode())


def legit_call(args):
    started = time.monotonic()
    try:
        done = subprocess.run([args.binary, "call", f"{args.service}.ping", "--timeout", "5", "--registry", args.registry],
                              capture_output=True, text=True, timeout=10)
        ok = done.returncode == 0
        detail = (done.stdout + done.stderr).strip().splitlines()[-1:] if not ok else []
    except subprocess.TimeoutExpired:
        ok, detail = False, ["timed out"]
    return ok, time.monotonic() - started, " ".join(detail)


def open_many(host, port, count, budget, sockets):
    """Opens up to `count` connections into `sockets` within `budget` seconds (non-blocking connects)."""
    stop = min(time.monotonic() + budget, DEADLINE)
    while len(sockets) < count and time.monotonic() < stop:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect_ex((host, port))
        except OSError:
            s.close()
            break
        sockets.append(s)
    # Wait until the connects finished (writable) or the budget ran out (poll: descriptors pass 1024).
    poller = select.poll()
    pending = {s.fileno(): s for s in sockets}
    for fd in pending:
        poller.register(fd, select.POLLOUT)
    while pending and time.monotonic() < stop:
        for fd, _ in poller.poll(500):
            poller.unregister(fd)
            pending.pop(fd, None)
    return sockets


def closed_by_peer(sockets, wait=0.0):
    """Counts sockets the listener closed (EOF or reset) and collects first error codes seen."""
    closed, codes = 0, {}
    stop = time.monotonic() + wait
    remaining = list(sockets)
    while True:
        still = []
        for s in remaining:
            try:
                data = s.recv(65536)
                if data == b"":
                    closed += 1
                    continue
                code = error_code(data)
                if code:
                    codes[code] = codes.get(code, 0) + 1
                still.append(s)
            except BlockingIOError:
                still.append(s)
            except OSError:
                closed += 1
        remaining = still
        if not remaining or time.monotonic() >= stop:
            return closed, codes
        time.sleep(0.2)


def error_code(data):
    if len(data) < 12:
        return None
    header_length = struct.unpack(">H", data[6:8])[0]
    try:
        header = json.loads(data[12:12 + header_length])
    except ValueError:
        return None
    if header.get("kind") == "error":
        return header.get("error", {}).get("code", "?") + ": " + header.get("error", {}).get("message", "")[:80]
    return header.get("kind")


def close_all(sockets):
    for s in sockets:
        try:
            s.close()
        except OSError:
            pass


def phase(name, args, run):
    print(f"\n== {name}")
    before = rss_kib(args.pid)
    sockets = []
    try:
        note = run(sockets)
        during = rss_kib(args.pid)
        ok, seconds, detail = legit_call(args)
        print(f"   rss before {fmt(before)}, during {fmt(during)}")
        print(f"   {note}")
        print(f"   legitimate call during: {'ok' if ok else 'FAILED'} in {seconds:.2f} s {detail}")
    finally:
        close_all(sockets)
    time.sleep(1)
    print(f"   rss after {fmt(rss_kib(args.pid))}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", help="host:port of the bus listener (loopback)")
    parser.add_argument("pid", type=int, help="PID of the listener's process, for its RSS")
    parser.add_argument("binary", help="path of the videobus executable")
    parser.add_argument("--service", default="registry", help="service whose ping the legitimate call uses")
    parser.add_argument("--registry", help="registry host:port for the legitimate call (default: the target)")
    parser.add_argument("--connections", type=int, default=5000)
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    port = int(port)
    args.registry = args.registry or args.target
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loopback targets only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.connections + 512)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    count = min(args.connections, want - 256)
    token = os.environ.get("VIDEOBUS_TOKEN")

    print(f"probing {args.target} (pid {args.pid}), rss {fmt(rss_kib(args.pid))}")
    ok, seconds, detail = legit_call(args)
    print(f"baseline legitimate call: {'ok' if ok else 'FAILED'} in {seconds:.2f} s {detail}")

    def idle(sockets):
        open_many(host, port, count, 10, sockets)
        # Long enough for the listener to accept them all and for its handshake deadline (default 5 s) to pass.
        closed, codes = closed_by_peer(sockets, wait=6.5)
        return f"{len(sockets)} idle connections opened; {closed} closed by the listener; answers {codes}"
    phase("idle", args, idle)

    def handshaked(sockets):
        open_many(host, port, count, 10, sockets)
        data = hello(token)
        sent = 0
        for s in sockets:
            try:
                s.send(data)
                sent += 1
            except OSError:
                pass
        # Long enough for the listener to accept them all (it takes them off a 256-deep backlog).
        closed, codes = closed_by_peer(sockets, wait=12.0)
        return f"{len(sockets)} connections, {sent} hellos sent ({'with' if token else 'without'} token); {closed} closed by the listener; answers {codes}"
    phase("handshaked", args, handshaked)

    def trickle(sockets):
        open_many(host, port, 50, 5, sockets)
        data = hello(token)
        started = time.monotonic()
        closed_at = None
        seen = {}
        for i in range(min(len(data), 12)):
            if time.monotonic() > DEADLINE - 10:
                break
            alive = 0
            for s in sockets:
                try:
                    s.send(data[i:i + 1])
                    alive += 1
                except OSError:
                    pass
            closed, codes = closed_by_peer(sockets)
            for code, n in codes.items():
                seen[code] = seen.get(code, 0) + n
            if closed == len(sockets) and closed_at is None:
                closed_at = time.monotonic() - started
                break
            time.sleep(1)
        closed, codes = closed_by_peer(sockets, wait=0.5)
        for code, n in codes.items():
            seen[code] = seen.get(code, 0) + n
        codes = seen
        when = f"all closed after {closed_at:.1f} s" if closed_at is not None else f"{closed} of {len(sockets)} closed after {time.monotonic() - started:.1f} s"
        return f"{len(sockets)} connections trickling a hello at 1 byte/s: {when}; answers {codes}"
    phase("trickle", args, trickle)

    def oversize(sockets):
        open_many(host, port, 200, 5, sockets)
        prefix = struct.pack(">IBBHI", 16 << 20, 1, 0, 16, 0)
        chunk = b"\0" * 65536
        refused_early = 0
        for s in sockets:
            try:
                s.send(prefix)
            except OSError:
                pass
        for _ in range(4):  # 256 KiB of the announced 16 MiB
            for s in sockets:
                try:
                    s.send(chunk)
                except OSError:
                    refused_early += 1
        closed, codes = closed_by_peer(sockets, wait=1.0)
        return f"{len(sockets)} connections announcing a 16 MiB first frame: {closed} closed by the listener ({refused_early} sends refused); answers {codes}"
    phase("oversize", args, oversize)

    print(f"\nfinal rss {fmt(rss_kib(args.pid))}")


if __name__ == "__main__":
    main()
