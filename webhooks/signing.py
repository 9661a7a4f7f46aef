"""The signature of a webhook body, pure: HMAC-SHA256 with the subscription's secret over
the timestamp, a dot, and the body's bytes. The timestamp is in the header too, so a
receiver can refuse old deliveries (replays) before checking anything else."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Fieldkit-Timestamp"
SIGNATURE_HEADER = "X-Fieldkit-Signature"
EVENT_HEADER = "X-Fieldkit-Event"
DELIVERY_HEADER = "X-Fieldkit-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of X-Fieldkit-Signature: "sha256=" and the hex digest."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, header: str, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (README shows the same in a few lines): the timestamp is recent,
    the signature matches in constant time."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now - stamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, stamp, body), header)
