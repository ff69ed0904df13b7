"""A Merkle tree with the hashing and proofs of RFC 6962 / RFC 9162 (Certificate Transparency).

Why this shape: a receipt's recipients (providers, platforms) must check their proofs
with tools they trust, so the tree is the one any CT library verifies:

- leaf hash  = SHA-256(0x00 || leaf bytes), node hash = SHA-256(0x01 || left || right)
  (the 0x00 / 0x01 prefixes keep a leaf from ever passing for an inner node);
- the tree over n leaves splits at the largest power of two below n (RFC 6962 §2.1),
  which is the same tree as building level by level and carrying an unpaired last node
  up unchanged (never duplicated, so no two leaf lists share a root);
- an inclusion proof is the audit path, bottom up; `verify_inclusion` is RFC 9162
  §2.1.3.2 step for step.

The empty tree's root is SHA-256 of nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """Every level of the tree over `leaves` (their bytes, in order), kept for proofs."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        level = [leaf_hash(leaf) for leaf in leaves]
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])  # carried up unchanged: RFC 6962's unbalanced right edge
            self.levels.append(paired)
            level = paired

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else _sha256(b"").digest()

    def proof(self, index: int) -> list[bytes]:
        """The audit path of leaf `index`, bottom up (RFC 6962 §2.1.1 PATH)."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} of a tree of {self.size}")
        path: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether `path` proves `leaf` (its bytes) is leaf `index` of the `size` tree with `root`."""
    if not 0 <= index < size:
        return False
    fn, sn, digest = index, size - 1, leaf_hash(leaf)
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            digest = node_hash(digest, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and digest == root
