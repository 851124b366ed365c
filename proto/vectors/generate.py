#!/usr/bin/env python3
"""Build (or --check) the videobus wire test vectors.

    python3 proto/vectors/generate.py           write proto/vectors/NAME.json
    python3 proto/vectors/generate.py --check   verify the committed files

--check regenerates every vector in memory and fails if a committed file
differs (or is missing, or is not generated), decodes every file with the
reference decoder and fails if the result differs from the file's stated
meaning, re-encodes the frames of every error-free vector to confirm its
"canonical" flag, and validates files, headers and handshake bodies against
proto/schemas/ when the jsonschema module is available.

--check also validates the method examples (proto/vectors/methods/NAME.json,
each a list of example bodies, written by hand) against their schemas in
proto/schemas/methods/, checks the rules the schemas cannot state (snapshot
order; a page's count and order), and confirms that a few bodies the methods
refuse (or never send) are refused by the schemas too.
"""

from __future__ import annotations

import datetime
import json
import random
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO = HERE.parent
sys.dont_write_bytecode = True  # keep proto/reference free of __pycache__
sys.path.insert(0, str(PROTO / "reference"))

import videobus_wire as w  # noqa: E402

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
DEFAULT_LIMITS = {k: v for k, v in w.DEFAULT_LIMITS.items()}


