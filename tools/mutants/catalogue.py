"""Realistic mutants of the reference node (src/alys_node) and the actor runtime (src/alys_actors).

Each mutant is (id, phase, file, exact snippet, replacement, why): the snippet must occur exactly
once in the file, so a refactor that moves or rewrites the code makes the mutant *no longer
apply* (reported as such) instead of silently mutating something else. The ``phase`` is the
``alys-test run --phase`` expected to kill it. Written by hand as the bugs a developer could
plausibly make: a flipped comparison, an off-by-one, a check forgotten, a wrong constant, a
missing commit — never a syntax error.
"""

from __future__ import annotations

from dataclasses import dataclass

SYNC = "sync-improvement"
ACTOR = "actor-core"
GOV = "governance-integration"


@dataclass(frozen=True)
class Mutant:
    id: str
    phase: str
    file: str  # relative to src/
    find: str
    replace: str
    why: str
    equivalent: str = ""  # why no input can tell it from the original (set in EQUIVALENT)


V = "alys_node/chain/validation.py"
FC = "alys_node/chain/fork_choice.py"
VER = "alys_node/chain/verify.py"
BLK = "alys_node/chain/block.py"
MK = "alys_node/chain/merkle.py"
ST = "alys_node/store/blockstore.py"
PR = "alys_node/p2p/protocol.py"
FR = "alys_node/p2p/frames.py"
MS = "alys_node/p2p/messages.py"
SC = "alys_node/p2p/scoring.py"
AD = "alys_node/p2p/admission.py"
SCH = "alys_node/sync/scheduler.py"
MA = "alys_node/sync/machine.py"
CH = "alys_node/actors/chain.py"
NW = "alys_node/actors/network.py"
BLS = "alys_node/crypto/bls.py"
LED = "alys_node/governance/ledger.py"
PRO = "alys_node/governance/proposal.py"
MB = "alys_actors/mailbox.py"
SUP = "alys_actors/supervision.py"
REG = "alys_actors/registry.py"

