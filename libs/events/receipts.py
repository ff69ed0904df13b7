"""Signed chain receipts: what the log said at a moment, in a form its readers can keep.

Why: each stream's hash chain proves its events were not altered in the middle, but a
chain check with no copy of the head cannot notice that the newest events were deleted
(or the whole chain rewritten). A receipt is that copy, for every stream at once:

- a leaf per stream head — canonical JSON `{"hash":…,"stream_id":…,"version":…}`
  (sorted keys, no spaces, UTF-8), leaves ordered by stream id (code point order, i.e.
  UTF-8 byte order);
- the RFC 6962 Merkle root over those leaves (libs.events.merkle);
- a body naming the root, the tree size, the global head position, the time and the
  period, signed with Ed25519 over its canonical JSON (the body's `format` field keeps a
  receipt signature from being replayed as any other signed message).

A provider or platform receives the body, the signature and, for each of its orders, the
inclusion proof of that order's head (`party_bundle`), and can later show that the order
was at that version with that head hash on that day — without trusting us or our
database. `verify_receipt` is the operator-side check against the store as it is now.
Everything here is pure; reading and writing receipts is libs.events.receipt_store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from libs.events.clock import ensure_utc
from libs.events.envelope import StoredEvent, canonical_bytes, verify_chain
from libs.events.merkle import MerkleTree, verify_inclusion
from libs.events.receipt_keys import public_pem

FORMAT = "aftersales-receipt/1"
KINDS = ("day", "month", "adhoc")


@dataclass(frozen=True)
class StreamHead:
    stream_id: str
    version: int
    hash: str

    def leaf(self) -> bytes:
        return canonical_bytes(
            {"hash": self.hash, "stream_id": self.stream_id, "version": self.version}
        )


@dataclass(frozen=True)
class Receipt:
    """A signed receipt and the heads it covers (the heads are bound by the root, not signed)."""

    kind: str
    period: str
    issued_at: datetime
    head_position: int
    stream_count: int
    root: str
    key_id: str
    signature: str
    heads: tuple[StreamHead, ...] = field(default=(), repr=False)

    def body(self) -> dict[str, Any]:
        """What the signature covers."""
        return {
            "format": FORMAT,
            "kind": self.kind,
            "period": self.period,
            "issued_at": ensure_utc(self.issued_at).isoformat(),
            "head_position": self.head_position,
            "stream_count": self.stream_count,
            "root": self.root,
            "key_id": self.key_id,
        }

    def signed(self) -> dict[str, Any]:
        """The body with its signature: what a recipient keeps."""
        return {**self.body(), "signature": self.signature}


@dataclass(frozen=True)
class InclusionProof:
    """Leaf `index` of the receipt's tree is `head`; `path` is the RFC 6962 audit path (hex)."""

    head: StreamHead
    index: int
    path: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream_id": self.head.stream_id,
            "version": self.head.version,
            "hash": self.head.hash,
            "leaf_index": self.index,
            "audit_path": list(self.path),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InclusionProof:
        head = StreamHead(str(data["stream_id"]), int(data["version"]), str(data["hash"]))
        return cls(head, int(data["leaf_index"]), tuple(str(p) for p in data["audit_path"]))


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key, so a recipient knows which key to check with."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def order_heads(heads: Iterable[StreamHead]) -> tuple[StreamHead, ...]:
    return tuple(sorted(heads, key=lambda h: h.stream_id))


def tree_of(heads: Sequence[StreamHead]) -> MerkleTree:
    return MerkleTree([h.leaf() for h in heads])


def issue(
    heads: Iterable[StreamHead],
    head_position: int,
    kind: str,
    period: str,
    issued_at: datetime,
    key: Ed25519PrivateKey,
) -> Receipt:
    """Sign a receipt over `heads` (any order; one per stream) as at `head_position`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    ordered = order_heads(heads)
    if len({h.stream_id for h in ordered}) != len(ordered):
        raise ValueError("one head per stream")
    unsigned = Receipt(
        kind,
        period,
        ensure_utc(issued_at),
        head_position,
        len(ordered),
        tree_of(ordered).root.hex(),
        key_id(key.public_key()),
        "",
        ordered,
    )
    signature = key.sign(canonical_bytes(unsigned.body())).hex()
    return replace(unsigned, signature=signature)


def verify_signature(
    body: Mapping[str, Any], signature: str, public_key: Ed25519PublicKey
) -> list[str]:
    if body.get("format") != FORMAT:
        return [f"not a {FORMAT} receipt"]
    if body.get("key_id") != key_id(public_key):
        return ["receipt was signed with another key"]
    try:
        public_key.verify(bytes.fromhex(signature), canonical_bytes(dict(body)))
    except (InvalidSignature, ValueError):
        return ["signature does not verify"]
    return []


def check_stream(head: StreamHead, events: Sequence[StoredEvent]) -> list[str]:
    """Whether the stream's events up to the receipted version still chain to its head hash."""
    upto = sorted((e for e in events if e.version <= head.version), key=lambda e: e.version)
    where = f"stream {head.stream_id}"
    if not upto:
        return [f"{where}: receipted at version {head.version}, no longer in the store"]
    if upto[-1].version < head.version:
        return [
            f"{where}: receipted at version {head.version}, the store has only {upto[-1].version}"
        ]
    problems = [f"{where}: {p}" for p in verify_chain(upto)]
    if upto[-1].hash != head.hash:
        problems.append(
            f"{where}: version {head.version} is not the receipted one (its hash differs)"
        )
    return problems