def js(value) -> bytes:
    """Compact JSON body (the convention used by every vector body)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def raw(header_text: str) -> bytes:
    return header_text.encode("utf-8")


def frame_meaning(header: dict, body: bytes | None, compressed: bool, body_size: int) -> dict:
    f = {"header": header, "compressed": compressed, "body_size": body_size}
    if body is not None:
        f["body_text"] = body.decode("utf-8")
    return f


def err(stage: str, reason: str, frame_index: int = 0) -> dict:
    return {"stage": stage, "reason": reason, "code": w.REASON_CODES[reason],
            "frame_index": frame_index}


class Vec:
    def __init__(self, name, description, data, frames, error=None, limits=None,
                 canonical=None):
        self.name, self.description, self.data = name, description, data
        self.frames, self.error, self.limits = frames, error, limits
        self.canonical = canonical

    def to_json(self) -> dict:
        d = {"name": self.name, "description": self.description}
        if self.limits:
            d["limits"] = self.limits
        d["hex"] = self.data.hex()
        d["canonical"] = self.canonical
        d["frames"] = self.frames
        d["error"] = self.error
        return d


def encoded(header: dict, body: bytes, expect_compressed: bool, **kw):
    """Encode with the reference encoder; return (bytes, frame meaning)."""
    data = w.encode_frame(header, body, **kw)
    compressed = bool(data[5] & w.FLAG_COMPRESSED)
    assert compressed == expect_compressed, (header, compressed)
    return data, frame_meaning(header, body, compressed, len(body))


def canonical_encoding(frames: list) -> bytes | None:
    """Encode `frames` (vector meaning) with default settings; None if not encodable."""
    out = b""
    for f in frames:
        if "body_text" not in f:
            return None
        try:
            out += w.encode_frame(f["header"], f["body_text"].encode("utf-8"))
        except ValueError:
            return None
    return out


# ---------------------------------------------------------------- bodies

def analysis_body() -> bytes:
    """About 6 KB of repetitive JSON (compresses well)."""
    labels = ["person", "car", "dog", "logo", "text"]
    segments = []
    i = 0
    while True:
        segments.append({"index": i, "start_ms": i * 2000, "end_ms": i * 2000 + 2000,
                         "label": labels[i % 5], "confidence_pct": 90 + i % 7})
        body = js({"video_id": "test_001", "status": "analyzed", "segments": segments})
        if len(body) >= 6000:
            return body
        i += 1


def listing_body() -> bytes:
    """About 5 KB of repetitive JSON for a compressed response."""
    items = [{"video_id": f"test_{i:03d}", "status": "analyzed", "duration_ms": 12500 + i * 10,
              "tags": ["demo", "batch-7"]} for i in range(60)]
    return js({"items": items, "next_cursor": None})


def random_text_body() -> bytes:
    """>= 4096 bytes of JSON holding a seeded random string drawn from as many
    distinct UTF-8 byte values as JSON text allows. Still about 2% compressible:
    no valid UTF-8 JSON text of this size escapes deflate's Huffman coding."""
    r = random.Random(20240601)
    ascii_chars = [chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\']
    chars, size = [], 0
    while size < 4200:
        t = r.choice([1] * 93 + [2] * 30 + [3] * 16 + [4] * 5)
        if t == 1:
            ch = r.choice(ascii_chars)
        elif t == 2:
            ch = chr(r.randrange(0x80, 0x800))
        elif t == 3:
            c = r.randrange(0x800, 0x10000 - 0x800)
            ch = chr(c + 0x800 if c >= 0xD800 else c)  # skip surrogates
        else:
            ch = chr(r.randrange(0x10000, 0x110000))
        chars.append(ch)
        size += len(ch.encode("utf-8"))
    return js({"video_id": "test_001", "blob": "".join(chars)})


def hello_body() -> bytes:
    return js({"versions": [1],
               "node": {"service": "ingest", "instance": "ingest-1", "version": "0.1.0"},
               "token": "s3cret", "codecs": ["deflate"], "limits": DEFAULT_LIMITS})


def welcome_body() -> bytes:
    return js({"version": 1,
               "node": {"service": "analysis-store", "instance": "analysis-store-1",
                        "version": "0.1.0"},
               "codecs": ["deflate"], "limits": DEFAULT_LIMITS})


# ---------------------------------------------------------------- vectors

def build() -> list[Vec]:
    V = []

    def valid(name, description, parts, canonical=True, limits=None):
        data = b"".join(p[0] for p in parts)
        V.append(Vec(name, description, data, [p[1] for p in parts], None, limits, canonical))

    def invalid(name, description, data, frames, error, limits=None):
        V.append(Vec(name, description, data, frames, error, limits, False))

    req_plain_h = {"kind": "request", "id": 1, "service": "analysis-store", "method": "get",
                   "timeout_ms": 5000, "trace": TRACE}
    req_plain_b = js({"video_id": "test_001"})
    req_plain = encoded(req_plain_h, req_plain_b, False)
    ping_h = {"kind": "ping", "id": 7}

    # ---- valid, canonical
    valid("request-plain", "request analysis-store.get with deadline and trace, small JSON body, uncompressed",
          [req_plain])
    valid("request-idempotent-unicode",
          "request with idempotency_key; a header string with an escaped quote, newline and control character; non-ASCII body",
          [encoded({"kind": "request", "id": 2, "service": "ingest", "method": "register-video",
                    "timeout_ms": 30000, "idempotency_key": "upload \"clip\"\nretry\u001f-7 café",
                    "trace": TRACE},
                   js({"title": "Café — 東京 🎬", "note": "naïve \"quoted\"\nline 2",
                       "uploader": "user_7"}), False)])
    valid("request-empty-body", "request with an empty (0-byte) body",
          [encoded({"kind": "request", "id": 3, "service": "analysis-store", "method": "list"},
                   b"", False)])
    valid("request-compressed", "request with a ~6 KB repetitive JSON body, deflate-compressed (zlib level 1)",
          [encoded({"kind": "request", "id": 4, "service": "analysis-store", "method": "put",
                    "timeout_ms": 10000, "idempotency_key": "put-test_001-v1", "trace": TRACE},
                   analysis_body(), True)])
    valid("response-ok", "successful response to request 1 with a JSON body",
          [encoded({"kind": "response", "id": 1},
                   js({"video_id": "test_001", "status": "analyzed", "duration_ms": 12500}), False)])
    valid("response-ok-compressed", "successful response with a ~5 KB JSON body, compressed",
          [encoded({"kind": "response", "id": 3, "trace": TRACE}, listing_body(), True)])
    valid("response-error", "failed response: not-found, not retryable, empty body",
          [encoded({"kind": "response", "id": 2,
                    "error": {"code": "not-found", "message": "video test_404 not found",
                              "retryable": False}}, b"", False)])
    valid("event", "event asset.created delivered to a subscriber, with event_id, source and trace",
          [encoded({"kind": "event", "id": 11, "trace": TRACE, "topic": "asset.created",
                    "event_id": "01HZX3Q7K9T2M4N6P8R0S2V4W6", "source": "ingest"},
                   js({"asset_id": "asset_42", "video_id": "test_001", "uploaded_by": "user_7"}),
                   False)])
    valid("request-identity", "request made for a tenant on behalf of a user: tenant, user and role after source's place in the canonical order",
          [encoded({"kind": "request", "id": 5, "service": "analysis-store", "method": "get",
                    "timeout_ms": 5000, "trace": TRACE, "tenant": "tnt_acme", "user": "usr_7", "role": "ADMIN"},
                   js({"video_id": "test_001"}), False)])
    valid("event-tenant", "event of a tenant: the tenant travels in the header, the payload stays the domain's",
          [encoded({"kind": "event", "id": 13, "topic": "analysis.created",
                    "event_id": "01HZX3Q7K9T2M4N6P8R0S2V4W7", "source": "analysis-store", "tenant": "tnt_acme"},
                   js({"video_id": "test_001"}), False)])
    valid("event-ack", "acknowledgement of event frame 11",
          [encoded({"kind": "event-ack", "id": 11}, b"", False)])
    valid("event-nack", "refusal of event frame 12: unavailable, retryable (redelivery wanted)",
          [encoded({"kind": "event-ack", "id": 12,
                    "error": {"code": "unavailable", "message": "database is restarting",
                              "retryable": True}}, b"", False)])
    valid("ping", "keep-alive ping id 7", [encoded(ping_h, b"", False)])
    valid("pong", "pong echoing ping id 7", [encoded({"kind": "pong", "id": 7}, b"", False)])
    valid("go-away", "sender is draining: no new requests on this connection",
          [encoded({"kind": "go-away"}, b"", False)])
    valid("error-unauthenticated", "connection-level error refusing a hello (bad token); the sender closes after it",
          [encoded({"kind": "error", "error": {"code": "unauthenticated",
                                               "message": "invalid token", "retryable": False}},
                   b"", False)])
    valid("hello", "handshake hello from ingest-1: versions [1], token, deflate, default limits",
          [encoded({"kind": "hello"}, hello_body(), False)])
    valid("welcome", "handshake welcome from analysis-store-1: version 1, deflate, default limits",
          [encoded({"kind": "welcome"}, welcome_body(), False)])
    valid("two-frames", "a request and a ping back to back in one stream",
          [encoded({"kind": "request", "id": 5, "service": "analysis-store", "method": "get"},
                   js({"video_id": "test_002"}), False),
           encoded({"kind": "ping", "id": 6}, b"", False)])
    rnd = random_text_body()
    assert len(rnd) >= 4096 and len(w.deflate(rnd)) < len(rnd)
    valid("request-large-random",
          f"request with a {len(rnd)}-byte body of seeded random text: deflate gains only {len(rnd) - len(w.deflate(rnd))} bytes, still strictly smaller, so it is sent compressed",
          [encoded({"kind": "request", "id": 8, "service": "ingest", "method": "put-blob"},
                   rnd, True)])

    # ---- valid, non-canonical
    h = raw('{"kind":"request","id":9,"service":"analysis-store","method":"get","x_future":{"a":[1,2]}}')
    b = js({"video_id": "test_001"})
    valid("unknown-header-field", "request with an unknown header field x_future, which receivers ignore",
          [(w.build_frame(h, b, 0, len(b)),
            frame_meaning({"kind": "request", "id": 9, "service": "analysis-store",
                           "method": "get", "x_future": {"a": [1, 2]}}, b, False, len(b)))],
          canonical=False)
    h = raw('{ "id": 10, "kind": "ping" }')
    valid("header-noncanonical-order", "ping whose header has whitespace and fields out of canonical order: valid",
          [(w.build_frame(h, b"", 0, 0), frame_meaning({"id": 10, "kind": "ping"}, b"", False, 0))],
          canonical=False)
    body = analysis_body()
    z9 = zlib.compress(body, 9)
    hh = {"kind": "request", "id": 4, "service": "analysis-store", "method": "put"}
    valid("request-compressed-level9", "compressed with zlib level 9 instead of 1: any valid zlib stream is accepted",
          [(w.build_frame(w.encode_header(hh), z9, 1, len(body)),
            frame_meaning(hh, body, True, len(body)))],
          canonical=False)
    small = js({"video_id": "test_001"})
    hh = {"kind": "request", "id": 12, "service": "analysis-store", "method": "get"}
    valid("request-small-compressed", "a 23-byte body compressed although below the threshold and larger once compressed: not canonical, still valid",
          [encoded(hh, small, True, compress=True)], canonical=False)

    # ---- invalid: frame stage
    p = w.encode_frame(ping_h, b"")
    invalid("bad-version", "ping frame with version byte 2", p[:4] + b"\x02" + p[5:], [],
            err("frame", "unsupported-version"))
    invalid("frame-too-short", "frame_length 3 (< 8), decided from the 4 length bytes",
            bytes.fromhex("00000003010000"), [], err("frame", "frame-too-short"))
    invalid("frame-too-large", "frame_length 0x01000001 (16 MiB + 1): rejected from the 4 length bytes alone",
            bytes.fromhex("01000001"), [], err("frame", "frame-too-large"))
    hh = {"kind": "request", "id": 1, "service": "analysis-store", "method": "get", "timeout_ms": 5000}
    hh["method"] = "get-" + "x" * (100 - len(w.encode_header(hh)) - 1)
    assert len(w.encode_header(hh)) == 100
    invalid("header-too-large", "valid 100-byte header with max_header_bytes lowered to 64",
            w.encode_frame(hh, b""), [], err("frame", "header-too-large"),
            limits={"max_header_bytes": 64})
    hb = w.encode_header(ping_h)
    invalid("header-overrun", f"header_length 40 but frame_length {8 + len(hb)} leaves only {len(hb)} bytes after the prefix",
            w.build_frame(hb, b"", 0, 0)[:6] + (40).to_bytes(2, "big") + bytes(4) + hb,
            [], err("frame", "header-overrun"))
    invalid("unknown-flags", "ping with reserved flag bit 0x80 set", p[:5] + b"\x80" + p[6:], [],
            err("frame", "unknown-flags"))
    invalid("size-mismatch-plain", "uncompressed request whose body_size says 22 but 23 body bytes follow",
            w.build_frame(w.encode_header(req_plain_h), req_plain_b, 0, 22), [],
            err("frame", "size-mismatch"))
    cut = req_plain[0][:40]
    invalid("truncated", "the request-plain frame cut after 40 of its bytes", cut, [],
            err("frame", "truncated"))
    invalid("truncated-length", "stream ends after 2 bytes of the length field", b"\x00\x00", [],
            err("frame", "truncated"))
    invalid("truncated-second-frame", "a complete ping followed by a frame cut inside its prefix",
            p + p[:9], [frame_meaning(ping_h, b"", False, 0)], err("frame", "truncated", 1))

    def bad_header(name, description, text: bytes, body: bytes = b""):
        invalid(name, description, w.build_frame(text, body, 0, len(body)), [],
                err("frame", "header-malformed"))

    bad_header("bad-json-header", 'header is the incomplete JSON {"kind":', raw('{"kind":'))
    bad_header("header-not-object", "header is a JSON array", raw('["ping",1]'))
    bad_header("header-wrong-type", 'ping whose id is the string "7"', raw('{"kind":"ping","id":"7"}'))
    bad_header("header-id-float", "ping whose id is written 7.0 (integers take no fraction)",
               raw('{"kind":"ping","id":7.0}'))
    bad_header("header-id-negative", "ping whose id is -1", raw('{"kind":"ping","id":-1}'))
    bad_header("header-id-too-big", "ping whose id is 2^53", raw('{"kind":"ping","id":9007199254740992}'))
    bad_header("header-missing-method", "request without method",
               raw('{"kind":"request","id":1,"service":"analysis-store"}'), js({}))
    bad_header("header-missing-id", "response without id", raw('{"kind":"response"}'))
    bad_header("header-unknown-kind", 'unknown kind "subscribe"', raw('{"kind":"subscribe","id":1}'))
    bad_header("header-duplicate-key", "ping with the key id twice", raw('{"kind":"ping","id":1,"id":2}'))
    bad_header("header-bad-utf8", "request whose service name contains the byte 0xff",
               b'{"kind":"request","id":1,"service":"analysis\xffstore","method":"get"}')
    bad_header("header-lone-surrogate", "ping with a trace holding the escaped lone surrogate \\ud800",
               raw('{"kind":"ping","id":1,"trace":"\\ud800"}'))
    bad_header("header-error-incomplete", "error frame whose error object lacks retryable",
               raw('{"kind":"error","error":{"code":"internal","message":"boom"}}'))

    # ---- invalid: body stage (the frame itself decodes; the body is refused)
    big = js({"video_id": "test_001", "padding": "x" * 5000})
    zbig = w.deflate(big)
    hh = {"kind": "request", "id": 20, "service": "analysis-store", "method": "put"}
    invalid("size-mismatch-compressed", f"compressed body declared 100 bytes that inflates to {len(big)}: refused after producing 101 bytes",
            w.build_frame(w.encode_header(hh), zbig, 1, 100),
            [frame_meaning(hh, None, True, 100)], err("body", "size-mismatch"))
    zs = w.deflate(req_plain_b)
    declared = 1_000_000
    assert declared > 1032 * len(zs) + 64
    hh = {"kind": "request", "id": 21, "service": "analysis-store", "method": "put"}
    invalid("size-lie-impossible", f"{len(zs)} compressed bytes declared as {declared}: more than deflate can produce (1032*{len(zs)}+64), refused without inflating",
            w.build_frame(w.encode_header(hh), zs, 1, declared),
            [frame_meaning(hh, None, True, declared)], err("body", "size-mismatch"))
    bomb = zlib.compress(bytes(16 * 1024 * 1024), 9)
    hh = {"kind": "request", "id": 22, "service": "analysis-store", "method": "put"}
    invalid("decompression-bomb", f"{len(bomb)} bytes of zlib inflating to 16 MiB of zeros, honestly declared 16777216, max_body_bytes 65536: refused without inflating",
            w.build_frame(w.encode_header(hh), bomb, 1, 16777216),
            [frame_meaning(hh, None, True, 16777216)], err("body", "body-too-large"),
            limits={"max_body_bytes": 65536})
    hh = {"kind": "request", "id": 23, "service": "analysis-store", "method": "put"}
    invalid("decompression-bomb-lying", "the same bomb declared as 65536 bytes: refused once inflation produces byte 65537",
            w.build_frame(w.encode_header(hh), bomb, 1, 65536),
            [frame_meaning(hh, None, True, 65536)], err("body", "size-mismatch"),
            limits={"max_body_bytes": 65536})
    hh = {"kind": "request", "id": 24, "service": "analysis-store", "method": "put"}
    invalid("body-too-large-plain", "uncompressed 23-byte body with max_body_bytes lowered to 16",
            w.build_frame(w.encode_header(hh), req_plain_b, 0, len(req_plain_b)),
            [frame_meaning(hh, None, False, len(req_plain_b))], err("body", "body-too-large"),
            limits={"max_body_bytes": 16})
    hh = {"kind": "request", "id": 25, "service": "analysis-store", "method": "get"}
    invalid("corrupt-body", "compressed flag set on a body that is plain JSON, not zlib",
            w.build_frame(w.encode_header(hh), req_plain_b, 1, 64),
            [frame_meaning(hh, None, True, 64)], err("body", "corrupt-body"))
    hh = {"kind": "request", "id": 26, "service": "analysis-store", "method": "put"}
    invalid("corrupt-body-truncated-zlib", "compressed body missing the last 4 bytes of its zlib stream",
            w.build_frame(w.encode_header(hh), zbig[:-4], 1, len(big)),
            [frame_meaning(hh, None, True, len(big))], err("body", "corrupt-body"))
    hh = {"kind": "request", "id": 27, "service": "analysis-store", "method": "put"}
    invalid("corrupt-body-trailing-bytes", "a complete zlib stream followed by 2 extra bytes",
            w.build_frame(w.encode_header(hh), zbig + b"\x00\x00", 1, len(big)),
            [frame_meaning(hh, None, True, len(big))], err("body", "corrupt-body"))
    hh = {"kind": "request", "id": 28, "service": "analysis-store", "method": "put"}
    invalid("size-mismatch-short", f"compressed body declared {len(big) + 10} bytes that inflates to only {len(big)}",
            w.build_frame(w.encode_header(hh), zbig, 1, len(big) + 10),
            [frame_meaning(hh, None, True, len(big) + 10)], err("body", "size-mismatch"))

    # Fill in canonical for valid vectors by construction check.
    for v in V:
        if v.error is None:
            enc = canonical_encoding(v.frames)
            actual = enc == v.data
            assert actual == v.canonical, (v.name, actual)
    names = [v.name for v in V]
    assert len(names) == len(set(names))
    return V


def render(v: Vec) -> str:
    return json.dumps(v.to_json(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- check

def meaning_of(frames, error) -> tuple[list, dict | None]:
    out = []
    for f in frames:
        out.append(frame_meaning(f["header"], f["body"], f["compressed"], f["body_size"]))
    return out, error


def load_schemas():
    """Validators by file name: "NAME.schema.json" for proto/schemas/, and
    "methods/NAME.schema.json" for proto/schemas/methods/. None without jsonschema."""
    try:
        import jsonschema  # noqa: F401
        from referencing import Registry, Resource
    except ImportError:
        return None
    resources = []
    schemas = {}
    paths = [(p.name, p) for p in sorted((PROTO / "schemas").glob("*.schema.json"))]
    paths += [(f"methods/{p.name}", p) for p in sorted(METHOD_SCHEMAS.glob("*.schema.json"))]
    for name, path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        schemas[name] = doc
        resources.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)
    from jsonschema import Draft202012Validator
    validators = {}
    for name, doc in schemas.items():
        Draft202012Validator.check_schema(doc)
        validators[name] = Draft202012Validator(doc, registry=registry)
    return validators


# ---------------------------------------------------------------- method examples

METHOD_SCHEMAS = PROTO / "schemas" / "methods"
METHOD_EXAMPLES = HERE / "methods"
# Example files whose schema is not NAME.schema.json.
METHOD_SCHEMA_OF = {
    "registry.lookup.response": "registry.snapshot",
    "registry.watch.response": "registry.snapshot",
}
# Schemas that are not messages (only $defs), so need no example.
METHOD_SCHEMAS_WITHOUT_EXAMPLES = {"registry.defs", "analysis-store.defs", "ingest.defs", "prediction.defs", "conversion.defs"}


def _analysis(**changes) -> dict:
    analysis = {"id": "cmwqtdjauhoy2z9zj6dk2mdog", "video_id": "test_001", "description": "A sunset",
                "created_at": "2026-11-21T19:41:45.845Z", "updated_at": "2026-11-21T19:41:45.845Z"}
    analysis.update(changes)
    return {k: v for k, v in analysis.items() if v is not None}


def _record(**changes) -> dict:
    record = {"service": "analysis-store", "instance": "analysis-store-1", "host": "10.0.0.12",
              "port": 7311, "version": "0.1.0", "methods": ["echo", "get", "info", "ping"],
              "subscriptions": []}
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


# Bodies the methods refuse (invalid-argument), which the schemas must refuse too:
# (schema, body, what is wrong).
METHOD_COUNTER_EXAMPLES = [
    ("registry.register.request", {"record": _record(subscriptions=None), "lease_ms": 6000},
     "record without subscriptions (required: the Swift type has no default)"),
    ("registry.register.request", {"record": _record()}, "no lease_ms"),
    ("registry.register.request", {"record": _record(port=0), "lease_ms": 6000}, "record.port 0"),
    ("registry.register.request", {"record": _record(port=65536), "lease_ms": 6000}, "record.port 65536"),
    ("registry.register.request", {"record": _record(host=""), "lease_ms": 6000}, "empty record.host"),
    ("registry.register.request", {"record": _record(service="s" * 129), "lease_ms": 6000},
     "record.service of 129 bytes"),
    ("registry.register.request", {"record": _record(), "lease_ms": "6000"}, "lease_ms as a string"),
    ("registry.heartbeat.request", {"instance": "analysis-store-1", "state": "paused", "in_flight": 0},
     "unknown state"),
    ("registry.heartbeat.request", {"instance": "analysis-store-1", "state": "serving"}, "no in_flight"),
    ("registry.deregister.request", {}, "no instance"),
    ("registry.lookup.request", {"service": 7}, "service not a string"),
    ("registry.watch.request", {"revision": -1, "wait_ms": 1000}, "negative revision"),
    ("registry.watch.request", {"revision": 3}, "no wait_ms"),
    ("registry.snapshot", {"revision": 3, "instances": [{"record": _record(), "state": "serving",
                                                         "lease_age_ms": 5}]},
     "instance view without in_flight"),
    ("analysis-store.create.request", {"video_id": "test_001"},
     "no description (required: the Swift type has no default)"),
    ("analysis-store.create.request", {"description": "A sunset"}, "no video_id"),
    ("analysis-store.create.request", {"video_id": "", "description": "A sunset"}, "an empty video_id"),
    ("analysis-store.create.request", {"video_id": " \u3000\u00a0", "description": "A sunset"},
     "a video_id of whitespace only"),
    ("analysis-store.create.request", {"video_id": "test\n001", "description": "A sunset"},
     "a control character in video_id"),
    ("analysis-store.create.request", {"video_id": "test_001", "description": None},
     "description null"),
    ("analysis-store.create.request", {"video_id": "test_001", "description": "x" * (1048576 + 1)},
     "a description of 1048577 bytes"),
    ("analysis-store.update.request", {"video_id": "test_001"}, "no description"),
    ("analysis-store.get.request", {}, "no video_id"),
    ("analysis-store.delete.request", {"video_id": 1}, "video_id not a string"),
    ("analysis-store.list.request", {"limit": -1}, "limit -1"),
    ("analysis-store.list.request", {"cursor": "bogus"}, "a malformed cursor"),
    ("analysis-store.get.request", {"video_id": "v" * 256}, "a video_id of 256 code points"),
    ("analysis-store.list.request", {"limit": 501}, "limit 501"),
    ("analysis-store.list.request", {"limit": "10"}, "limit as a string"),
    ("analysis-store.list.request", {"cursor": 7}, "cursor not a string"),
    ("analysis-store.search.request", {"limit": 10}, "no query"),
    ("analysis-store.search.request", {"query": ""}, "an empty query"),
    ("analysis-store.page", {"analyses": [_analysis()]},
     "no count (required: the Swift type decodes it)"),
    ("analysis-store.page", {"count": 0}, "no analyses"),
    ("analysis-store.page", {"analyses": [_analysis(updated_at=None)], "count": 1},
     "an analysis without updated_at"),
    ("analysis-store.analysis", _analysis(created_at="2026-11-21T19:41:45Z"),
     "created_at without milliseconds"),
    ("analysis-store.analysis", _analysis(id="0mwqtdjauhoy2z9zj6dk2mdog"), "an id not starting with c"),
    ("analysis-store.event", {"id": "cmwqtdjauhoy2z9zj6dk2mdog"}, "no video_id"),
    ("ingest.users.create.request", {"name": "Ada"}, "no email"),
    ("ingest.users.create.request", {"email": "ada.example.com"}, "an email without @"),
    ("ingest.users.create.request", {"email": "ada@example.com", "role": "admin"}, "a role in lower case"),
    ("ingest.users.create.request", {"email": "ada@example.com", "settings": []}, "settings not an object"),
    ("ingest.users.update.request", {"name": "Ada"}, "no id"),
    ("ingest.authenticate.request", {}, "no key"),
    ("ingest.new-key", {"id": "cmwqtkz8ibhcvrzyn2xuqgy1h", "name": "", "key": "sk_live_123", "prefix": "sk_live_",
                        "created_at": "2026-11-21T19:47:33.090Z"}, "a key not of the vbk_ form"),
    ("ingest.keys.page", {"api_keys": [{"id": "k", "name": "", "prefix": "vbk_Q7cz", "created_at": "2026-11-21T19:44:10.532Z"}],
                          "count": 1}, "a key without last_used_at"),
    ("ingest.tenants.create.request", {"name": "-acme"}, "a tenant name starting with -"),
    ("ingest.tenants.create.request", {"name": "a" * 64}, "a tenant name of 64 characters"),
    ("ingest.assets.create.request", {"title": "Launch"}, "no source_url"),
    ("ingest.assets.create.request", {"source_url": "ftp://files.example.com/launch.mp4"}, "a source_url with ftp://"),
    ("ingest.assets.create.request", {"source_url": "https:///launch.mp4"}, "a source_url without a host"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/my video.mp4"}, "a space in source_url"),
    ("ingest.assets.create.request", {"source_url": "HTTPS://example.com/v.mp4"}, "a source_url scheme in upper case"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/vid\u00e9o.mp4"}, "a source_url not in ASCII"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/" + "v" * 2029}, "a source_url of 2049 characters"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/v.mp4", "size_bytes": -1}, "a negative size_bytes"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/v.mp4", "duration_s": 864001}, "a duration_s over ten days"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/v.mp4", "mime_type": "video"}, "a mime_type without a subtype"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/v.mp4", "metadata": []}, "metadata not an object"),
    ("ingest.assets.create.request", {"source_url": "https://example.com/v.mp4", "title": "a\nb"}, "a control character in title"),
    ("ingest.assets.update.request", {"status": "READY"}, "no id"),
    ("ingest.assets.update.request", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "status": "DONE"}, "an unknown asset status"),
    ("ingest.assets.update.request", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "status": "ready"}, "an asset status in lower case"),
    ("ingest.assets.update.request", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "fps": 0}, "fps 0"),
    ("ingest.assets.update.request", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "width": 0}, "width 0"),
    ("ingest.assets.update.request", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "height": 65537}, "height 65537"),
    ("ingest.assets.update.request", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "status": "FAILED", "error": ""}, "an empty error"),
    ("ingest.assets.list.request", {"limit": 501}, "limit 501"),
    ("ingest.asset", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "user_id": "cmwqtdjauhoy2z9zj6dk2mdog",
                      "source_url": "https://storage.example.com/videos/launch.mp4", "status": "PENDING", "metadata": {},
                      "created_at": "2026-11-21T19:41:45.845Z", "updated_at": "2026-11-21T19:41:45.845Z"},
     "unknown facts left out instead of null"),
    ("ingest.clips.create.request", {"id": "cmwqv3m0tbhd2rzynb8c1d5fg", "start_s": -1, "end_s": 12.5}, "a negative start_s"),
    ("ingest.clips.create.request", {"id": "cmwqv3m0tbhd2rzynb8c1d5fg", "start_s": 0}, "no end_s"),
    ("ingest.clips.create.request", {"start_s": 0, "end_s": 12.5}, "no asset id"),
    ("ingest.clips.create.request", {"id": "cmwqv3m0tbhd2rzynb8c1d5fg", "start_s": 0, "end_s": 864000.5}, "an end_s over ten days"),
    ("ingest.clips.create.request", {"id": "cmwqv3m0tbhd2rzynb8c1d5fg", "start_s": "0", "end_s": 12.5}, "start_s as a string"),
    ("ingest.clips.update.request", {"id": "cmwqv5a1xbhd3rzyn0k2m4n6p", "status": "published"}, "a clip status in lower case"),
    ("ingest.clips.update.request", {"id": "cmwqv5a1xbhd3rzyn0k2m4n6p", "status": "READY"}, "an asset status for a clip"),
    ("ingest.clips.update.request", {"id": "cmwqv5a1xbhd3rzyn0k2m4n6p", "label": "x" * 201}, "a label of 201 characters"),
    ("ingest.clips.list.request", {"id": "cmwqv3m0tbhd2rzynb8c1d5fg", "cursor": "1795290182310.cmwqv3m0tbhd2rzynb8c1d5fg"},
     "a cursor of another list (created_at.id, not start_s~id)"),
    ("ingest.clips.top.request", {"min_score": 1.5}, "a min_score of 1.5"),
    ("ingest.clips.top.request", {"limit": -1}, "limit -1"),
    ("ingest.clips.top.request", {"limit": 501}, "limit 501"),
    ("ingest.clip", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg", "start_s": 12.5, "end_s": 30.25,
                     "label": None, "status": "SCORED", "score": 1.5, "rank": 1, "features": {"motion": 0.62},
                     "created_at": "2026-11-21T20:02:41.734Z", "updated_at": "2026-11-21T20:05:09.262Z"}, "a score of 1.5"),
    ("ingest.clip", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg", "start_s": 12.5, "end_s": 30.25,
                     "label": None, "status": "SCORED", "score": 0.87, "rank": 0, "features": {"motion": 0.62},
                     "created_at": "2026-11-21T20:02:41.734Z", "updated_at": "2026-11-21T20:05:09.262Z"}, "rank 0"),
    ("ingest.clips.top", {"clips": []}, "no count"),
    ("ingest.asset-event", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "user_id": "cmwqtdjauhoy2z9zj6dk2mdog"}, "no status"),
    ("ingest.asset-status-change", {"id": "cmwqv2k9rbhd1rzyn4pxq7a2e", "from": "PENDING", "to": "Processing"},
     "an asset status in mixed case"),
    ("ingest.clip-event", {"id": "cmwqv5a1xbhd3rzyn0k2m4n6p"}, "no asset_id"),
    ("analysis-store.clip-analyzed", {"clip_id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg",
                                      "score": 1.5, "features": {}, "analyzed_at": "2026-11-21T20:05:09.184Z"}, "a score of 1.5"),
    ("analysis-store.clip-analyzed", {"clip_id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg",
                                      "score": 0.5, "features": {"motion": "high"}, "analyzed_at": "2026-11-21T20:05:09.184Z"},
     "a feature that is not a number"),
    ("analysis-store.clip-analyzed", {"clip_id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg",
                                      "features": {}, "analyzed_at": "2026-11-21T20:05:09.184Z"}, "no score"),
    ("analysis-store.clip-analyzed", {"clip_id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg",
                                      "score": 0.5, "features": {}}, "no analyzed_at"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": {}, "score": 1.5}, "a score of 1.5"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": {}, "score": -0.01}, "a negative score"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": {}}, "no score"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "score": 0.5}, "no features"),
    ("analysis-store.clip-analyses.put.request", {"features": {}, "score": 0.5}, "no clip id"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": {"motion": "high"}, "score": 0.5},
     "a feature that is not a number"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": {"f" * 201: 1}, "score": 0.5},
     "a feature name of 201 characters"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": {f"f{i}": i for i in range(257)},
                                                  "score": 0.5}, "257 features"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": {}, "score": 0.5, "analyzer": "a" * 201},
     "an analyzer of 201 characters"),
    ("analysis-store.clip-analyses.put.request", {"id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "features": [0.5], "score": 0.5}, "features not an object"),
    ("analysis-store.clip-analyses.get.request", {"id": ""}, "an empty clip id"),
    ("analysis-store.clip-analysis", {"clip_id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg", "features": {},
                                      "score": 0.5, "created_at": "2026-11-21T20:05:09.184Z", "updated_at": "2026-11-21T20:05:09.184Z"},
     "no analyzer (the service sends null)"),
    ("analysis-store.clip-analysis", {"clip_id": "cmwqv5b7zbhd4rzyn3q5s7t9v", "asset_id": "cmwqv3m0tbhd2rzynb8c1d5fg", "features": {},
                                      "score": 0.5, "analyzer": None, "created_at": "2026-11-21T20:05:09.184Z",
                                      "updated_at": "2026-11-21T20:05:09.184Z", "created": "yes"}, "created not a boolean"),
    ("analysis-store.knowledge.create.request", {"content": "x", "category": "policy"}, "a document without title"),
    ("analysis-store.knowledge.create.request", {"title": "", "content": "x", "category": "policy"}, "an empty title"),
    ("analysis-store.knowledge.create.request", {"title": "t" * 501, "content": "x", "category": "policy"}, "a title of 501 characters"),
    ("analysis-store.knowledge.create.request", {"title": "a\tb", "content": "x", "category": "policy"}, "a control character in title"),
    ("analysis-store.knowledge.create.request", {"title": "T", "category": "policy"}, "no content"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "a\u0000b", "category": "policy"}, "a NUL in content"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x"}, "no category"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c" * 101}, "a category of 101 characters"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "tags": ["t"] * 51}, "51 tags"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "tags": [""]}, "an empty tag"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "tags": "a,b"}, "tags not an array"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "embedding": "0.1,0.2"},
     "an embedding that is not an array"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "embedding": [0.1, "0.2"]},
     "an embedding with a string in it"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "embedding": []}, "an empty embedding"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "embedding": [0, 0.0, -0.0]},
     "a zero vector"),
    ("analysis-store.knowledge.create.request", {"title": "T", "content": "x", "category": "c", "embedding": [1.0] * 4097},
     "an embedding of 4097 numbers"),
    ("analysis-store.knowledge.update.request", {"title": "T"}, "no id"),
    ("analysis-store.knowledge.update.request", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z", "title": ""}, "an empty title"),
    ("analysis-store.knowledge.update.request", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z", "embedding": [0, 0]}, "a zero vector"),
    ("analysis-store.knowledge.get.request", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z", "version": 0}, "version 0"),
    ("analysis-store.knowledge.get.request", {"version": 1}, "no id"),
    ("analysis-store.knowledge.delete.request", {}, "no id"),
    ("analysis-store.knowledge.list.request", {"limit": 501}, "limit 501"),
    ("analysis-store.knowledge.list.request", {"cursor": "3~cmwr0a1b2bhe5rzyn6t8v0x2z"}, "a malformed cursor"),
    ("analysis-store.knowledge.list.request", {"category": 7}, "a category that is not a string"),
    ("analysis-store.knowledge.versions.request", {"limit": 10}, "no id"),
    ("analysis-store.knowledge.versions.request", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z", "limit": -1}, "limit -1"),
    ("analysis-store.knowledge.search-text.request", {"category": "policy"}, "a search without q"),
    ("analysis-store.knowledge.search-text.request", {"q": ""}, "an empty q"),
    ("analysis-store.knowledge.search-text.request", {"q": "w" * 1001}, "a q of 1001 characters"),
    ("analysis-store.knowledge.search-text.request", {"q": "hook", "limit": 101}, "limit 101"),
    ("analysis-store.knowledge.search-text.request", {"q": "hook", "limit": -1}, "limit -1"),
    ("analysis-store.knowledge.search-vector.request", {"k": 3}, "no embedding"),
    ("analysis-store.knowledge.search-vector.request", {"embedding": None}, "embedding null"),
    ("analysis-store.knowledge.search-vector.request", {"embedding": {"x": 1}}, "an embedding that is not an array of numbers"),
    ("analysis-store.knowledge.search-vector.request", {"embedding": [0.0, 0.0]}, "a zero vector"),
    ("analysis-store.knowledge.search-vector.request", {"embedding": [1, 0], "k": 0}, "k 0"),
    ("analysis-store.knowledge.search-vector.request", {"embedding": [1, 0], "k": 101}, "k 101"),
    ("analysis-store.document", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z", "title": "T", "content": "", "category": "c", "tags": [], "version": 1,
                                 "created_at": "2026-11-21T20:14:03.552Z", "updated_at": "2026-11-21T20:14:03.552Z"}, "no has_embedding"),
    ("analysis-store.document", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z", "title": "T", "content": "", "category": "c", "tags": [], "version": 0,
                                 "has_embedding": False, "created_at": "2026-11-21T20:14:03.552Z", "updated_at": "2026-11-21T20:14:03.552Z"},
     "version 0"),
    ("analysis-store.document", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z", "title": "T", "content": "", "category": "c", "tags": None, "version": 1,
                                 "has_embedding": False, "created_at": "2026-11-21T20:14:03.552Z", "updated_at": "2026-11-21T20:14:03.552Z"},
     "tags null (the service sends [])"),
    ("analysis-store.knowledge.page", {"documents": []}, "no count"),
    ("analysis-store.knowledge.versions.page", {"count": 0}, "no versions"),
    ("analysis-store.knowledge.results", {"results": []}, "no count"),
    ("analysis-store.knowledge.results", {"results": [{"score": 0.5}], "count": 1}, "a result without its document"),
    ("analysis-store.document-event", {"id": "cmwr0a1b2bhe5rzyn6t8v0x2z"}, "no version"),
    ("prediction.predictions.set-actual.request", {"id": "cmwqtdjauhoy2z9zj6dk2mdog"}, "no metric beside id"),
    ("prediction.predict.request", {"clip_id": "cmwqtdjauhoy2z9zj6dk2mdog", "model": "engagement@0"}, "a model reference ending @0"),
    ("prediction.models.create-version.request", {"name": "engagement", "metrics": {"ctr": {"kind": "Linear", "intercept": 0, "coefficients": {}}}},
     "kind Linear (lowercase only)"),
    ("prediction.models.set-alias.request", {"name": "engagement", "alias": "3", "version": 1}, "an alias that is a number"),
    ("prediction.predictions.list.request", {"limit": 501}, "limit 501"),
    ("conversion.clip-metrics", {"campaign_id": "c1", "clip_id": "c2", "impressions": -1, "clicks": 0}, "negative impressions"),
    ("conversion.campaigns.create.request", {"name": "Spring launch", "objective": "conversions", "budget": "5000.00"},
     "an objective in lower case"),
    ("conversion.campaigns.create.request", {"name": "Spring launch", "objective": "SALES", "budget": "-5.00"}, "a negative budget"),
    ("conversion.campaigns.create.request", {"name": "Spring launch", "objective": "SALES", "budget": "5000.00", "status": "PAUSED"},
     "a campaign that starts PAUSED"),
    ("conversion.campaigns.create.request", {"name": "Spring launch", "objective": "SALES", "budget": "1", "currency": "usd"},
     "a currency in lower case"),
    ("conversion.campaigns.add-metrics.request", {"id": "cmwr2c4m7bhg8rzyn5k7n9q2d", "spend": "1.00", "impressions": -1, "clicks": 0},
     "negative impressions"),
    ("conversion.experiments.create.request", {"id": "cmwr2c4m7bhg8rzyn5k7n9q2d", "name": "Hook", "metric": "conversion_rate",
                                               "variants": [{"id": "control", "weight": 1}]}, "a single variant"),
    ("conversion.experiments.create.request", {"id": "cmwr2c4m7bhg8rzyn5k7n9q2d", "name": "Hook", "metric": "conversion_rate",
                                               "variants": [{"id": "control", "weight": 1}, {"id": "b", "weight": 0}]}, "a weight of 0"),
    ("conversion.record.request", {"source": "FACEBOOK", "external_id": "fb-1001", "value": "49.90", "occurred_at": "2026-11-22T10:14:03Z"},
     "an unknown source"),
    ("conversion.record.request", {"source": "META", "external_id": "fb-1001", "value": "49.90", "occurred_at": "2026-11-22T10:14:03"},
     "an occurred_at without a zone"),
    ("conversion.record.request", {"source": "GOOGLE", "external_id": "", "value": "49.90", "occurred_at": "2026-11-22T10:14:03Z"},
     "an empty external_id"),
    ("conversion.conversions.attribution.request", {"id": "cmwr3a5n2bhj4rzyn8d0f2h4k", "model": "u_shaped"}, "an unknown attribution model"),
    ("conversion.conversion", {"id": "cmwr3a5n2bhj4rzyn8d0f2h4k", "source": "META", "external_id": "fb-1001", "value": "49.90", "currency": "USD",
                               "occurred_at": "2026-11-22T10:14:03.000Z", "touchpoints": [], "created_at": "2026-11-22T10:16:03.518Z"},
     "event_name, campaign_id, experiment_id, variant_id and click_id left out (the service sends null)"),
    ("conversion.campaign-attribution", {"campaign_id": "cmwr2c4m7bhg8rzyn5k7n9q2d", "model": "last", "credited_value": 269.9, "currency": "USD",
                                         "conversions": 3}, "credited_value as a JSON number (answers send strings)"),
]


