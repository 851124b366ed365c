"""Reference codec for the videobus wire format, version 1.

Pure Python 3.11 standard library. Written from proto/PROTOCOL.md; it is the
codec the test vectors in proto/vectors/ are generated and checked with.
It is a reference, not a production implementation: it works on whole
byte strings, not sockets.

Public API:
    encode_header(header) -> bytes           canonical header JSON
    encode_frame(header, body, compress=None, threshold=4096,
                 peer_accepts_deflate=True) -> bytes
    build_frame(header_bytes, wire_body, flags, body_size, version=1) -> bytes
                                             raw assembly, no checks (for crafting invalid frames)
    decode_stream(data, limits) -> (frames, error)
    validate_header(header) -> None          raises HeaderError
"""

from __future__ import annotations

import json
import struct
import zlib

VERSION = 1
FLAG_COMPRESSED = 0x01
PREFIX_SIZE = 12  # frame_length(4) + version(1) + flags(1) + header_length(2) + body_size(4)
FIXED_AFTER_LENGTH = 8  # version + flags + header_length + body_size

MAX_ID = 2**53 - 1

DEFAULT_LIMITS = {
    "max_frame_bytes": 16_777_216,
    "max_header_bytes": 16_384,
    "max_body_bytes": 16_777_216,
    "max_in_flight": 1024,
}
DEFAULT_COMPRESSION_THRESHOLD = 4096

KINDS = ("hello", "welcome", "request", "response", "event", "event-ack",
         "ping", "pong", "go-away", "error")

# Canonical field order of the header.
FIELD_ORDER = ("kind", "id", "service", "method", "timeout_ms", "idempotency_key",
               "trace", "topic", "event_id", "source", "tenant", "user", "role", "error")
ERROR_FIELD_ORDER = ("code", "message", "retryable")

STRING_FIELDS = ("kind", "service", "method", "idempotency_key", "trace",
                 "topic", "event_id", "source", "tenant", "user", "role")
INTEGER_FIELDS = ("id", "timeout_ms")  # both 0 .. 2^53-1

REQUIRED_BY_KIND = {
    "hello": (),
    "welcome": (),
    "request": ("id", "service", "method"),
    "response": ("id",),
    "event": ("id", "topic", "event_id"),
    "event-ack": ("id",),
    "ping": ("id",),
    "pong": ("id",),
    "go-away": (),
    "error": ("error",),
}
# Kinds whose id is optional: the encoder omits it when it is 0.
ID_OPTIONAL_KINDS = ("hello", "welcome", "go-away", "error")
NEVER_COMPRESSED_KINDS = ("hello", "welcome")

# Decoding failure reason -> error code used on the wire when answering.
REASON_CODES = {
    "frame-too-short": "protocol-error",
    "frame-too-large": "limit-exceeded",
    "truncated": "protocol-error",
    "unsupported-version": "unsupported-version",
    "unknown-flags": "protocol-error",
    "header-too-large": "limit-exceeded",
    "header-overrun": "protocol-error",
    "size-mismatch": "protocol-error",
    "header-malformed": "protocol-error",
    "body-too-large": "limit-exceeded",
    "corrupt-body": "protocol-error",
}


class HeaderError(ValueError):
    """The header is not acceptable (decoding reason "header-malformed")."""


# --------------------------------------------------------------------------
# Header validation
# --------------------------------------------------------------------------

