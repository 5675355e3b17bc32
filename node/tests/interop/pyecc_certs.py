#!/usr/bin/env python3
"""Interop test: certificates and batch inclusion proofs built with py_ecc and
this script's own RFC 6962 code, checked by `vigil cert verify`.

py_ecc (the Ethereum Foundation's pure-Python BLS12-381) shares no code with
blst, which Vigil uses. This script builds, from fixed seeds, a committee and
certificates in the JSON shapes fixed in DESIGN.md section 4. It then checks that
`vigil cert verify` accepts the good ones and rejects each bad one with exit
code 1 and its own `invalid: <reason>` line.

Each bad case has exactly one fault. Everything else in it is valid; for
example, the wrong-epoch certificate is correctly signed for epoch 8. Before the
binary runs, py_ecc checks every certificate and committee (the `pyecc/...`
lines), so a rejection cannot come from a mistake in this script.

    python3 -m pip install -r node/tests/interop/requirements.txt
    VIGIL_BIN=target/debug/vigil python3 node/tests/interop/pyecc_certs.py

Options: --pyecc-only (no binary needed), --out DIR (keep the files there).
Exit status: 0 all passed, 1 some check failed, 2 setup error (binary or
py_ecc missing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

try:
    from importlib.metadata import version as _pkg_version

    from py_ecc.bls import G2ProofOfPossession as bls
    from py_ecc.bls.g2_primitives import G2_to_signature, signature_to_G2, subgroup_check
    from py_ecc.bls.hash_to_curve import map_to_curve_G2
    from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2
    from py_ecc.optimized_bls12_381 import curve_order
except ImportError as exc:  # pragma: no cover - setup error path
    print(f"py_ecc is not installed ({exc}); run: python3 -m pip install -r "
          f"{Path(__file__).resolve().parent / 'requirements.txt'}", file=sys.stderr)
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_VIGIL = REPO_ROOT / "target" / "debug" / "vigil"

# --- DESIGN.md section 4 constants -------------------------------------------
SIG_DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
VOTE_DOMAIN = b"vigil/vote/v1"
BATCH_DOMAIN = b"vigil/batch/v1"
KIND_BYTE = {"clean": 0, "malicious": 1}

CHAIN_ID = 31337
EPOCH = 7
RULESET = "vigil-rules/1"
NUM, DEN = 2, 3
SEED = b"vigil-interop/pyecc/v1"

E18 = 10**18
# Ten members, so the signer bitmap has two bytes (checks byte order as well as
# bit order). Stakes are in wei, unequal, several above u64::MAX (32 ETH > 2^64 wei).
# Members 0..4 hold exactly 2/3 of the total; member 9 holds 1 wei.
STAKES = [
    32 * E18,       # 0
    48 * E18 + 7,   # 1
    16 * E18,       # 2
    64 * E18,       # 3
    40 * E18 - 7,   # 4
    36 * E18,       # 5
    24 * E18,       # 6
    20 * E18 - 1,   # 7
    20 * E18,       # 8
    1,              # 9
]
N = len(STAKES)
TOTAL = sum(STAKES)  # 300 ETH

# Signer sets (committee indexes).
SET_MAIN = [0, 1, 3, 5, 6, 7, 8, 9]    # 244 ETH + 7 wei: clearly above
SET_AT = [0, 1, 2, 3, 4]               # exactly 200 ETH = 2/3: must be rejected
SET_JUST_ABOVE = SET_AT + [9]          # 200 ETH + 1 wei: must be accepted
SET_BELOW = [2, 3, 4, 5, 6, 8]         # 200 ETH - 7 wei
SET_LOW_BYTE = [0, 1, 2, 3, 5, 6]      # 220 ETH + 7 wei, all in byte 0
POP_OTHER_KEY_MEMBER = 2               # pop field = member 3's pop (not a signer of SET_MAIN)
POP_WRONG_DST_MEMBER = 4               # pop signed under the vote DST (not a signer either)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def vote_digest(chain_id: int, epoch: int, tx_hash: bytes, kind: str) -> bytes:
    assert len(tx_hash) == 32
    return sha256(VOTE_DOMAIN + chain_id.to_bytes(8, "big") + epoch.to_bytes(8, "big")
                  + tx_hash + bytes([KIND_BYTE[kind]]))


def batch_digest(chain_id: int, epoch: int, count: int, root: bytes) -> bytes:
    assert len(root) == 32
    return sha256(BATCH_DOMAIN + chain_id.to_bytes(8, "big") + epoch.to_bytes(8, "big")
                  + count.to_bytes(4, "big") + root)


# --- RFC 6962 section 2.1 (DESIGN 4b), written from the RFC ------------------

def leaf_bytes(tx_hash: bytes, kind: str) -> bytes:
    return tx_hash + bytes([KIND_BYTE[kind]])


def mth(leaves: list[bytes]) -> bytes:
    """Merkle Tree Hash: leaf prefix 0x00, node prefix 0x01, split at the
    largest power of two smaller than n."""
    n = len(leaves)
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def audit_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 2.1.1: siblings from the leaf upwards."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def verify_audit_path(leaf: bytes, index: int, count: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= count:
        return False
    fn, sn = index, count - 1
    r = sha256(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def bitmap(indexes, nbytes: int | None = None) -> bytes:
    out = bytearray((N + 7) // 8 if nbytes is None else nbytes)
    for i in indexes:
        out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def stake_of(indexes) -> int:
    return sum(STAKES[i] for i in indexes)


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = _B58[r] + s
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + s


def peer_id(i: int) -> str:
    # A well-formed libp2p Ed25519 peer id (identity multihash of the protobuf
    # public key) over deterministic bytes; the verifier does not check it.
    key = sha256(SEED + b"/peer/" + str(i).encode())
    return b58(bytes([0x00, 0x24, 0x08, 0x01, 0x12, 0x20]) + key)


# --- key material, signatures (computed once) ----------------------------------

@dataclass
class Member:
    index: int
    sk: int
    pk: bytes
    pop: bytes
    stake: int
    peer_id: str


def make_members() -> list[Member]:
    members = []
    for i in range(N):
        sk = bls.KeyGen(sha256(SEED + b"/member/" + str(i).encode()))
        members.append(Member(i, sk, bls.SkToPk(sk), bls.PopProve(sk), STAKES[i], peer_id(i)))
    return members


def committee_json(members: list[Member], pop_override: dict[int, bytes] | None = None) -> dict:
    pop_override = pop_override or {}
    return {
        "chain_id": CHAIN_ID,
        "epoch": EPOCH,
        "ruleset": RULESET,
        "threshold": {"num": NUM, "den": DEN},
        "members": [
            {
                "index": m.index,
                "bls_pubkey": hx(m.pk),
                "pop": hx(pop_override.get(m.index, m.pop)),
                "stake": str(m.stake),
                "peer_id": m.peer_id,
            }
            for m in members
        ],
    }


def cert_json(chain_id: int, epoch: int, tx_hash: bytes, signers: bytes, signature: bytes,
              kind: str = "clean") -> dict:
    return {
        "chain_id": chain_id,
        "epoch": epoch,
        "tx_hash": hx(tx_hash),
        "kind": kind,
        "signers": hx(signers),
        "signature": hx(signature),
    }


def aggregate_sk(members: list[Member], indexes) -> int:
    # sum of secret keys: Sign(sum sk, m) == Aggregate([Sign(sk_i, m)]), one
    # hash-to-curve instead of one per signer. Used only for the re-signed
    # variants; the main certificates aggregate real per-member signatures.
    return sum(members[i].sk for i in indexes) % curve_order


def undecodable_variant(sig: bytes) -> bytes:
    """Flip one bit of the x coordinate until py_ecc can no longer decode the point."""
    for pos in range(95, 47, -1):
        for bit in range(8):
            cand = bytearray(sig)
            cand[pos] ^= 1 << bit
            try:
                signature_to_G2(bytes(cand))
            except (ValueError, AssertionError):
                return bytes(cand)
    raise RuntimeError("no undecodable single-bit variant found")


def non_subgroup_point() -> bytes:
    """A valid compressed G2 encoding of a curve point outside the r-order subgroup."""
    for a in range(1, 100):
        pt = map_to_curve_G2(FQ2([a, 1]))  # on E2, cofactor not cleared
        if not subgroup_check(pt):
            return G2_to_signature(pt)
    raise RuntimeError("no non-subgroup point found")


# --- cases --------------------------------------------------------------------

@dataclass
class Case:
    name: str
    committee: str                 # file name in the work dir
    cert: dict
    expect_valid: bool
    what: str
    # py_ecc self-check: (signer indexes, message, expected FastAggregateVerify result),
    # or a list of them
    pyecc: tuple | list
    # The transaction `vigil cert verify --tx-hash` is told it admits
    # (default: the certificates' transaction).
    admit: bytes | None = None
    # Batch inclusion proofs: whether the audit path leads to the root, by
    # this script's own RFC 9162 check.
    path_ok: bool | None = None


def build(members: list[Member]):
    tx_hash = sha256(SEED + b"/tx/0")
    other_tx = sha256(SEED + b"/tx/1")
    digest = vote_digest(CHAIN_ID, EPOCH, tx_hash, "clean")

    # One honest clean vote per member, aggregated per signer set with py_ecc.
    votes = {m.index: bls.Sign(m.sk, digest) for m in members}

    def agg(indexes):
        return bls.Aggregate([votes[i] for i in indexes])

    sig_main = agg(SET_MAIN)
    sig_other_msg = bls.Sign(aggregate_sk(members, SET_MAIN), vote_digest(CHAIN_ID, EPOCH, other_tx, "clean"))
    sig_epoch8 = bls.Sign(aggregate_sk(members, SET_MAIN), vote_digest(CHAIN_ID, EPOCH + 1, tx_hash, "clean"))
    sig_chain1 = bls.Sign(aggregate_sk(members, SET_MAIN), vote_digest(1, EPOCH, tx_hash, "clean"))

    # Bad proofs of possession (committee files; the certificate is the valid one).
    pop_other_key = members[3].pop
    m4 = members[POP_WRONG_DST_MEMBER]
    pop_wrong_dst = bls.Sign(m4.sk, m4.pk)  # right message, vote DST instead of the PoP DST

    committees = {
        "committee.json": committee_json(members),
        "committee_pop_other_key.json": committee_json(members, {POP_OTHER_KEY_MEMBER: pop_other_key}),
        "committee_pop_wrong_dst.json": committee_json(members, {POP_WRONG_DST_MEMBER: pop_wrong_dst}),
    }

    c = "committee.json"

    def good(signers: bytes, sig: bytes, chain_id: int = CHAIN_ID, epoch: int = EPOCH,
             tx_hash: bytes = tx_hash) -> dict:
        return cert_json(chain_id, epoch, tx_hash, signers, sig)

    cases = [
        Case("valid", c, good(bitmap(SET_MAIN), sig_main), True,
             "8 of 10 members, 244 ETH of 300, bitmap over two bytes",
             (SET_MAIN, digest, True)),
        Case("valid_one_wei_above_threshold", c, good(bitmap(SET_JUST_ABOVE), agg(SET_JUST_ABOVE)), True,
             "signed stake = 2/3 of total + 1 wei",
             (SET_JUST_ABOVE, digest, True)),
        Case("sig_other_message", c, good(bitmap(SET_MAIN), sig_other_msg), False,
             "well-formed aggregate by the same signers over another tx's digest",
             [(SET_MAIN, digest, False), (SET_MAIN, vote_digest(CHAIN_ID, EPOCH, other_tx, "clean"), True)]),
        Case("sig_undecodable", c, good(bitmap(SET_MAIN), undecodable_variant(sig_main)), False,
             "one bit flipped in the signature's x coordinate: not a curve point",
             (SET_MAIN, digest, False)),
        Case("sig_not_in_subgroup", c, good(bitmap(SET_MAIN), non_subgroup_point()), False,
             "signature is a point on the curve but outside the G2 subgroup",
             (SET_MAIN, digest, False)),
        Case("wrong_tx_hash", c, good(bitmap(SET_MAIN), sig_main, tx_hash=other_tx), False,
             "tx_hash replaced after signing",
             (SET_MAIN, vote_digest(CHAIN_ID, EPOCH, other_tx, "clean"), False)),
        Case("wrong_epoch", c, good(bitmap(SET_MAIN), sig_epoch8, epoch=EPOCH + 1), False,
             "certificate correctly signed for epoch 8, committee is epoch 7",
             (SET_MAIN, vote_digest(CHAIN_ID, EPOCH + 1, tx_hash, "clean"), True)),
        Case("wrong_chain_id", c, good(bitmap(SET_MAIN), sig_chain1, chain_id=1), False,
             "certificate correctly signed for chain 1, committee is chain 31337",
             (SET_MAIN, vote_digest(1, EPOCH, tx_hash, "clean"), True)),
        Case("stake_at_threshold", c, good(bitmap(SET_AT), agg(SET_AT)), False,
             "valid signature, signed stake exactly 2/3 (200 of 300 ETH)",
             (SET_AT, digest, True)),
        Case("stake_below_threshold", c, good(bitmap(SET_BELOW), agg(SET_BELOW)), False,
             "valid signature, signed stake 2/3 - 7 wei",
             (SET_BELOW, digest, True)),
        Case("bitmap_stray_bit", c, good(bitmap(SET_MAIN + [N]), sig_main), False,
             f"bit {N} set (byte 1 bit {N % 8}), committee has {N} members",
             (SET_MAIN, digest, True)),
        Case("bitmap_extra_byte", c, good(bitmap(SET_MAIN, 3), sig_main), False,
             "3-byte bitmap (trailing zero byte) for a 10-member committee",
             (SET_MAIN, digest, True)),
        Case("bitmap_short", c, good(bitmap(SET_LOW_BYTE, 1), agg(SET_LOW_BYTE)), False,
             "1-byte bitmap for a 10-member committee (signers all in byte 0, 220 ETH)",
             (SET_LOW_BYTE, digest, True)),
        Case("pop_other_key", "committee_pop_other_key.json", good(bitmap(SET_MAIN), sig_main), False,
             f"member {POP_OTHER_KEY_MEMBER}'s pop is member 3's pop; certificate valid",
             (SET_MAIN, digest, True)),
        Case("pop_wrong_dst", "committee_pop_wrong_dst.json", good(bitmap(SET_MAIN), sig_main), False,
             f"member {POP_WRONG_DST_MEMBER}'s pop signs its key under the vote DST; certificate valid",
             (SET_MAIN, digest, True)),
    ]
    cases += batch_cases(members, votes_for=lambda d: {m.index: bls.Sign(m.sk, d) for m in members})
    return committees, cases


BATCH_SIZE = 11  # not a power of two: the last leaf's path is shorter


def inclusion_json(chain_id: int, epoch: int, count: int, root: bytes, signers: bytes, sig: bytes,
                   index: int, tx_hash: bytes, kind: str, path: list[bytes]) -> dict:
    return {
        "certificate": {"chain_id": chain_id, "epoch": epoch, "count": count, "root": hx(root),
                        "signers": hx(signers), "signature": hx(sig)},
        "index": index, "tx_hash": hx(tx_hash), "kind": kind, "path": [hx(p) for p in path],
    }


def batch_cases(members: list[Member], votes_for) -> list[Case]:
    """DESIGN 4b: one batch of 11 verdicts (every fifth malicious), its root
    and audit paths from this script's RFC 6962 code, the batch certificate
    aggregated from per-member py_ecc signatures; each bad proof has one
    fault."""
    txs = [sha256(SEED + b"/batch/tx/" + str(i).encode()) for i in range(BATCH_SIZE)]
    kinds = ["malicious" if i % 5 == 3 else "clean" for i in range(BATCH_SIZE)]
    leaves = [leaf_bytes(t, k) for t, k in zip(txs, kinds)]
    root = mth(leaves)
    digest = batch_digest(CHAIN_ID, EPOCH, BATCH_SIZE, root)
    votes = votes_for(digest)

    def agg(indexes):
        return bls.Aggregate([votes[i] for i in indexes])

    sig_main = agg(SET_MAIN)
    resigned = {
        "epoch8": bls.Sign(aggregate_sk(members, SET_MAIN), batch_digest(CHAIN_ID, EPOCH + 1, BATCH_SIZE, root)),
        "chain1": bls.Sign(aggregate_sk(members, SET_MAIN), batch_digest(1, EPOCH, BATCH_SIZE, root)),
    }
    c = "committee.json"

    def proof(index: int, *, signers=SET_MAIN, sig=sig_main, chain_id=CHAIN_ID, epoch=EPOCH,
              count=BATCH_SIZE, tx=None, kind=None, path=None, at=None) -> dict:
        return inclusion_json(chain_id, epoch, count, root, bitmap(signers), sig,
                              index if at is None else at, txs[index] if tx is None else tx,
                              kinds[index] if kind is None else kind,
                              audit_path(index, leaves) if path is None else path)

    tampered = audit_path(2, leaves)
    tampered[1] = bytes([tampered[1][0] ^ 1]) + tampered[1][1:]
    wrong_index_path = audit_path(2, leaves)
    digest12 = batch_digest(CHAIN_ID, EPOCH, BATCH_SIZE + 1, root)
    return [
        Case("batch_valid", c, proof(2), True,
             "leaf 2 of 11 (clean), batch certificate by 8 of 10 members",
             (SET_MAIN, digest, True), admit=txs[2], path_ok=True),
        Case("batch_valid_last_leaf", c, proof(10), True,
             "leaf 10 of 11: the odd leaf, whose path has one hash",
             (SET_MAIN, digest, True), admit=txs[10], path_ok=True),
        Case("batch_valid_malicious_leaf", c, proof(3), True,
             "leaf 3 of 11 says malicious: a valid proof of a malicious verdict (quarantine evidence)",
             (SET_MAIN, digest, True), admit=txs[3], path_ok=True),
        Case("batch_valid_one_wei_above", c, proof(0, signers=SET_JUST_ABOVE, sig=agg(SET_JUST_ABOVE)), True,
             "batch certificate with signed stake 2/3 + 1 wei",
             (SET_JUST_ABOVE, digest, True), admit=txs[0], path_ok=True),
        Case("batch_tampered_path", c, proof(2, path=tampered), False,
             "one bit of the second sibling flipped",
             (SET_MAIN, digest, True), admit=txs[2], path_ok=False),
        Case("batch_wrong_index", c, proof(2, at=3, path=wrong_index_path), False,
             "leaf 2 and its path claimed at index 3",
             (SET_MAIN, digest, True), admit=txs[2], path_ok=False),
        Case("batch_flipped_kind", c, proof(3, kind="clean"), False,
             "leaf 3's malicious verdict presented as clean",
             (SET_MAIN, digest, True), admit=txs[3], path_ok=False),
        Case("batch_changed_count", c, proof(2, count=BATCH_SIZE + 1), False,
             "count 12 instead of 11 (the path of leaf 2 fits both; the signature binds the count)",
             [(SET_MAIN, digest, True), (SET_MAIN, digest12, False)], admit=txs[2], path_ok=True),
        Case("batch_index_past_count", c, proof(10, at=11), False,
             "index 11 in a batch of 11",
             (SET_MAIN, digest, True), admit=txs[10], path_ok=False),
        Case("batch_stake_at_threshold", c, proof(2, signers=SET_AT, sig=agg(SET_AT)), False,
             "valid batch signature, signed stake exactly 2/3",
             (SET_AT, digest, True), admit=txs[2], path_ok=True),
        Case("batch_stake_below_threshold", c, proof(2, signers=SET_BELOW, sig=agg(SET_BELOW)), False,
             "valid batch signature, signed stake 2/3 - 7 wei",
             (SET_BELOW, digest, True), admit=txs[2], path_ok=True),
        Case("batch_wrong_epoch", c, proof(2, epoch=EPOCH + 1, sig=resigned["epoch8"]), False,
             "batch certificate correctly signed for epoch 8, committee is epoch 7",
             (SET_MAIN, batch_digest(CHAIN_ID, EPOCH + 1, BATCH_SIZE, root), True), admit=txs[2], path_ok=True),
        Case("batch_wrong_chain_id", c, proof(2, chain_id=1, sig=resigned["chain1"]), False,
             "batch certificate correctly signed for chain 1, committee is chain 31337",
             (SET_MAIN, batch_digest(1, EPOCH, BATCH_SIZE, root), True), admit=txs[2], path_ok=True),
        Case("batch_wrong_tx", c, proof(2), False,
             "a valid proof of leaf 2, presented to admit another transaction",
             (SET_MAIN, digest, True), path_ok=True),
    ]


# --- reporting ------------------------------------------------------------------

class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name: str, detail: str):
        self.passed += 1
        print(f"ok   {name}: {detail}", flush=True)

    def fail(self, name: str, detail: str):
        self.failed += 1
        print(f"FAIL {name}: {detail}", flush=True)

    def check(self, name: str, cond: bool, ok_detail: str, fail_detail: str):
        (self.ok if cond else self.fail)(name, ok_detail if cond else fail_detail)


def one_line(s: str, limit: int = 400) -> str:
    s = " | ".join(l.strip() for l in s.strip().splitlines() if l.strip())
    return s if len(s) <= limit else s[:limit] + "..."


def pyecc_self_checks(t: Tally, members: list[Member], committees: dict, cases: list[Case]):
    # The ciphersuite is the one DESIGN fixes, and PopProve signs the 48-byte key under the PoP DST.
    m0 = members[0]
    t.check("pyecc/ciphersuite",
            bls.DST == SIG_DST and bls.POP_TAG == POP_DST and len(m0.pk) == 48 and len(m0.pop) == 96
            and bls._CoreSign(m0.sk, m0.pk, POP_DST) == m0.pop,
            "G2ProofOfPossession DSTs match DESIGN; PopProve == sign(pubkey48, POP DST)",
            "py_ecc ciphersuite constants or PopProve differ from DESIGN section 4")

    bad = [m.index for m in members if not bls.PopVerify(m.pk, m.pop)]
    t.check("pyecc/pops", not bad, f"PopVerify holds for all {N} members", f"PopVerify fails for {bad}")
    for fname, idx in (("committee_pop_other_key.json", POP_OTHER_KEY_MEMBER),
                       ("committee_pop_wrong_dst.json", POP_WRONG_DST_MEMBER)):
        pop = bytes.fromhex(committees[fname]["members"][idx]["pop"][2:])
        t.check(f"pyecc/{fname}", not bls.PopVerify(members[idx].pk, pop),
                f"PopVerify rejects member {idx}'s pop", f"member {idx}'s bad pop verifies in py_ecc")

    expected_stake = {
        "valid": ">", "valid_one_wei_above_threshold": ">",
        "stake_at_threshold": "==", "stake_below_threshold": "<",
    }
    for name, rel in expected_stake.items():
        case = next(c for c in cases if c.name == name)
        s = stake_of(case.pyecc[0])
        got = ">" if s * DEN > TOTAL * NUM else ("==" if s * DEN == TOTAL * NUM else "<")
        t.check(f"pyecc/stake/{name}", got == rel, f"signed*{DEN} {rel} total*{NUM} ({s} of {TOTAL} wei)",
                f"signed stake {s} is {got}, wanted {rel}")

    def sig_of(name):
        return bytes.fromhex(next(c for c in cases if c.name == name).cert["signature"][2:])

    try:
        signature_to_G2(sig_of("sig_undecodable"))
        t.fail("pyecc/decode/sig_undecodable", "py_ecc decodes the flipped signature")
    except (ValueError, AssertionError) as exc:
        t.ok("pyecc/decode/sig_undecodable", f"py_ecc refuses to decode it ({exc})")
    try:
        in_group = subgroup_check(signature_to_G2(sig_of("sig_not_in_subgroup")))
        t.check("pyecc/decode/sig_not_in_subgroup", not in_group,
                "decodes to a curve point, fails the subgroup check", "point is in the subgroup")
    except (ValueError, AssertionError) as exc:
        t.fail("pyecc/decode/sig_not_in_subgroup", f"py_ecc cannot decode it ({exc})")

    # FastAggregateVerify of each certificate's signature against what it was built
    # to sign (cached: several cases reuse the main certificate's signature).
    memo: dict = {}
    for case in cases:
        checks = case.pyecc if isinstance(case.pyecc, list) else [case.pyecc]
        signed = case.cert.get("certificate", case.cert)
        sig = bytes.fromhex(signed["signature"][2:])
        results = []
        for indexes, msg, want in checks:
            key = (tuple(indexes), msg, sig)
            if key not in memo:
                memo[key] = bls.FastAggregateVerify([members[i].pk for i in indexes], msg, sig)
            results.append((memo[key], want))
        got = ", ".join(str(g) for g, _ in results)
        wanted = ", ".join(str(w) for _, w in results)
        t.check(f"pyecc/{case.name}", all(g == w for g, w in results),
                f"FastAggregateVerify={got} as constructed",
                f"FastAggregateVerify={got}, construction expected {wanted}")
        if case.path_ok is not None:
            p = case.cert
            leaf = leaf_bytes(bytes.fromhex(p["tx_hash"][2:]), p["kind"])
            path = [bytes.fromhex(h[2:]) for h in p["path"]]
            ok = verify_audit_path(leaf, p["index"], p["certificate"]["count"], path,
                                   bytes.fromhex(p["certificate"]["root"][2:]))
            t.check(f"rfc6962/{case.name}", ok == case.path_ok, f"audit path check = {ok} as constructed",
                    f"audit path check = {ok}, construction expected {case.path_ok}")


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
INVALID_LINE = re.compile(r"(?:^|\s)invalid:\s*(\S.*)$")


def run_vigil(vigil: Path, committee: Path, cert: Path, admit: bytes | None,
              onchain: bool = False) -> subprocess.CompletedProcess:
    # The verifier is told which transaction it is admitting, as the gate
    # would be: a certificate moved to another transaction is then named
    # as such rather than as a bad signature.
    intended_tx = hx(admit if admit is not None else sha256(SEED + b"/tx/0"))
    return subprocess.run([str(vigil), "cert", "verify", "--committee", str(committee), "--cert", str(cert),
                           "--tx-hash", intended_tx] + (["--onchain"] if onchain else []),
                          capture_output=True, text=True, errors="replace", timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})


def vigil_cases(t: Tally, vigil: Path, work: Path, cases: list[Case]):
    reasons: dict[str, str] = {}
    for case in cases:
        cert_path = work / f"cert_{case.name}.json"
        try:
            p = run_vigil(vigil, work / case.committee, cert_path, case.admit)
        except subprocess.TimeoutExpired:
            t.fail(case.name, "vigil cert verify timed out")
            continue
        out = f"exit={p.returncode} stdout={one_line(p.stdout)!r} stderr={one_line(p.stderr)!r}"
        if case.expect_valid:
            if p.returncode == 0 and re.search(r"\bvalid\b", p.stdout, re.IGNORECASE):
                t.ok(case.name, one_line(p.stdout))
            else:
                t.fail(case.name, f"expected exit 0 and 'valid' on stdout ({case.what}); {out}")
            continue
        # The CLI prints `invalid: <reason>` on stderr; tolerate a log prefix or colours.
        text = ANSI.sub("", p.stderr + "\n" + p.stdout)
        found = [m.group(1).strip() for m in map(INVALID_LINE.search, text.splitlines()) if m]
        reason = found[0] if found else None
        if p.returncode != 1:
            t.fail(case.name, f"expected exit 1 ({case.what}); {out}")
        elif not reason:
            t.fail(case.name, f"exit 1 but no 'invalid: <reason>' line ({case.what}); {out}")
        else:
            reasons[case.name] = reason
            t.ok(case.name, reason)

    # Different faults must be told apart by their reasons.
    by_reason: dict[str, list[str]] = {}
    for name, reason in reasons.items():
        by_reason.setdefault(reason, []).append(name)
    dups = {r: names for r, names in by_reason.items() if len(names) > 1}
    if dups:
        for r, names in dups.items():
            t.fail("distinct_reasons", f"{', '.join(names)} share the reason {r!r}")
    else:
        t.ok("distinct_reasons", f"{len(reasons)} rejection reasons, pairwise distinct")


def vigil_onchain_cases(t: Tally, vigil: Path, work: Path, cases: list[Case]):
    """The batch proofs again, checked by the contracts (`--onchain`): the
    same verdict for each, and the gas of `verifyInclusion`."""
    for case in (c for c in cases if c.path_ok is not None):
        name = f"onchain/{case.name}"
        try:
            p = run_vigil(vigil, work / case.committee, work / f"cert_{case.name}.json", case.admit, onchain=True)
        except subprocess.TimeoutExpired:
            t.fail(name, "vigil cert verify --onchain timed out")
            continue
        text = ANSI.sub("", p.stderr + "\n" + p.stdout)
        gas = re.search(r"gas: (\d+)", text)
        found = [m.group(1).strip() for m in map(INVALID_LINE.search, text.splitlines()) if m]
        if case.expect_valid:
            t.check(name, p.returncode == 0 and bool(re.search(r"\bvalid\b", p.stdout)) and gas is not None,
                    f"valid, gas {gas.group(1) if gas else '?'}",
                    f"expected valid ({case.what}); exit={p.returncode} {one_line(text)!r}")
        else:
            t.check(name, p.returncode == 1 and bool(found), found[0] if found else "",
                    f"expected exit 1 with a reason ({case.what}); exit={p.returncode} {one_line(text)!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pyecc-only", action="store_true",
                    help="build the files and run py_ecc's own checks; do not run vigil")
    ap.add_argument("--out", type=Path, help="write the files to this directory and keep them")
    args = ap.parse_args()

    vigil = Path(os.environ.get("VIGIL_BIN") or DEFAULT_VIGIL)
    if not args.pyecc_only and not (vigil.is_file() and os.access(vigil, os.X_OK)):
        print(f"vigil binary not found at {vigil} (build it, or point VIGIL_BIN at it; "
              f"--pyecc-only runs without it)", file=sys.stderr)
        return 2

    t0 = time.monotonic()
    print(f"py_ecc {_pkg_version('py_ecc')}; committee of {N}, chain {CHAIN_ID}, epoch {EPOCH}, "
          f"threshold {NUM}/{DEN}" + ("" if args.pyecc_only else f"; vigil = {vigil}"), flush=True)
    members = make_members()
    committees, cases = build(members)

    tmp = None
    if args.out:
        work = args.out
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="vigil-interop-")
        work = Path(tmp.name)
    try:
        for fname, obj in committees.items():
            (work / fname).write_text(json.dumps(obj, indent=2) + "\n")
        for case in cases:
            (work / f"cert_{case.name}.json").write_text(json.dumps(case.cert, indent=2) + "\n")

        t = Tally()
        pyecc_self_checks(t, members, committees, cases)
        if not args.pyecc_only:
            vigil_cases(t, vigil, work, cases)
            vigil_onchain_cases(t, vigil, work, cases)
        print(f"{t.passed} passed, {t.failed} failed")
        if args.out:
            print(f"files kept in {work}", file=sys.stderr)
        print(f"({time.monotonic() - t0:.1f}s)", file=sys.stderr)
        return 1 if t.failed else 0
    finally:
        if tmp:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
