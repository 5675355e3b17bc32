#!/usr/bin/env python3
"""Checks certificates taken from a running Vigil network with py_ecc, an
independent BLS implementation (pure Python, no code shared with Vigil).

Usage: pyecc_verify.py COMMITTEE.json CERT.json [CERT.json ...]

Each file is a certificate (DESIGN §4) or an inclusion proof (§4b): for a
proof, its audit path must lead from the leaf to the batch certificate's
root (RFC 9162 2.1.3.2, by pyecc_certs.py's own code) and the batch
certificate is checked as a certificate, over the batch digest.

For each certificate: chain and epoch match the committee; the signer bitmap
names members only; their stake strictly exceeds the threshold; every
member's proof of possession verifies (PopVerify); the aggregate signature
verifies over the vote digest (DESIGN §4) with FastAggregateVerify. Prints
one line per certificate and `N valid, M invalid`; exit status 0 only if all
are valid.
"""
from __future__ import annotations

import hashlib
import json
import sys

from py_ecc.bls import G2ProofOfPossession as bls

from pyecc_certs import batch_digest, leaf_bytes, verify_audit_path

VOTE_DOMAIN = b"vigil/vote/v1"
KIND_BYTE = {"clean": 0, "malicious": 1}


def unhex(s: str) -> bytes:
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


def digest(chain_id: int, epoch: int, tx_hash: bytes, kind: str) -> bytes:
    return hashlib.sha256(VOTE_DOMAIN + chain_id.to_bytes(8, "big") + epoch.to_bytes(8, "big")
                          + tx_hash + bytes([KIND_BYTE[kind]])).digest()


def check(committee: dict, cert: dict) -> str | None:
    """None if valid, else the reason."""
    if "certificate" in cert:
        batch = cert["certificate"]
        leaf = leaf_bytes(unhex(cert["tx_hash"]), cert["kind"])
        path = [unhex(p) for p in cert["path"]]
        if not verify_audit_path(leaf, cert["index"], batch["count"], path, unhex(batch["root"])):
            return "the audit path does not lead to the batch root"
        return check_signed(committee, batch, batch_digest(batch["chain_id"], batch["epoch"], batch["count"],
                                                           unhex(batch["root"])))
    return check_signed(committee, cert, digest(cert["chain_id"], cert["epoch"], unhex(cert["tx_hash"]),
                                                cert["kind"]))


def check_signed(committee: dict, cert: dict, msg: bytes) -> str | None:
    """A certificate or a batch certificate: stake and the aggregate over `msg`."""
    if cert["chain_id"] != committee["chain_id"] or cert["epoch"] != committee["epoch"]:
        return "chain or epoch differs from the committee's"
    members = committee["members"]
    bitmap = unhex(cert["signers"])
    signers = [i for i in range(len(bitmap) * 8) if bitmap[i // 8] >> (i % 8) & 1]
    if not signers or signers[-1] >= len(members):
        return f"bitmap names {signers}, the committee has {len(members)} members"
    total = sum(int(m["stake"]) for m in members)
    signed = sum(int(members[i]["stake"]) for i in signers)
    t = committee["threshold"]
    if not signed * t["den"] > total * t["num"]:
        return f"signed stake {signed} of {total} does not exceed {t['num']}/{t['den']}"
    keys = []
    for i in signers:
        pk, pop = unhex(members[i]["bls_pubkey"]), unhex(members[i]["pop"])
        if not bls.PopVerify(pk, pop):
            return f"member {i}: proof of possession does not verify"
        keys.append(pk)
    if not bls.FastAggregateVerify(keys, msg, unhex(cert["signature"])):
        return "aggregate signature does not verify"
    return None


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    committee = json.load(open(sys.argv[1]))
    ok = bad = 0
    for path in sys.argv[2:]:
        cert = json.load(open(path))
        reason = check(committee, cert)
        if reason is None:
            ok += 1
            print(f"valid   {cert['tx_hash']} ({cert['kind']})")
        else:
            bad += 1
            print(f"INVALID {cert['tx_hash']}: {reason}")
    print(f"{ok} valid, {bad} invalid")
    return 0 if bad == 0 and ok > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
