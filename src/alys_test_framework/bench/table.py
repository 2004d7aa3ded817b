"""The terminal table of a bench run: value, floor, ratio with its interval, target, verdict."""

from __future__ import annotations

from .model import BenchRun, CaseResult
from .regression import Regression


def _fmt(x: float, unit: str) -> str:
    if unit.startswith("bytes"):
        return f"{x / 1024:,.2f} KiB"
    if unit.startswith("s/"):
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
            if abs(x) >= scale:
                return f"{x / scale:,.3g} {suffix}"
        return f"{x / 1e-9:,.3g} ns"
    return f"{x:,.4g}"


def rows(case: CaseResult) -> list[str]:
    m = case.measurements[case.ours]
    ours = m.on(case.basis)
    wall = m.wall.median
    cells = [
        case.key,
        f"{_fmt(ours.median, case.unit)} ±{100 * ours.rel_half_width:.0f}%",
        _fmt(wall, case.unit),
    ]
    if case.floor:
        f = case.measurements[case.floor].on(case.basis)
        cells.append(f"{case.floor} {_fmt(f.median, case.unit)}")
    else:
        cells.append("-")
    if case.ratio is not None:
        r = case.ratio
        cells.append(f"{r.median:.2f}x [{r.ci95_low:.2f}, {r.ci95_high:.2f}]")
    else:
        cells.append("-")
    cells += [case.target.text if case.target else "info", case.verdict]
    return cells


HEADER = [
    "case",
    "ours (basis median ±95%)",
    "wall",
    "floor / peer",
    "ratio [95% CI]",
    "target",
    "verdict",
]


def render(run: BenchRun, regressions: list[Regression]) -> str:
    table = [HEADER] + [rows(c) for c in run.cases]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = []
    for i, cells in enumerate(table):
        lines.append(" | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("-+-".join("-" * w for w in widths))
    lines.append(
        "basis: CPU time per operation unless the case says wall; ratio = ours / floor, lower is better"
    )
    if run.timing:
        lines.append(
            "time per group (wall / CPU incl. reaped children; set-up = outside the cases): "
            + ", ".join(
                f"{g} {t['wall_s']:.0f} s / {t['cpu_s']:.0f} s (set-up {t['setup_s']:.0f} s)"
                for g, t in run.timing.items()
            )
        )
    for e in run.errors:
        lines.append(f"ERROR {e}")
    if regressions:
        lines.append("")
        lines.append("against the baseline (change beyond the two runs' 95% intervals):")
        for reg in regressions:
            lines.append(
                f"  {reg.case:<45} {reg.basis:<28} {reg.baseline:.4g} -> {reg.current:.4g} "
                f"({reg.change_pct:+.1f}%, noise {reg.noise_pct:.1f}%, "
                f"effective {reg.effective_pct:+.1f}%) {reg.severity.value.upper()}"
                + ("" if reg.gating else " (machine, not gated)")
            )
    for label, path in run.profiles.items():
        lines.append(f"profile {label}: {path}")
    return "\n".join(lines)
