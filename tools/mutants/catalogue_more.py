"""More realistic mutants, for the phases without a cluster: governance, Lighthouse/Engine API,
actor runtime. Same form and rules as ``catalogue.py`` (which appends ``MORE`` to ``MUTANTS``).

Each one is a bug a developer could write while working on that module, chosen without looking
at what the harness tests: a binding left out of a signed digest, a stale trust set, an epoch
not advanced, a header field in the wrong order, a fork one block late, a JWT window widened,
a status mapped to the wrong code, an eviction of the wrong message, a supervisor restarting
the wrong siblings, a restart not counted.
"""

from __future__ import annotations

from catalogue import ACTOR, GOV, SYNC, Mutant

LH = "lighthouse-migration"

PRO = "alys_node/governance/proposal.py"
LED = "alys_node/governance/ledger.py"
FED = "alys_node/governance/federation.py"
BLS = "alys_node/crypto/bls.py"
BH = "alys_node/engine/blockhash.py"
ST = "alys_node/engine/state.py"
JWT = "alys_node/engine/jwt_auth.py"
CDC = "alys_node/engine/codec.py"
SRV = "alys_node/engine/server.py"
CNT = "alys_node/consensus/containers.py"
CNV = "alys_node/consensus/convert.py"
PRS = "alys_node/consensus/presets.py"
MB = "alys_actors/mailbox.py"
SUP = "alys_actors/supervision.py"
CELL = "alys_actors/cell.py"
REF = "alys_actors/ref.py"
REG = "alys_actors/registry.py"
STORE = "alys_node/store/blockstore.py"