def _method_example_problems(schema: str, body: dict) -> list[str]:
    """What an example breaks beyond its schema (rules JSON Schema cannot state)."""
    problems = []
    if schema == "registry.snapshot":
        try:
            keys = [(v["record"]["service"], v["record"]["instance"]) for v in body["instances"]]
        except (KeyError, TypeError):
            return ["instances[].record.service/instance missing"]
        if keys != sorted(keys):
            problems.append("instances are not sorted by service, then instance")
    elif schema == "analysis-store.analysis":
        if body["updated_at"] < body["created_at"]:
            problems.append("updated_at is before created_at")
    elif schema == "analysis-store.page":
        analyses = body["analyses"]
        if body["count"] != len(analyses):
            problems.append(f"count {body['count']} is not the number of analyses ({len(analyses)})")
        keys = [(a["created_at"], a["id"]) for a in analyses]
        if keys != sorted(keys, reverse=True):
            problems.append("analyses are not newest first (created_at, then id, descending)")
        if any(a["updated_at"] < a["created_at"] for a in analyses):
            problems.append("an analysis's updated_at is before its created_at")
        if body.get("next_cursor") is not None and not analyses:
            problems.append("next_cursor on an empty page")
    elif schema == "ingest.asset":
        problems += _asset_problems(body)
    elif schema == "ingest.clip":
        problems += _clip_problems(body)
    elif schema in ("ingest.assets.page", "ingest.clips.page", "ingest.clips.top"):
        items = body["assets" if schema == "ingest.assets.page" else "clips"]
        if body["count"] != len(items):
            problems.append(f"count {body['count']} is not the number of items ({len(items)})")
        if schema == "ingest.assets.page":
            keys, order = [(a["created_at"], a["id"]) for a in items], "newest first (created_at, then id, descending)"
            ordered = keys == sorted(keys, reverse=True)
            problems += [p for a in items for p in _asset_problems(a)]
        elif schema == "ingest.clips.page":
            keys, order = [(c["start_s"], c["id"]) for c in items], "by start_s, then id"
            ordered = keys == sorted(keys)
        else:
            keys, order = [(-(c["score"] or 0), c["start_s"], c["id"]) for c in items], "best score first (then start_s, id)"
            ordered = keys == sorted(keys)
            if any(c["score"] is None or c["status"] == "REJECTED" for c in items):
                problems.append("an unscored or rejected clip among the top clips")
        if not ordered:
            problems.append(f"items are not {order}")
        if schema != "ingest.assets.page":
            problems += [p for c in items for p in _clip_problems(c)]
        if body.get("next_cursor") is not None and not items:
            problems.append("next_cursor on an empty page")
    elif schema == "analysis-store.clip-analysis":
        if body["updated_at"] < body["created_at"]:
            problems.append("updated_at is before created_at")
    elif schema == "analysis-store.document":
        problems += _document_problems(body)
    elif schema in ("analysis-store.knowledge.page", "analysis-store.knowledge.versions.page", "analysis-store.knowledge.results"):
        field = {"analysis-store.knowledge.page": "documents", "analysis-store.knowledge.versions.page": "versions"}.get(schema, "results")
        items = body[field]
        if body["count"] != len(items):
            problems.append(f"count {body['count']} is not the number of {field} ({len(items)})")
        documents = [r["document"] for r in items] if field == "results" else items
        problems += [p for d in documents for p in _document_problems(d)]
        if field == "documents":
            keys, order = [(d["created_at"], d["id"]) for d in items], "newest first (created_at, then id, descending)"
            ordered = keys == sorted(keys, reverse=True)
        elif field == "versions":
            numbers, order = [v["version"] for v in items], "one document's, newest first (version strictly descending)"
            ordered = len({v["id"] for v in items}) <= 1 and all(a > b for a, b in zip(numbers, numbers[1:]))
            if items and body.get("next_cursor") is not None and body["next_cursor"] != f"{items[-1]['version']}.{items[-1]['id']}":
                problems.append("next_cursor is not '<version>.<document id>' of the last version")
        else:
            keys, order = [(-r["score"], r["document"]["id"]) for r in items], "best first (score descending, then id ascending)"
            ordered = keys == sorted(keys)
            if len({r["document"]["id"] for r in items}) != len(items):
                problems.append("a document found twice")
        if not ordered:
            problems.append(f"{field} are not {order}")
        if field == "documents" and items and body.get("next_cursor") is not None:
            last = items[-1]
            if body["next_cursor"] != f"{_epoch_ms(last['created_at'])}.{last['id']}":
                problems.append("next_cursor is not '<created_at ms>.<id>' of the last document")
        if body.get("next_cursor") is not None and not items:
            problems.append("next_cursor on an empty page")
    return problems