def verify_receipt(
    receipt: Receipt, public_key: Ed25519PublicKey, streams: Mapping[str, Sequence[StoredEvent]]
) -> list[str]:
    """Problems proving something at or before the receipt was altered or removed (empty: none).

    `streams` holds each stream's events as the store has them now (later events and
    streams added after the receipt are fine). Checked: the signature, the root over the
    receipted heads, and each receipted stream against its head (`check_stream`).
    """
    problems = verify_receipt_heads(receipt, public_key)
    for head in receipt.heads:
        problems += check_stream(head, streams.get(head.stream_id, ()))
    return problems


def verify_receipt_heads(receipt: Receipt, public_key: Ed25519PublicKey) -> list[str]:
    """The part of `verify_receipt` that needs no events: signature, tree size and root."""
    problems = verify_signature(receipt.body(), receipt.signature, public_key)
    if order_heads(receipt.heads) != receipt.heads or len(receipt.heads) != receipt.stream_count:
        problems.append("receipted heads are not the receipt's ordered leaves")
    elif tree_of(receipt.heads).root.hex() != receipt.root:
        problems.append("the receipted heads do not recompute the Merkle root")
    return problems


def party_bundle(
    receipt: Receipt, stream_ids: Iterable[str], public_key: Ed25519PublicKey
) -> dict[str, Any]:
    """What one provider or platform keeps: the signed receipt, the key to check it with and
    the inclusion proof of each of its streams (`stream_ids`; which orders are whose is the
    services' read models' answer). Streams the receipt does not cover are listed apart."""
    return party_bundles(receipt, {"": stream_ids}, public_key)[""]


def party_bundles(
    receipt: Receipt, parties: Mapping[str, Iterable[str]], public_key: Ed25519PublicKey
) -> dict[str, dict[str, Any]]:
    """`party_bundle` for every party at once (party -> its stream ids): the tree, a second
    or so over 100,000 streams, is built once."""
    index = {h.stream_id: i for i, h in enumerate(receipt.heads)}
    tree = tree_of(receipt.heads)
    signed, pem = receipt.signed(), public_pem(public_key)

    def proof(i: int) -> dict[str, Any]:
        path = tuple(p.hex() for p in tree.proof(i))
        return InclusionProof(receipt.heads[i], i, path).to_dict()

    bundles = {}
    for party, stream_ids in parties.items():
        wanted = sorted(set(stream_ids))
        bundles[party] = {
            "receipt": signed,
            "public_key": pem,
            "proofs": [proof(index[s]) for s in wanted if s in index],
            "not_receipted": [s for s in wanted if s not in index],
        }
    return bundles


def verify_proof(body: Mapping[str, Any], proof: InclusionProof) -> bool:
    """Whether `proof` shows its head is a leaf of the tree the receipt `body` names."""
    try:
        path = [bytes.fromhex(p) for p in proof.path]
        root = bytes.fromhex(str(body["root"]))
    except ValueError:
        return False
    return verify_inclusion(proof.head.leaf(), proof.index, int(body["stream_count"]), path, root)


def verify_bundle(bundle: Mapping[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    """A recipient's check of its bundle: the signature, then every inclusion proof."""
    signed = dict(bundle["receipt"])
    signature = str(signed.pop("signature", ""))
    problems = verify_signature(signed, signature, public_key)
    for n, raw in enumerate(bundle.get("proofs", [])):
        try:
            proof = InclusionProof.from_dict(raw)
        except (KeyError, TypeError, ValueError):
            problems.append(f"proof {n}: not an inclusion proof")
            continue
        if not verify_proof(signed, proof):
            problems.append(f"stream {proof.head.stream_id}: inclusion proof does not verify")
    return problems