def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_unicode(value) -> None:
    """Every string (keys included) must be valid Unicode: an escaped lone
    surrogate such as "\\ud800" is rejected."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise HeaderError("string is not valid Unicode (lone surrogate)") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_unicode(k)
            _check_unicode(v)
    elif isinstance(value, list):
        for v in value:
            _check_unicode(v)


def validate_header(header) -> None:
    """Raise HeaderError unless `header` (a parsed JSON value) is a valid header."""
    if not isinstance(header, dict):
        raise HeaderError("header is not a JSON object")
    _check_unicode(header)
    kind = header.get("kind")
    if not isinstance(kind, str):
        raise HeaderError("kind missing or not a string")
    if kind not in KINDS:
        raise HeaderError(f"unknown kind {kind!r}")
    # Known fields are typed whatever the kind; unknown fields are ignored.
    for name in STRING_FIELDS:
        if name in header and not isinstance(header[name], str):
            raise HeaderError(f"{name} must be a string")
    for name in INTEGER_FIELDS:
        if name in header:
            v = header[name]
            if not _is_int(v):
                raise HeaderError(f"{name} must be an integer")
            if not 0 <= v <= MAX_ID:
                raise HeaderError(f"{name} out of range 0..2^53-1")
    if "error" in header:
        err = header["error"]
        if not isinstance(err, dict):
            raise HeaderError("error must be an object")
        if not isinstance(err.get("code"), str):
            raise HeaderError("error.code missing or not a string")
        if not isinstance(err.get("message"), str):
            raise HeaderError("error.message missing or not a string")
        if not isinstance(err.get("retryable"), bool):
            raise HeaderError("error.retryable missing or not a boolean")
    for name in REQUIRED_BY_KIND[kind]:
        if name not in header:
            raise HeaderError(f"{name} is required for kind {kind}")


def _reject_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise HeaderError(f"duplicate key {k!r}")
        obj[k] = v
    return obj


def _reject_constant(name):
    raise HeaderError(f"{name} is not JSON")


def parse_header(raw: bytes) -> dict:
    """Parse and validate header bytes; raise HeaderError on any failure."""
    try:
        text = raw.decode("utf-8")  # strict: overlongs, surrogates, bad bytes rejected
    except UnicodeDecodeError as e:
        raise HeaderError(f"header is not valid UTF-8: {e}") from None
    try:
        header = json.loads(text, object_pairs_hook=_reject_duplicates,
                            parse_constant=_reject_constant)
    except HeaderError:
        raise
    except (ValueError, RecursionError) as e:
        raise HeaderError(f"header is not JSON: {e}") from None
    validate_header(header)
    return header


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------

def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def encode_header(header: dict) -> bytes:
    """Canonical header encoding: known fields in canonical order, no
    whitespace, absent optionals omitted, id omitted when 0 for
    hello/welcome/go-away/error. Unknown fields are refused (a canonical
    header has none)."""
    validate_header(header)
    unknown = [k for k in header if k not in FIELD_ORDER]
    if unknown:
        raise ValueError(f"canonical header cannot carry unknown fields {unknown}")
    err = header.get("error")
    if err is not None:
        extra = [k for k in err if k not in ERROR_FIELD_ORDER]
        if extra:
            raise ValueError(f"canonical error object cannot carry unknown fields {extra}")
    parts = []
    for name in FIELD_ORDER:
        if name not in header:
            continue
        value = header[name]
        if name == "id" and value == 0 and header["kind"] in ID_OPTIONAL_KINDS:
            continue
        if name == "error":
            value = {k: value[k] for k in ERROR_FIELD_ORDER}
        parts.append(_dumps(name) + ":" + _dumps(value))
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def deflate(body: bytes) -> bytes:
    """zlib format (RFC 1950), level 1, windowBits 15, memLevel 8, default strategy."""
    co = zlib.compressobj(1, zlib.DEFLATED, 15, 8)
    return co.compress(body) + co.flush()


def build_frame(header_bytes: bytes, wire_body: bytes, flags: int, body_size: int,
                version: int = VERSION) -> bytes:
    """Assemble a frame from its parts without any checks."""
    frame_length = FIXED_AFTER_LENGTH + len(header_bytes) + len(wire_body)
    return (struct.pack(">IBBHI", frame_length, version, flags, len(header_bytes), body_size)
            + header_bytes + wire_body)


def encode_frame(header: dict, body: bytes, compress: bool | None = None,
                 threshold: int = DEFAULT_COMPRESSION_THRESHOLD,
                 peer_accepts_deflate: bool = True) -> bytes:
    """Encode one frame.

    compress=None: compress when the peer accepts deflate, the kind is not
    hello/welcome, len(body) >= threshold and the result is strictly smaller.
    compress=True/False forces the choice (for crafting non-canonical vectors).
    """
    header_bytes = encode_header(header)
    if len(header_bytes) > 0xFFFF:
        raise ValueError("header longer than 65535 bytes")
    wire_body, flags = body, 0
    if compress is None:
        if (peer_accepts_deflate and header["kind"] not in NEVER_COMPRESSED_KINDS
                and len(body) >= threshold):
            packed = deflate(body)
            if len(packed) < len(body):
                wire_body, flags = packed, FLAG_COMPRESSED
    elif compress:
        wire_body, flags = deflate(body), FLAG_COMPRESSED
    if FIXED_AFTER_LENGTH + len(header_bytes) + len(wire_body) > 0xFFFFFFFF:
        raise ValueError("frame longer than 2^32-1 bytes")
    return build_frame(header_bytes, wire_body, flags, len(body))


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------

def _error(stage: str, reason: str, frame_index: int) -> dict:
    return {"stage": stage, "reason": reason, "code": REASON_CODES[reason],
            "frame_index": frame_index}


def open_body(compressed: bool, body_size: int, wire_body: bytes, limits: dict):
    """Body stage (steps 9-11). Returns (body bytes, None) or (None, reason)."""
    # 9. declared size against the limit, before anything else.
    if body_size > limits["max_body_bytes"]:
        return None, "body-too-large"
    if not compressed:
        return wire_body, None  # size already checked equal to body_length in step 7
    # 10. a declared size deflate cannot produce from this many bytes.
    if body_size > 1032 * len(wire_body) + 64:
        return None, "size-mismatch"
    # 11. inflate, never producing more than body_size + 1 bytes.
    d = zlib.decompressobj()
    try:
        out = d.decompress(wire_body, body_size + 1)
    except zlib.error:
        return None, "corrupt-body"
    if len(out) > body_size:
        return None, "size-mismatch"
    if not d.eof:
        return None, "corrupt-body"  # truncated stream
    if d.unused_data:
        return None, "corrupt-body"  # bytes after the end of the zlib stream
    if len(out) != body_size:
        return None, "size-mismatch"
    return out, None


def decode_stream(data: bytes, limits: dict | None = None):
    """Decode a whole byte stream following the normative decoding order.

    Returns (frames, error). Each frame is a dict
      {"header": dict, "compressed": bool, "body_size": int, "body": bytes | None}
    (body is None when the body stage failed). error is None or
      {"stage": "frame" | "body", "reason": ..., "code": ..., "frame_index": n}.
    Decoding stops at the first error of either stage.
    """
    lim = dict(DEFAULT_LIMITS)
    lim.update(limits or {})
    frames = []
    pos, n = 0, len(data)
    while pos < n:
        index = len(frames)
        # 1. frame_length
        if n - pos < 4:
            return frames, _error("frame", "truncated", index)
        (frame_length,) = struct.unpack_from(">I", data, pos)
        if frame_length < FIXED_AFTER_LENGTH:
            return frames, _error("frame", "frame-too-short", index)
        if frame_length > lim["max_frame_bytes"]:
            return frames, _error("frame", "frame-too-large", index)
        # 2. the whole frame
        if n - pos - 4 < frame_length:
            return frames, _error("frame", "truncated", index)
        version, flags, header_length, body_size = struct.unpack_from(">BBHI", data, pos + 4)
        # 3.-7.
        if version != VERSION:
            return frames, _error("frame", "unsupported-version", index)
        if flags & 0xFE:
            return frames, _error("frame", "unknown-flags", index)
        if header_length > lim["max_header_bytes"]:
            return frames, _error("frame", "header-too-large", index)
        if header_length > frame_length - FIXED_AFTER_LENGTH:
            return frames, _error("frame", "header-overrun", index)
        body_length = frame_length - FIXED_AFTER_LENGTH - header_length
        compressed = bool(flags & FLAG_COMPRESSED)
        if not compressed and body_size != body_length:
            return frames, _error("frame", "size-mismatch", index)
        # 8. header
        h0 = pos + PREFIX_SIZE
        try:
            header = parse_header(data[h0:h0 + header_length])
        except HeaderError:
            return frames, _error("frame", "header-malformed", index)
        wire_body = data[h0 + header_length:pos + 4 + frame_length]
        pos += 4 + frame_length
        # 9.-11. body stage
        body, reason = open_body(compressed, body_size, wire_body, lim)
        frames.append({"header": header, "compressed": compressed,
                       "body_size": body_size, "body": body})
        if reason is not None:
            return frames, _error("body", reason, index)
    return frames, None