def _epoch_ms(timestamp: str) -> int:
    instant = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return (instant - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(milliseconds=1)


def _document_problems(document: dict) -> list[str]:
    problems = []
    if document["updated_at"] < document["created_at"]:
        problems.append(f"document {document['id']} version {document['version']}: updated_at is before created_at")
    if document["version"] == 1 and document["updated_at"] != document["created_at"]:
        problems.append(f"document {document['id']}: version 1 was made when the document was created (updated_at = created_at)")
    return problems


def _asset_problems(asset: dict) -> list[str]:
    problems = []
    if asset["updated_at"] < asset["created_at"]:
        problems.append(f"asset {asset['id']}: updated_at is before created_at")
    if asset["status"] == "FAILED" and not asset["error"]:
        problems.append(f"asset {asset['id']}: FAILED without error")
    return problems


def _clip_problems(clip: dict) -> list[str]:
    problems = []
    if not clip["start_s"] < clip["end_s"]:
        problems.append(f"clip {clip['id']}: start_s is not before end_s")
    if clip["updated_at"] < clip["created_at"]:
        problems.append(f"clip {clip['id']}: updated_at is before created_at")
    if (clip["score"] is None) != (clip["features"] is None):
        problems.append(f"clip {clip['id']}: score and features are recorded together")
    if clip["rank"] is not None and (clip["score"] is None or clip["status"] == "REJECTED"):
        problems.append(f"clip {clip['id']}: a rank without a score, or on a rejected clip")
    return problems


def check_method_examples(validators) -> tuple[int, int, list[str]]:
    """Validates proto/vectors/methods/*.json; returns (checks passed, checks failed, failures)."""
    passed, failed, failures = 0, 0, []
    schema_names = {p.name[:-len(".schema.json")] for p in METHOD_SCHEMAS.glob("*.schema.json")}
    covered = set()
    for path in sorted(METHOD_EXAMPLES.glob("*.json")):
        fname = f"methods/{path.name}"
        message = path.name[:-len(".json")]
        schema = METHOD_SCHEMA_OF.get(message, message)
        if schema not in schema_names or schema in METHOD_SCHEMAS_WITHOUT_EXAMPLES:
            failures.append(f"{fname}: no schema {schema}.schema.json in schemas/methods/")
            failed += 1
            continue
        covered.add(schema)
        try:
            bodies = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            failures.append(f"{fname}: not JSON: {e}")
            failed += 1
            continue
        if not isinstance(bodies, list) or not 1 <= len(bodies) <= 3:
            failures.append(f"{fname}: must be a list of 1 to 3 example bodies")
            failed += 1
            continue
        for i, body in enumerate(bodies):
            problems = []
            if not isinstance(body, dict):
                problems.append("a body is a JSON object")
            elif validators is not None:
                problems += [f"{e.json_path}: {e.message}" for e in
                             validators[f"methods/{schema}.schema.json"].iter_errors(body)]
            if not problems:
                try:
                    problems += _method_example_problems(schema, body)
                except (KeyError, TypeError) as e:  # only without jsonschema
                    problems.append(f"cannot check the example's rules: {e!r}")
            if problems:
                failures.extend(f"{fname}[{i}]: {p}" for p in problems)
                failed += 1
            else:
                passed += 1
    for schema in sorted(schema_names - covered - METHOD_SCHEMAS_WITHOUT_EXAMPLES):
        failures.append(f"schemas/methods/{schema}.schema.json: no example in vectors/methods/")
        failed += 1
    if validators is not None:
        for schema, body, why in METHOD_COUNTER_EXAMPLES:
            if validators[f"methods/{schema}.schema.json"].is_valid(body):
                failures.append(f"schemas/methods/{schema}.schema.json accepts a body with {why}")
                failed += 1
            else:
                passed += 1
    return passed, failed, failures


def check(vectors: list[Vec]) -> int:
    failures = []
    passed = 0
    validators = load_schemas()
    if validators is None:
        print("note: jsonschema not importable: schema validation skipped (pip install jsonschema)")
    expected_files = {f"{v.name}.json": render(v) for v in vectors}
    on_disk = {p.name for p in HERE.glob("*.json")}
    for stray in sorted(on_disk - set(expected_files)):
        failures.append(f"{stray}: not produced by generate.py (stale file?)")

    codes = json.loads((PROTO / "schemas" / "error-codes.json").read_text(encoding="utf-8"))
    code_names = [c["code"] for c in codes]
    if len(code_names) != 14 or len(set(code_names)) != 14:
        failures.append("schemas/error-codes.json: expected 14 distinct codes")
    for reason, code in w.REASON_CODES.items():
        if code not in code_names:
            failures.append(f"reason {reason} maps to unknown code {code}")

    for fname, text in sorted(expected_files.items()):
        problems = []
        path = HERE / fname
        if not path.exists():
            failures.append(f"{fname}: missing (run generate.py)")
            continue
        committed = path.read_text(encoding="utf-8")
        if committed != text:
            problems.append("differs from the generated content (run generate.py)")
        doc = json.loads(committed)
        if doc.get("name") + ".json" != fname:
            problems.append("name does not match the file name")
        data = bytes.fromhex(doc["hex"])
        frames, error = w.decode_stream(data, doc.get("limits"))
        got_frames, got_error = meaning_of(frames, error)
        if got_frames != doc["frames"]:
            problems.append(f"decoded frames differ: {json.dumps(got_frames, ensure_ascii=False)[:300]}")
        if got_error != doc["error"]:
            problems.append(f"decoded error differs: {got_error}")
        if doc["error"] is None:
            canon = canonical_encoding(doc["frames"]) == data
            if canon != doc["canonical"]:
                problems.append(f"canonical is {doc['canonical']} but re-encoding says {canon}")
        elif doc["canonical"]:
            problems.append("an invalid vector cannot be canonical")
        if len(committed.encode("utf-8")) >= 100_000:
            problems.append("file is 100 KB or more")
        if validators is not None:
            for e in validators["vector.schema.json"].iter_errors(doc):
                problems.append(f"vector schema: {e.message}")
            for f in doc["frames"]:
                for e in validators["header.schema.json"].iter_errors(f["header"]):
                    problems.append(f"header schema: {e.message}")
                kind = f["header"]["kind"]
                if kind in ("hello", "welcome") and "body_text" in f:
                    body = json.loads(f["body_text"])
                    for e in validators[f"{kind}.schema.json"].iter_errors(body):
                        problems.append(f"{kind} schema: {e.message}")
        if problems:
            failures.extend(f"{fname}: {p}" for p in problems)
        else:
            passed += 1

    # Codec self-test of the "strictly smaller" rule. Valid UTF-8 JSON of 4096+
    # bytes always shrinks under deflate, so no vector can show it; binary can.
    noise = random.Random(7).randbytes(8192)
    if w.encode_frame({"kind": "request", "id": 1, "service": "s", "method": "m"}, noise)[5] != 0:
        failures.append("self-test: incompressible 8192-byte body was sent compressed")

    vector_failed = len(vectors) - passed
    method_passed, method_failed, method_failures = check_method_examples(validators)
    failures += method_failures
    passed += method_passed

    for f in failures:
        print("FAIL", f)
    print(f"proto vectors: {passed} passed, {vector_failed + method_failed} failed")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    vectors = build()
    if argv[1:] == ["--check"]:
        return check(vectors)
    if argv[1:]:
        print(__doc__)
        return 2
    for v in vectors:
        (HERE / f"{v.name}.json").write_text(render(v), encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