MORE: list[Mutant] = [
    # -- governance: what a signature binds, who is trusted, when an epoch starts -------------
    Mutant("gov-digest-no-epoch", GOV, PRO,
           "                struct.pack(\">Q\", self.epoch),\n",
           "", "digest does not bind the epoch: an approval replays across a rotation"),
    Mutant("gov-digest-no-federation", GOV, PRO,
           "                _lp(self.federation_id.encode()),\n",
           "", "digest does not bind the federation id: approvals replay on another federation"),
    Mutant("gov-digest-no-expiry", GOV, PRO,
           "struct.pack(\">QQ\", self.nonce, self.expiry)",
           "struct.pack(\">Q\", self.nonce)", "expiry not signed: a relayer can extend it"),
    Mutant("gov-verify-no-epoch", GOV, LED,
           "        if proposal.epoch != self.federation.epoch:\n            raise GovernanceError(\n                \"wrong_epoch\",",
           "        if proposal.epoch > self.federation.epoch:\n            raise GovernanceError(\n                \"wrong_epoch\",",
           "execution accepts an approval from an older epoch"),
    Mutant("gov-epoch-not-bumped", GOV, FED, "            epoch=self.epoch + 1,",
           "            epoch=self.epoch,", "a membership change does not start a new epoch"),
    Mutant("gov-newcomer-trusted", GOV, FED,
           "            trusted=frozenset(self.pubkeys),  # already validated",
           "            trusted=frozenset(m.pubkey for m in members),  # already validated",
           "stale trust set: newcomers skip the proof of possession (rogue key)"),
    Mutant("gov-replay-other-id", GOV, LED,
           "        if proposal.id in self.executed or proposal.nonce in self.used_nonces:\n            raise GovernanceError(\"replay\", f\"proposal {proposal.id} / nonce {proposal.nonce} used\")",
           "        if proposal.id in self.executed:\n            raise GovernanceError(\"replay\", f\"proposal {proposal.id} / nonce {proposal.nonce} used\")",
           "a used nonce executes again under a fresh proposal id (ledger path)"),
    Mutant("gov-no-evidence", GOV, LED, "            self.evidence.append(ev)\n", "",
           "double signing refused but no evidence kept"),
    Mutant("gov-sign-after-expiry", GOV, LED,
           "        self._check_live(proposal, now)\n        if not self.federation.is_member(member):",
           "        if not self.federation.is_member(member):",
           "liveness not checked when signing: expired or old-epoch proposals collect signatures"),
    Mutant("bls-pop-wrong-dst", GOV, BLS,
           "return _core_verify(key.point, key.data, _signature_point(proof), POP_DST)",
           "return _core_verify(key.point, key.data, _signature_point(proof), DST)",
           "PoP checked under the signature tag: a signed message that equals a key passes"),
    Mutant("bls-sk-zero", GOV, BLS, "    if not 0 < value < CURVE_ORDER:",
           "    if not 0 <= value < CURVE_ORDER:", "secret key 0 accepted (identity key/signature)"),
    # -- Engine API / consensus types ------------------------------------------------------------
    Mutant("bh-gas-swapped", LH, BH,
           "        int(payload.gas_limit),\n        int(payload.gas_used),",
           "        int(payload.gas_used),\n        int(payload.gas_limit),",
           "block-hash header has gasLimit and gasUsed in the wrong order"),
    Mutant("bh-blob-gas-swapped", LH, BH,
           "header += [int(payload.blob_gas_used), int(payload.excess_blob_gas)]",
           "header += [int(payload.excess_blob_gas), int(payload.blob_gas_used)]",
           "deneb header fields in the wrong order"),
    Mutant("bh-withdrawal-fields", LH, BH,
           "encode([int(w.index), int(w.validator_index), bytes(w.address), int(w.amount)])",
           "encode([int(w.validator_index), int(w.index), bytes(w.address), int(w.amount)])",
           "withdrawal RLP with index and validatorIndex swapped"),
    Mutant("fork-deneb-late", LH, ST, "        if timestamp >= self.deneb_time:",
           "        if timestamp > self.deneb_time:", "deneb one block late"),
    Mutant("fork-capella-late", LH, ST, "        if timestamp >= self.capella_time:",
           "        if timestamp > self.capella_time:", "capella one block late"),
    Mutant("jwt-future-ok", LH, JWT, "    if abs(now - iat) > IAT_WINDOW_S:",
           "    if now - iat > IAT_WINDOW_S:", "tokens from the future accepted"),
    Mutant("jwt-window-wide", LH, JWT, "IAT_WINDOW_S = 60\n", "IAT_WINDOW_S = 300\n",
           "iat window of 5 minutes instead of +-60 s"),
    Mutant("np-status-v2-ibh", LH, ST,
           'status = "INVALID_BLOCK_HASH" if version == 1 else "INVALID"',
           'status = "INVALID_BLOCK_HASH" if version <= 2 else "INVALID"',
           "V2 answers INVALID_BLOCK_HASH (dropped from V2 on by shanghai.md)"),
    Mutant("np-invalid-parent", LH, ST,
           '        if parent.status == "INVALID":\n            block.status = "INVALID"',
           '        if parent.status == "INVALID" and False:\n            block.status = "INVALID"',
           "a child of an INVALID block is not INVALID"),
    Mutant("np-number-unchecked", LH, ST,
           "        elif block.number != parent.number + 1:",
           "        elif block.number <= parent.number:", "block number gaps accepted"),
    Mutant("fcu-safe-unchecked", LH, ST,
           'for key in ("safe_block_hash", "finalized_block_hash"):',
           'for key in ("finalized_block_hash",):', "safe block not checked against the head chain"),
    Mutant("fcu-stale-attrs", LH, ST, "        if ts <= head.timestamp:",
           "        if ts < head.timestamp:", "attributes at the head's own timestamp accepted"),
    Mutant("getpayload-v2-deneb", LH, ST,
           '2: ("bellatrix", "capella"), 3: ("deneb",)',
           '2: ("bellatrix", "capella", "deneb"), 3: ("deneb",)',
           "getPayloadV2 serves a deneb payload (cancun.md: -38005)"),
    Mutant("codec-qty-leading-zero", LH, CDC, '_QTY = re.compile(r"^0x(0|[1-9a-f][0-9a-f]*)$")',
           '_QTY = re.compile(r"^0x[0-9a-f]+$")', "non-canonical QUANTITY (leading zeros) accepted"),
    Mutant("bodies-range-short", LH, SRV, "for n in range(start, start + count) if n < len(chain)",
           "for n in range(start, start + count - 1) if n < len(chain)",
           "getPayloadBodiesByRange returns one body too few"),
    Mutant("ssz-gas-order", LH, CNT, '        "gas_limit": uint64,\n        "gas_used": uint64,',
           '        "gas_used": uint64,\n        "gas_limit": uint64,', "container fields swapped"),
    Mutant("header-wroot-from-txs", LH, CNV,
           "values[key] = payload.withdrawals.hash_tree_root()",
           "values[key] = payload.transactions.hash_tree_root()",
           "withdrawals_root computed from the transactions"),
    Mutant("downgrade-drops", LH, CNV,
           "if getattr(obj, key).hash_tree_root() != empty.hash_tree_root():",
           "if False and getattr(obj, key).hash_tree_root() != empty.hash_tree_root():",
           "downgrade silently drops withdrawals"),
    Mutant("preset-withdrawals", LH, PRS, "max_withdrawals_per_payload: int = 16",
           "max_withdrawals_per_payload: int = 8", "mainnet withdrawals limit wrong (tree depth)"),
    # -- actor runtime ---------------------------------------------------------------------------
    Mutant("mb-drop-lowest-equal", ACTOR, MB,
           "                if p > priority:\n                    evicted = queues[p].pop()",
           "                if p >= priority:\n                    evicted = queues[p].pop()",
           "drop-lowest-priority evicts a message as important as the incoming one"),
    Mutant("mb-drop-lowest-oldest", ACTOR, MB, "                    evicted = queues[p].pop()",
           "                    evicted = queues[p].popleft()",
           "drop-lowest-priority evicts the oldest of the level instead of the newest"),
    Mutant("mb-drop-oldest-urgent", ACTOR, MB,
           "                    if p >= priority:\n                        evicted = queues[p].popleft()",
           "                    if True:\n                        evicted = queues[p].popleft()",
           "drop-oldest evicts a more urgent queued message for a less urgent one"),
    Mutant("cell-high-before-critical", ACTOR, CELL,
           "                if q0:\n                    env = q0.popleft()\n                elif q1:\n                    env = q1.popleft()",
           "                if q1:\n                    env = q1.popleft()\n                elif q0:\n                    env = q0.popleft()",
           "High delivered before Critical"),
    Mutant("evicted-wrong-letter", ACTOR, REF,
           "                system.dead_letters.publish(emsg, self, res.reason, eprio)",
           "                system.dead_letters.publish(msg, self, res.reason, prio)",
           "dead letter names the incoming message instead of the evicted one"),
    Mutant("sup-rest-for-one-before", ACTOR, SUP, "        return kids[kids.index(ref) :]",
           "        return kids[: kids.index(ref) + 1]",
           "rest_for_one restarts the siblings started before, not after"),
    Mutant("sup-restart-order", ACTOR, SUP,
           "        for c in reversed(down):  # ...and bring it back up in start order",
           "        for c in down:  # ...and bring it back up in start order",
           "siblings brought back up in reverse start order"),
    Mutant("sup-count-last-only", ACTOR, SUP, "        self._restart_times.append(now)\n",
           "        self._restart_times = [now]\n", "restart intensity counts only the last one"),
    Mutant("sup-temporary-restarted", ACTOR, SUP,
           "        if ref.kind is ChildKind.TEMPORARY or not self.policy.restarts:",
           "        if not self.policy.restarts:", "temporary children restarted"),
    Mutant("cell-transient-restarted", ACTOR, CELL,
           "            self.kind is ChildKind.PERMANENT\n            and parent is not None",
           "            self.kind is not ChildKind.TEMPORARY\n            and parent is not None",
           "a transient child's normal exit restarts it"),
    Mutant("cell-restarts-uncounted", ACTOR, CELL, "        self.stats.restarts += 1\n", "",
           "restarts not counted in the actor's stats"),
    Mutant("backoff-off-by-one", ACTOR, SUP, "self.base_s * 2 ** max(0, attempt - 1)",
           "self.base_s * 2 ** attempt", "first backoff delay is twice the base"),
    Mutant("reg-watch-stopped", ACTOR, REG,
           "        if target.state is LifecycleState.STOPPED:\n            self._deliver(watcher, Terminated(target, \"already stopped\"))",
           "        if False:\n            self._deliver(watcher, Terminated(target, \"already stopped\"))",
           "watching an already stopped actor never delivers Terminated"),
    # -- block store failure atomicity (a DiskSpaceExhaustion of `alys-test chaos` exercises it)
    Mutant("store-head-before-commit", SYNC, STORE,
           "        ts = time.time() if received_at is None else received_at\n        try:\n",
           "        ts = time.time() if received_at is None else received_at\n"
           "        last = blocks[-1]\n"
           "        self.head_height, self.head_hash, self.head_header = (\n"
           "            last.height, last.hash, last.header)\n"
           "        try:\n",
           "head and blocks not updated atomically: the store's head moves before the COMMIT, "
           "so after a write that fails (disk full) every later write is refused as not "
           "extending it and the node is wedged until restarted (D8: a failed write leaves no "
           "trace)"),
]  # fmt: skip
