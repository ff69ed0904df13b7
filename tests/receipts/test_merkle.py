"""The Merkle tree against RFC 6962's recursive definition and the CT test vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.events.merkle import MerkleTree, leaf_hash, node_hash, verify_inclusion


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 §2.1 writes it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)  # the largest power of two below n
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_root(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_root(leaves[:k])]


# certificate-transparency's merkle test vectors (leaf inputs and the roots of their prefixes)
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("n", range(1, 9))
def test_roots_match_the_certificate_transparency_vectors(n: int) -> None:
    assert MerkleTree(CT_LEAVES[:n]).root.hex() == CT_ROOTS[n - 1]


def test_empty_tree_and_out_of_range_leaf() -> None:
    tree = MerkleTree([])
    assert tree.root == hashlib.sha256(b"").digest()
    with pytest.raises(IndexError):
        tree.proof(0)
    assert not verify_inclusion(b"x", 0, 0, [], tree.root)


leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None)
@given(leaf_lists)
def test_tree_is_rfc6962s_and_every_leafs_proof_verifies(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    assert tree.root == reference_root(leaves)
    for i, leaf in enumerate(leaves):
        path = tree.proof(i)
        assert path == reference_path(i, leaves)
        assert verify_inclusion(leaf, i, len(leaves), path, tree.root)


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@settings(max_examples=300, deadline=None)
@given(leaf_lists, st.data())
def test_any_single_bit_change_fails(leaves: list[bytes], data: st.DataObject) -> None:
    """One bit flipped in the leaf, in any audit-path hash or in the root: the proof fails."""
    tree = MerkleTree(leaves)
    n = len(leaves)
    i = data.draw(st.integers(0, n - 1), label="leaf index")
    leaf, path, root = leaves[i], tree.proof(i), tree.root
    targets = ["root"] + (["leaf"] if leaf else []) + (["path"] if path else [])
    target = data.draw(st.sampled_from(targets), label="target")
    if target == "leaf":
        leaf = _flip(leaf, data.draw(st.integers(0, 8 * len(leaf) - 1)))
    elif target == "root":
        root = _flip(root, data.draw(st.integers(0, 255)))
    else:
        j = data.draw(st.integers(0, len(path) - 1))
        path = [*path[:j], _flip(path[j], data.draw(st.integers(0, 255))), *path[j + 1 :]]
    assert verify_inclusion(leaves[i], i, n, tree.proof(i), tree.root)
    assert not verify_inclusion(leaf, i, n, path, root)


def test_proof_of_one_leaf_does_not_pass_for_another() -> None:
    leaves = [bytes([b]) for b in range(7)]
    tree = MerkleTree(leaves)
    assert not verify_inclusion(leaves[3], 3, 7, tree.proof(4), tree.root)
    assert not verify_inclusion(leaves[3], 4, 7, tree.proof(3), tree.root)
    assert not verify_inclusion(leaves[6], 6, 7, [*tree.proof(6), tree.root], tree.root)
