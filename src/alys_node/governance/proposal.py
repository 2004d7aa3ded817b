"""Governance proposals and the exact bytes a federation member signs.

A signature must approve one proposal and nothing else: the signed digest covers the domain tag,
the federation id and epoch, the proposal id, kind, nonce, expiry and the full payload. Change a
single byte of any of them and every collected signature stops verifying. Binding the epoch means
an approval gathered before a member rotation cannot be replayed after it.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from enum import StrEnum

DOMAIN = b"ALYS-GOV-PROPOSAL-V1"
MAX_PAYLOAD = 64 * 1024
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
U64 = 2**64


class GovernanceError(ValueError):
    """A rejected governance operation; ``reason`` is a stable machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ProposalKind(StrEnum):
    GENERIC = "generic"  # opaque payload, e.g. a parameter change executed by the node
    ADD_MEMBER = "add_member"  # payload: pubkey(48) || proof_of_possession(96)
    REMOVE_MEMBER = "remove_member"  # payload: pubkey(48)
    SET_THRESHOLD = "set_threshold"  # payload: u32 big-endian
    ROTATE = "rotate"  # payload: u32 threshold || n * (pubkey || pop)

    @property
    def changes_membership(self) -> bool:
        return self is not ProposalKind.GENERIC


def _lp(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


@dataclass(frozen=True)
class Proposal:
    id: str
    kind: ProposalKind
    payload: bytes
    nonce: int
    expiry: int  # caller's clock (ms); the proposal is dead at and after this instant
    epoch: int  # federation epoch the proposal was created in
    federation_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise GovernanceError("invalid_proposal", "id must be 1-64 chars of [A-Za-z0-9_.:-]")
        try:
            object.__setattr__(self, "kind", ProposalKind(self.kind))
        except ValueError:
            raise GovernanceError("invalid_proposal", f"unknown kind {self.kind!r}") from None
        if not isinstance(self.payload, (bytes, bytearray)) or len(self.payload) > MAX_PAYLOAD:
            raise GovernanceError("invalid_proposal", f"payload must be bytes <= {MAX_PAYLOAD}")
        object.__setattr__(self, "payload", bytes(self.payload))
        for name in ("nonce", "expiry", "epoch"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < U64:
                raise GovernanceError("invalid_proposal", f"{name} must be an integer in [0, 2^64)")
        if not isinstance(self.federation_id, str) or not self.federation_id:
            raise GovernanceError("invalid_proposal", "federation_id must be a non-empty string")

    def encode(self) -> bytes:
        """Canonical encoding: length-prefixed, fixed field order, no ambiguity between fields."""
        return b"".join(
            (
                _lp(DOMAIN),
                _lp(self.federation_id.encode()),
                struct.pack(">Q", self.epoch),
                _lp(self.id.encode()),
                _lp(self.kind.value.encode()),
                struct.pack(">QQ", self.nonce, self.expiry),
                _lp(self.payload),
            )
        )

    def digest(self) -> bytes:
        """The 32-byte message every member signs."""
        return hashlib.sha256(self.encode()).digest()

    def is_expired(self, now: int) -> bool:
        return now >= self.expiry

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "payload": "0x" + self.payload.hex(),
            "nonce": self.nonce,
            "expiry": self.expiry,
            "epoch": self.epoch,
            "federation_id": self.federation_id,
            "digest": "0x" + self.digest().hex(),
        }


def parse_hex(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise GovernanceError("invalid_proposal", f"{what} must be a 0x-prefixed hex string")
    try:
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    except ValueError:
        raise GovernanceError("invalid_proposal", f"{what} is not valid hex") from None


def proposal_from_json(d: object) -> Proposal:
    """Inverse of Proposal.to_json (the digest field, if present, must match)."""
    if not isinstance(d, dict):
        raise GovernanceError("invalid_proposal", "proposal must be a JSON object")
    try:
        p = Proposal(
            d["id"], d["kind"], parse_hex(d["payload"], "payload"), d["nonce"], d["expiry"], d["epoch"],
            d["federation_id"],
        )  # fmt: skip
    except KeyError as exc:
        raise GovernanceError("invalid_proposal", f"missing field {exc.args[0]}") from None
    if "digest" in d and parse_hex(d["digest"], "digest") != p.digest():
        raise GovernanceError("invalid_proposal", "digest does not match the fields")
    return p


# -- membership payloads ------------------------------------------------------------------
PK_LEN, POP_LEN = 48, 96


def encode_add_member(pubkey: bytes, pop: bytes) -> bytes:
    return bytes(pubkey) + bytes(pop)


def encode_remove_member(pubkey: bytes) -> bytes:
    return bytes(pubkey)


def encode_set_threshold(threshold: int) -> bytes:
    return struct.pack(">I", threshold)


def encode_rotate(members: list[tuple[bytes, bytes]], threshold: int) -> bytes:
    return struct.pack(">I", threshold) + b"".join(bytes(pk) + bytes(pop) for pk, pop in members)


def decode_members(blob: bytes) -> list[tuple[bytes, bytes]]:
    step = PK_LEN + POP_LEN
    if len(blob) % step:
        raise GovernanceError(
            "invalid_payload", f"member list length {len(blob)} not a multiple of {step}"
        )
    return [(blob[i : i + PK_LEN], blob[i + PK_LEN : i + step]) for i in range(0, len(blob), step)]


def decode_threshold(blob: bytes) -> int:
    if len(blob) < 4:
        raise GovernanceError("invalid_payload", "threshold needs 4 bytes")
    return struct.unpack(">I", blob[:4])[0]
