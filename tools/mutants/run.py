"""The harness's own exam: apply each mutant of ``catalogue.py`` to a temporary copy of the repo,
run the phase that should catch it, and print the kill rate per phase.

    python tools/mutants/run.py [--phase P] [--only ID]... [--jobs N] [--check]
                                [--preset development] [--timeout-s 900] [--out results.json]
                                [--include-pytest tests/checkers]
    python tools/mutants/run.py --chaos [--only ID]... [--chaos-arg=--duration=120 ...]

Rules:
1. Mutants are applied to a copy of ``src/`` in a temporary directory, never to the working
   tree; the phase runs with that copy first on PYTHONPATH (node processes inherit it).
2. A mutant whose snippet is missing or not unique is reported ``no longer applies`` and left
   out of the rate; ``--check`` only reports applicability.
3. Killed = the phase failed and at least one failing test or validator names something other
   than a timeout or a stall. ``killed-liveness`` = it failed only by stalls that were detected
   within the stall window and name the liveness rule broken (``[S4] stalled: …``, ``[S5]``):
   counted as caught (stall detection is what replaces timeouts) but shown apart. A phase that
   fails only by timeouts or unnamed stalls, or runs past ``--timeout-s``, counts as missed. A run that cannot start (exit 2, a crash) is an ``error``, also not a kill.
4. The unmutated copy is run first for every selected phase (``--no-baseline`` skips it); if
   it fails, that phase's mutants are reported ``invalid`` (a red baseline proves nothing).
5. ``--chaos`` runs ``alys-test chaos`` (default ``--duration 120 --seed 1``, or the
   ``--chaos-arg`` values) on the mutated copy instead of a phase, every selected mutant under
   the phase name ``chaos``. Killed = exit 1 and a cluster checker naming its rule in
   chaos_report.json (``failed_checkers``); a run that fails only by faults not recovered or
   errors is ``no-rule`` (not a kill): the verdict must name what broke.
6. A survivor the catalogue declares equivalent (``EQUIVALENT``: no input can tell it from the
   original, with the reason) is reported ``equivalent`` and left out of the rate.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalogue import MUTANTS, Mutant  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LIVENESS_RULE = re.compile(r"\[(S4|S5)\] stalled")  # a stall naming its rule (waiting.py)
TIMEOUT_WORDS = ("timed out", "timeout", "time out", "exceeded the duration", "stalled")


@dataclass
class Outcome:
    id: str
    phase: str
    status: str  # killed / survived / missed-timeout / error / no-longer-applies / invalid
    detail: str
    seconds: float


def applies(m: Mutant, src: Path = ROOT / "src") -> str | None:
    """None if the mutant applies to ``src``; else why not."""
    path = src / m.file
    if not path.exists():
        return f"no longer applies: {m.file} does not exist"
    n = path.read_text().count(m.find)
    if n != 1:
        return f"no longer applies: snippet found {n} times in {m.file}"
    return None


def _copy_src(dest: Path) -> Path:
    shutil.copytree(ROOT / "src", dest / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))  # fmt: skip
    return dest / "src"


def _run_phase(
    src: Path, work: Path, phase: str, preset: str, timeout_s: float, extra: list[str]
) -> tuple[int | None, str]:
    env = dict(os.environ, PYTHONPATH=str(src) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ALYS_TEST_NETWORK__NODE_COMMAND", None)
    report = work / "report"
    cmd = [sys.executable, "-m", "alys_test_framework.cli", "run", "--phase", phase,
           "--preset", preset, "--report-dir", str(report), "-q"]  # fmt: skip
    for path in extra:
        cmd += ["--include-pytest", str((ROOT / path).resolve())]
    with open(work / "run.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        try:
            rc: int | None = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    return rc, str(report)


CHAOS_DEFAULT = ["--duration", "120", "--seed", "1"]


def _run_chaos(
    src: Path, work: Path, timeout_s: float, chaos_args: list[str]
) -> tuple[int | None, str]:
    """``alys-test chaos`` with the copy first on PYTHONPATH (the node processes inherit it)."""
    env = dict(os.environ, PYTHONPATH=str(src) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ALYS_TEST_NETWORK__NODE_COMMAND", None)
    report = work / "report"
    cmd = [sys.executable, "-m", "alys_test_framework.cli", "chaos", "--report-dir", str(report),
           *(chaos_args or CHAOS_DEFAULT)]  # fmt: skip
    with open(work / "run.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        try:
            rc: int | None = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the chaos run lifts its faults on SIGTERM
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            rc = None
    return rc, str(report)


def _by_exit(rc: int | None, ran_past: str, passed: str) -> tuple[str, str] | None:
    """The verdict an exit code alone decides (no run, a pass, a crash); None for exit 1."""
    if rc is None:
        return "missed-timeout", ran_past
    if rc == 0:
        return "survived", passed
    if rc != 1:
        return "error", f"exit {rc}"
    return None


def chaos_verdict(rc: int | None, report_dir: str) -> tuple[str, str]:
    """Rule 5: (status, the first failing checker's ``checker: [RULE] detail`` line)."""
    decided = _by_exit(rc, "chaos run past --timeout-s", "chaos run passed")
    if decided is not None:
        return decided
    path = Path(report_dir) / "chaos_report.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return "error", f"exit 1 without {path}"
    fc = data.get("failed_checkers") or []
    if fc:
        f = fc[0]
        rules = sorted({f"{x['checker']}/{x['rule']}" for x in fc})
        return "killed", (f"checker {f['checker']}: [{f['rule']}] node {f.get('node')}: "
                          f"{f.get('detail', '')} (all: {', '.join(rules)})")  # fmt: skip
    return "no-rule", "; ".join(data.get("failures") or ["failed, no checker named a rule"])


def _failures(report_dir: str) -> list[str]:
    """Messages of every failing test and validator in the run's report.json."""
    files = sorted(Path(report_dir).rglob("report.json"))
    if not files:
        return []
    data = json.loads(files[-1].read_text())
    out = []
    for ph in data.get("phases", []):
        for t in ph.get("tests", []):
            if t.get("status") in ("failed", "error"):
                # one entry per violated property (metrics.violations, each whole: a stall's
                # context is part of the stall): a rule broken beside a stall is still a kill
                parts = (t.get("metrics") or {}).get("violations") or [t.get("message") or ""]
                for part in parts:
                    out.append(f"{t.get('name')}: {part}".strip())
        for v in ph.get("validators", []):
            name = v.get("validator") or ""
            if v.get("status") == "failed" and not _derivative(name):
                out.append(f"{name}: {v.get('message') or ''}".strip())
    return out


def _derivative(validator: str) -> bool:
    """Validators that only restate test outcomes (a failed, skipped or missing test; under
    --fail-fast they fail by design) or elapsed time (DurationValidator: a timeout by another
    name): not evidence of a kill."""
    return validator in ("SuccessRateValidator", "DurationValidator") or validator.endswith(
        "PhaseValidator"
    )


def judge(rc: int | None, report_dir: str) -> tuple[str, str]:
    decided = _by_exit(rc, "phase ran past --timeout-s", "phase passed")
    if decided is not None:
        return decided
    fails = _failures(report_dir)
    real = [f for f in fails if not any(w in f.lower() for w in TIMEOUT_WORDS)]
    if real:
        return "killed", real[0][:300]
    named = [f for f in fails if LIVENESS_RULE.search(f)]
    if named:  # a stall detected within the stall window and named as the rule it breaks
        return "killed-liveness", named[0][:300]
    if fails:
        return "missed-timeout", fails[0][:300]
    return "error", "exit 1 without a failing test in report.json"


def run_one(
    m: Mutant | None,
    phase: str,
    preset: str,
    timeout_s: float,
    keep: bool,
    extra: list[str],
    chaos: list[str] | None = None,
) -> Outcome:
    t0 = time.monotonic()
    mid = m.id if m else f"baseline:{phase}"
    work = Path(tempfile.mkdtemp(prefix=f"alys-mutant-{mid.replace(':', '-')}-"))
    try:
        src = _copy_src(work)
        if m is not None:
            why = applies(m, src)
            if why:
                return Outcome(m.id, phase, "no-longer-applies", why, 0.0)
            p = src / m.file
            p.write_text(p.read_text().replace(m.find, m.replace, 1))
        if chaos is not None:
            rc, report = _run_chaos(src, work, timeout_s, chaos)
            status, detail = chaos_verdict(rc, report)
        else:
            rc, report = _run_phase(src, work, phase, preset, timeout_s, extra)
            status, detail = judge(rc, report)
        if m is not None and status == "survived" and m.equivalent:
            status, detail = "equivalent", m.equivalent
        if m is None:  # the baseline must pass
            status = "passed" if rc == 0 else "failed"
        return Outcome(mid, phase, status, detail, time.monotonic() - t0)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="mutation self-check of the harnesses")
    ap.add_argument("--phase", action="append", help="only mutants of this phase (repeatable)")
    ap.add_argument("--only", action="append", help="only this mutant id (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--preset", default="development")
    ap.add_argument("--timeout-s", type=float, default=900.0)
    ap.add_argument("--check", action="store_true", help="only report which mutants apply")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies")
    ap.add_argument("--out", type=Path, help="write the outcomes as JSON here")
    ap.add_argument(
        "--include-pytest",
        action="append",
        default=[],
        metavar="PATH",
        help="also run this pytest path in the phase (alys-test run --include-pytest)",
    )
    ap.add_argument("--chaos", action="store_true",
                    help="run `alys-test chaos` on each mutant instead of its phase (rule 5)")  # fmt: skip
    ap.add_argument("--chaos-arg", action="append", default=[], metavar="ARG",
                    help="argument of `alys-test chaos` (repeatable; default "
                         f"{' '.join(CHAOS_DEFAULT)}), e.g. --chaos-arg=--events=NetworkPartition")  # fmt: skip
    a = ap.parse_args(argv)
    if a.jobs < 1:
        ap.error("--jobs must be >= 1")
    chaos_args = [x for arg in a.chaos_arg for x in arg.split("=", 1)] if a.chaos else None
    known = {m.id for m in MUTANTS}
    for o in a.only or []:
        if o not in known:
            ap.error(f"unknown mutant {o!r} (see tools/mutants/catalogue.py)")
    sel = [m for m in MUTANTS if (not a.phase or m.phase in a.phase)
           and (not a.only or m.id in a.only)]  # fmt: skip
    if a.check:
        bad = 0
        for m in sel:
            why = applies(m)
            bad += why is not None
            print(f"{m.id:28} {m.phase:24} {why or 'applies'}")
        print(f"{len(sel) - bad}/{len(sel)} mutants apply")
        return 0
    if chaos_args is not None:
        return _main_chaos(a, sel, chaos_args)
    phases = sorted({m.phase for m in sel})
    outcomes: list[Outcome] = []
    invalid: set[str] = set()
    if not a.no_baseline:
        for ph in phases:
            b = run_one(None, ph, a.preset, a.timeout_s, a.keep, a.include_pytest)
            print(f"baseline {ph}: {b.status} ({b.seconds:.0f} s) {b.detail}", flush=True)
            outcomes.append(b)
            if b.status != "passed":
                invalid.add(ph)
    todo = [m for m in sel if m.phase not in invalid]
    outcomes += [
        Outcome(m.id, m.phase, "invalid", "baseline fails", 0.0) for m in sel if m.phase in invalid
    ]
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        futs = {
            pool.submit(run_one, m, m.phase, a.preset, a.timeout_s, a.keep, a.include_pytest): m
            for m in todo
        }
        for f in concurrent.futures.as_completed(futs):
            o = f.result()
            outcomes.append(o)
            print(
                f"{o.id:28} {o.phase:24} {o.status:18} {o.seconds:6.0f} s  {o.detail[:110]}",
                flush=True,
            )
    print()
    print(
        f"{'phase':24} {'killed':>7} {'liveness':>8} {'survived':>9} {'timeout':>8} {'error':>6} "
        f"{'n/a':>4} {'equiv':>5} {'kill rate':>10}"
    )
    for ph in phases:
        rs = [o for o in outcomes if o.phase == ph and not o.id.startswith("baseline:")]
        c = {
            s: sum(o.status == s for o in rs)
            for s in ("killed", "killed-liveness", "survived", "missed-timeout", "error",
                      "no-longer-applies", "equivalent")
        }  # fmt: skip
        caught = c["killed"] + c["killed-liveness"]
        judged = caught + c["survived"] + c["missed-timeout"] + c["error"]
        rate = f"{100 * caught / judged:.0f} %" if judged else "-"
        print(f"{ph:24} {c['killed']:7} {c['killed-liveness']:8} {c['survived']:9} "
              f"{c['missed-timeout']:8} {c['error']:6} {c['no-longer-applies']:4} "
              f"{c['equivalent']:5} {rate:>10}")  # fmt: skip
    if a.out:
        a.out.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


def _main_chaos(a: argparse.Namespace, sel: list[Mutant], chaos_args: list[str]) -> int:
    """Rule 5: the baseline chaos run, then every selected mutant under the same schedule."""
    outcomes: list[Outcome] = []
    if not a.no_baseline:
        b = run_one(None, "chaos", a.preset, a.timeout_s, a.keep, [], chaos_args)
        print(f"baseline chaos: {b.status} ({b.seconds:.0f} s) {b.detail}", flush=True)
        outcomes.append(b)
        if b.status != "passed":
            sel = []
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        futs = [pool.submit(run_one, m, "chaos", a.preset, a.timeout_s, a.keep, [], chaos_args)
                for m in sel]  # fmt: skip
        for f in concurrent.futures.as_completed(futs):
            o = f.result()
            outcomes.append(o)
            print(f"{o.id:28} {o.phase:8} {o.status:16} {o.seconds:6.0f} s  {o.detail[:300]}",
                  flush=True)  # fmt: skip
    rs = [o for o in outcomes if not o.id.startswith("baseline:")]
    killed = sum(o.status == "killed" for o in rs)
    print(f"chaos: {killed} / {len(rs)} mutants killed naming a checker rule")
    if a.out:
        a.out.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