MUTANTS: list[Mutant] = [
    # -- block validation (B rules) ---------------------------------------------------------
    Mutant("val-size-ge", SYNC, V, "if block.body_size() > spec.max_block_bytes:",
           "if block.body_size() > spec.max_block_bytes * 2:", "B6 limit doubled"),
    Mutant("val-no-txroot", SYNC, V, "if h.tx_root != merkle_root(block.txs):",
           "if False and h.tx_root != merkle_root(block.txs):", "B5 body commitment not checked"),
    Mutant("val-producer-range", SYNC, V, "if h.producer >= len(spec.authorities):",
           "if h.producer > len(spec.authorities):", "B2 off by one"),
    Mutant("val-no-genesis-ts", SYNC, V, "if h.timestamp < spec.genesis_timestamp:",
           "if h.timestamp < 0:", "B4 not checked"),
    Mutant("val-no-slot-owner", SYNC, V,
           "if h.producer != spec.producer_of_slot(spec.slot_of(h.timestamp)):",
           "if h.producer >= len(spec.authorities):", "B3 producer rotation not checked"),
    Mutant("val-height-link", SYNC, V, "if h.height != parent.height + 1:",
           "if h.height <= parent.height:", "C2 gaps accepted"),
    Mutant("val-parent-link", SYNC, V, "if h.parent_hash != parent_hash:",
           "if h.parent_hash == b'':", "C3 parent link not checked"),
    Mutant("val-slot-order", SYNC, V,
           "if spec.slot_of(h.timestamp) <= spec.slot_of(parent.timestamp):",
           "if spec.slot_of(h.timestamp) < spec.slot_of(parent.timestamp):", "C4 same slot ok"),
    Mutant("val-range-skip-first", SYNC, V, "        check_structure(b, spec)\n        if i:",
           "        if i:\n            check_structure(b, spec)\n        if i:",
           "first block of a range not structure-checked"),
    Mutant("digest-no-sig", SYNC, V, "return sha256(prev_digest + block.hash + block.signature)",
           "return sha256(prev_digest + block.hash)", "K3 digest ignores signatures"),
    Mutant("hash-covers-nothing", SYNC, BLK, "return sha256(self.encode())",
           "return sha256(self.encode()[:40])", "block hash over a header prefix only"),
    Mutant("merkle-odd-drop", SYNC, MK, "            level.append(level[-1])\n",
           "            level.pop()\n", "odd last transaction dropped from the root"),
    # -- signatures (B1) --------------------------------------------------------------------
    Mutant("verify-trust-batch-fail", SYNC, VER, "    if ok:\n        return None",
           "    if ok or len(items) > 1:\n        return None", "failed batches trusted"),
    Mutant("verify-skip-last", SYNC, VER,
           "ok = bls.verify_batch([(pks[p], m, s) for p, m, s in items])",
           "ok = bls.verify_batch([(pks[p], m, s) for p, m, s in items[:-1]])",
           "last block of a batch not verified"),
    Mutant("verify-producer-index", SYNC, VER, "        if p >= len(pks):\n            return i",
           "        if p > len(pks):\n            return i", "producer == n crashes into an except"),
    Mutant("bls-batch-no-random", SYNC, BLS, "r = secrets.randbits(64) | 1", "r = 1",
           "batch without random coefficients (swapped signatures pass)"),
    # -- fork choice (F rules) ---------------------------------------------------------------
    Mutant("fc-tie-switch", SYNC, FC, "if not branch or branch[-1].height <= head_height:",
           "if not branch or branch[-1].height < head_height:", "F1 switch on ties"),
    Mutant("fc-reorg-bound", SYNC, FC, "if head_height - ancestor > MAX_REORG:",
           "if head_height - ancestor > MAX_REORG * 100:", "F2 reorg bound lifted"),
    Mutant("fc-fork-is-malice", SYNC, FC,
           "fork = first.height == head.height + 1 and first.header.parent_hash != head.hash",
           "fork = False", "competing branch treated as invalid (no probe)"),
    Mutant("fc-ancestor-off", SYNC, FC, "            return b.height - 1\n    return None",
           "            return b.height - 2\n    return None", "fork point one too low"),
    # -- store / durability (D, K rules) ----------------------------------------------------
    Mutant("store-no-fsync", SYNC, ST, '"PRAGMA synchronous=" + ("FULL" if durable else "OFF")',
           '"PRAGMA synchronous=OFF"', "D1 acknowledged before durable (power loss)"),
    Mutant("store-cp-interval", SYNC, ST, "if b.height and b.height % ci == 0:",
           "if b.height and b.height % ci == 1:", "K1 checkpoints at the wrong heights"),
    Mutant("store-no-commit", SYNC, ST, "            if self.durable:\n                self.db.execute(\"COMMIT\")",
           "            if self.durable and False:\n                self.db.execute(\"COMMIT\")",
           "D1 transaction never committed"),
    # -- wire and peers (W, P rules) ---------------------------------------------------------
    Mutant("frame-no-limit", SYNC, FR, "if n == 0 or n > self.max_frame:", "if n == 0:",
           "W1 oversized frames buffered"),
    Mutant("msg-range-count", SYNC, MS, "if count == 0 or count > MAX_RANGE:",
           "if count > MAX_RANGE * 64:", "W3 range counts unchecked"),
    Mutant("hs-chain-id", SYNC, PR, "if h.chain_id != loc.chain_id:", "if False:",
           "W4 other chains accepted"),
    Mutant("hs-genesis", SYNC, PR, "if h.genesis_hash != loc.genesis_hash:", "if False:",
           "W4 other genesis accepted"),
    Mutant("pen-invalid-mild", SYNC, PR, "INVALID_BLOCK = -100", "INVALID_BLOCK = -10",
           "P2 invalid blocks no longer ban"),
    Mutant("pen-malformed-mild", SYNC, PR, "MALFORMED = -100", "MALFORMED = -1",
           "W2 malformed messages barely penalised"),
    Mutant("ban-threshold", SYNC, SC, "if s <= BAN_THRESHOLD and not self.is_banned(key, now):",
           "if s < BAN_THRESHOLD and not self.is_banned(key, now):", "P1 ban at -101"),
    Mutant("ban-never-expires-check", SYNC, SC, "        if b.until <= now:\n            del self.bans[key]",
           "        if b.until <= now + 1e9:\n            del self.bans[key]", "P3 bans forgotten at once"),
    Mutant("adm-id-ban-ignored", SYNC, AD, 'if self.rep.is_banned("id:" + node_id.hex(), now):',
           "if False:", "P3 banned node id readmitted"),
    Mutant("max-peers-off-by-one", SYNC, NW,
           'elif len(self.peers) >= self.node.max_peers and "ignore-max-peers" not in self.node.bugs:',
           'elif len(self.peers) > self.node.max_peers and "ignore-max-peers" not in self.node.bugs:',
           "P4 one peer too many"),
    # -- gossip (G rules) ----------------------------------------------------------------------
    Mutant("gossip-back-to-sender", SYNC, NW,
           "targets = [c for c in self.peers.values() if c.id != a.exclude]",
           "targets = list(self.peers.values())", "G1 echoes to the sender"),
    Mutant("gossip-fanout-1", SYNC, NW, "            targets = self.rng.sample(targets, 8)",
           "            targets = self.rng.sample(targets, 1)", "G1 fan-out of one"),
    Mutant("gossip-tip-only", SYNC, CH, "for b in blocks[-GOSSIP_TIP:]:", "for b in blocks[-1:]:",
           "only the very tip of a batch announced"),
    Mutant("gossip-gap-ignored", SYNC, CH,
           "        if b.height > h + 1:\n            await self._ref(\"sync\").tell(msg.PeerHead(m.source, b.height))\n            return",
           "        if b.height > h + 1:\n            return", "G3 a gap no longer triggers sync"),
    # -- sync (S rules) ------------------------------------------------------------------------
    Mutant("sync-height-check", SYNC, MA, "                if blk.height != start + i:",
           "                if blk.height < start:", "wrong heights in a range accepted"),
    Mutant("sync-extra-blocks", SYNC, MA, "            if len(blocks) > count:",
           "            if len(blocks) > count + 64:", "more blocks than asked accepted"),
    Mutant("sync-forged-range-mild", SYNC, MA,
           'return [Penalise(peer, Penalty.INVALID_BLOCK, f"forged range {start}: {bad}")]',
           'return [Penalise(peer, Penalty.TIMEOUT, f"forged range {start}: {bad}")]',
           "P2 forged ranges only mildly penalised"),
    Mutant("sched-no-avoid", SYNC, SCH, "fresh = [k for k in cands if k not in avoid] or cands",
           "fresh = cands", "S2 failed range re-asked from the same peer"),
    Mutant("sched-window", SYNC, SCH, "limit = min(self.target, self.committed + self.window)",
           "limit = min(self.target - 1, self.committed + self.window)", "S4 stops one short"),
    Mutant("sched-partial-lost", SYNC, SCH, "        if count < a.count:\n            self._retry[start + count] = a.count - count",
           "        if count < a.count and count == 0:\n            self._retry[start + count] = a.count - count",
           "rest of a short reply never re-requested"),
    # -- governance (BLS federation) -----------------------------------------------------------
    Mutant("bls-identity-pk", GOV, BLS, "    if point == _P1_ZERO:", "    if point is None:",
           "identity public key accepted"),
    Mutant("bls-cancelling-keys", GOV, BLS, "        if total == _P1_ZERO:  # keys cancelling out would verify the identity signature",
           "        if False:  # keys cancelling out would verify the identity signature",
           "cancelling aggregate keys accepted"),
    Mutant("gov-duplicate-signers", GOV, LED, "if len(set(signers)) != len(signers):",
           "if False:", "duplicate signers counted twice"),
    Mutant("gov-threshold-off-by-one", GOV, LED, "if count < self.federation.threshold:",
           "if count < self.federation.threshold - 1:", "threshold minus one accepted"),
    Mutant("gov-expiry", GOV, PRO, "return now >= self.expiry", "return now > self.expiry",
           "proposal still alive at its expiry instant"),
    # -- actor runtime -----------------------------------------------------------------------
    Mutant("mb-drop-oldest-newest", ACTOR, MB, "                        evicted = queues[p].popleft()",
           "                        evicted = queues[p].pop()", "drop-oldest evicts the newest"),
    Mutant("mb-lifo", ACTOR, MB, "                item = dq.popleft()\n                break",
           "                item = dq.pop()\n                break", "mailbox delivers LIFO"),
    Mutant("mb-drop-newest-accepts", ACTOR, MB, "        if policy is OverflowPolicy.DROP_NEWEST:\n            return DROPPED_NEWEST",
           "        if policy is OverflowPolicy.DROP_NEWEST:\n            return FULL",
           "drop-newest reports backpressure"),
    Mutant("sup-restart-budget", ACTOR, SUP, "return len(self._restart_times) >= self.max_restarts",
           "return len(self._restart_times) > self.max_restarts", "one restart too many"),
    Mutant("sup-backoff-window", ACTOR, SUP, "attempt = 1 if now - last >= self.within_s else attempt + 1",
           "attempt = 1", "backoff never grows"),
    Mutant("reg-no-deregister", ACTOR, REG, "        ref = self._names.pop(name, None)",
           "        ref = self._names.get(name, None)", "names never released"),
]  # fmt: skip
MUTANTS += __import__("catalogue_more").MORE  # governance, Lighthouse and actor mutants

# Mutants no input can tell from the original: an earlier rule refuses everything the mutated
# check lets through. A survivor listed here is reported ``equivalent`` and left out of the rate;
# one that is killed is simply killed (the claim was wrong).
EQUIVALENT = {
    "val-producer-range": "producer == len(authorities) owns no slot: B3 refuses it next",
    "val-no-genesis-ts": "a timestamp before genesis is a slot before the genesis parent's: "
    "C4 refuses it (every chain starts at the genesis block)",
    "val-height-link": "a range with a gap is refused by the sync machine's height check and a "
    "gossiped block above head + 1 goes to sync (G3), so validation never sees a gap",
    "verify-producer-index": "validation refuses a producer index >= n (B2) before any "
    "signature is verified (the catalogue's B2-edge case, index n, is refused either way)",
    "bh-blob-gas-swapped": "the embedded endpoint never builds non-zero blob gas: both fields 0",
}
MUTANTS = [Mutant(**{**m.__dict__, "equivalent": EQUIVALENT.get(m.id, "")}) for m in MUTANTS]
