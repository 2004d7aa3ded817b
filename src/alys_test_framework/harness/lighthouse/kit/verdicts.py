"""Property checks that cite the spec section they come from.

Every failed check reads ``<spec section>: <property>: <detail>``, and the cited property is
also listed in the result's ``violated`` metric, so that a report (or the interop test's list
of known client deviations) can match failures by property without parsing messages.
"""

from __future__ import annotations

from ....oracles.engine.spec import cite
from ...base import Outcome, PropertyViolation


def expect(out: Outcome, section: str, condition: bool, prop: str, detail: str = "") -> bool:
    """``out.expect`` with the property cited as ``section: prop``."""
    cited = cite(section, prop)
    if not out.expect(condition, cited, detail):
        violated = out.metrics.setdefault("violated", [])
        violated.append(cited)
        return False
    return True


def require(out: Outcome, section: str, condition: bool, prop: str, detail: str = "") -> None:
    """Like ``expect``, and the test stops: later checks make no sense without this one."""
    if not expect(out, section, condition, prop, detail):
        raise PropertyViolation(cite(section, prop))


def first(items: list[str], n: int = 3) -> str:
    """The first ``n`` problems and how many more there are."""
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return "; ".join(items[:n]) + more
