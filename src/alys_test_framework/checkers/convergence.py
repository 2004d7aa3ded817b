"""Checker: after the last fault heals, the live nodes converge on one head within a bound (S5).

Rules: heal time = the last ``fault`` clear (or ``process`` resume/start) in the history; the
nodes judged are those running at the end. Convergence is the first moment at or after the
heal when the latest observed heads of all of them are the same hash. No convergence within
``bound_s`` — or a history that ends before it — is a violation naming every node's head.
"""

from __future__ import annotations

from ..oracles.chain import Violation
from ..oracles.chain.encoding import hex_bytes
from .history import History


def heal_time(history: History) -> float | None:
    heals = [
        e["t"]
        for e in history.events
        if (e["kind"] == "fault" and e.get("action") == "clear")
        or (e["kind"] == "process" and e.get("action") in ("resume", "restart", "start"))
    ]
    return max(heals) if heals else None


def convergence_time(history: History, since: float, nodes: list[str]) -> float | None:
    heads: dict[str, str] = {}
    for e in history.kind("head"):
        if e["node"] not in nodes:
            continue
        heads[e["node"]] = e["hash"]
        if e["t"] >= since and len(heads) == len(nodes) and len(set(heads.values())) == 1:
            return float(e["t"])
    if len(heads) == len(nodes) and len(set(heads.values())) == 1:
        return since  # already converged at the heal and nothing changed afterwards
    return None


def check_convergence(
    history: History, bound_s: float, nodes: list[str] | None = None
) -> list[Violation]:
    t0 = heal_time(history)
    if t0 is None:
        return []
    live = nodes if nodes is not None else history.live_at_end()
    if len(live) < 2:
        return []
    tc = convergence_time(history, t0, live)
    if tc is not None and tc - t0 <= bound_s:
        return []
    last: dict[str, tuple[int, str]] = {}
    for e in history.kind("head"):
        if e["node"] in live and e["t"] <= t0 + bound_s:
            last[e["node"]] = (int(e["height"]), e["hash"])
    seen = ", ".join(f"{n} at {h} {x[:12]}…" for n, (h, x) in sorted(last.items()))
    when = "never" if tc is None else f"only after {tc - t0:.1f} s"
    top = max(last.values(), default=(None, ""))
    return [
        Violation("S5", f"nodes did not converge within {bound_s:g} s of the heal ({when}); "
                  f"heads: {seen}", top[0], hex_bytes(top[1]) if top[1] else None)
    ]  # fmt: skip
