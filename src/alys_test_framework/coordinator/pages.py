"""The coordinator's HTML pages: the runs list (with a form to start one) and a run's live page.

Pages are static HTML with a little inline script that calls the JSON API of the same origin;
everything shown comes from that API, so the pages and the API cannot disagree.
"""

from __future__ import annotations

import html

from ..phases import MigrationPhase

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; form-action 'self'"
)

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ddd;
padding: .3em .5em; text-align: left; } .state { font-weight: 600; }
.passed { color: #2e7d32; } .failed, .error { color: #c62828; } .running { color: #1565c0; }
.cancelled, .interrupted { color: #e65100; } fieldset { margin: 1em 0; }
"""


def _page(title: str, body: str, script: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'{body}<script>"use strict";{script}</script></body></html>'
    )


def runs_page() -> str:
    phases = "".join(
        f"<label><input type='checkbox' name='phase' value='{p.value}'> {p.value}</label> "
        for p in MigrationPhase
    )
    body = f"""
<h1>alys-test coordinator</h1>
<div id="status"></div>
<form id="start"><fieldset><legend>Start a run</legend>
{phases}<br>
<label>preset <select name="preset" id="preset"><option>development</option><option>default</option>
<option>ci_cd</option></select></label>
<label>seed <input name="seed" id="seed" type="number" min="0" value="0"></label>
<button type="submit" id="start-button">start</button> <span id="start-error"></span>
</fieldset></form>
<h2>Runs</h2>
<table id="runs"><thead><tr><th>job</th><th>state</th><th>phases</th><th>created</th>
<th>seconds</th><th>report</th></tr></thead><tbody></tbody></table>"""
    script = """
const el = (t, a, x) => { const e = document.createElement(t);
  for (const k in (a || {})) e.setAttribute(k, a[k]); if (x !== undefined) e.textContent = x; return e; };
async function refresh() {
  const s = await (await fetch("/status")).json();
  document.getElementById("status").textContent =
    `running ${s.running} of ${s.max_parallel} slots, ${s.queued} queued, ${s.total_runs} runs`;
  const runs = await (await fetch("/test-runs")).json();
  const tb = document.querySelector("#runs tbody"); tb.replaceChildren();
  for (const j of runs.runs) {
    const tr = el("tr", {"data-job": j.id});
    const a = el("a", {href: "/runs/" + j.id}, j.id); const td = el("td"); td.appendChild(a); tr.appendChild(td);
    tr.appendChild(el("td", {"class": "state " + j.state}, j.state));
    tr.appendChild(el("td", {}, (j.request.phases.length ? j.request.phases : ["all"]).join(", ")));
    tr.appendChild(el("td", {}, new Date(j.created_at * 1000).toISOString()));
    tr.appendChild(el("td", {}, j.duration_s === null ? "" : j.duration_s.toFixed(1)));
    const r = el("td"); if (j.report_dir) r.appendChild(el("a", {href: "/runs/" + j.id + "/report"}, "report"));
    tr.appendChild(r); tb.appendChild(tr);
  }
}
document.getElementById("start").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const phases = [...document.querySelectorAll("input[name=phase]:checked")].map((c) => c.value);
  const body = {phases, preset: document.getElementById("preset").value,
                seed: parseInt(document.getElementById("seed").value || "0", 10)};
  const resp = await fetch("/test-runs", {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify(body)});
  const doc = await resp.json();
  if (!resp.ok) { document.getElementById("start-error").textContent = doc.error; return; }
  location.href = "/runs/" + doc.id;
});
refresh(); setInterval(refresh, 2000);
"""
    return _page("alys-test coordinator", body, script)


def run_page(job_id: str) -> str:
    jid = html.escape(job_id)
    body = f"""
<p><a href="/">all runs</a></p>
<h1>run <code>{jid}</code>: <span id="state" class="state"></span></h1>
<div id="facts"></div>
<p><button id="cancel">cancel</button> <a id="report-link" hidden href="/runs/{jid}/report">open the report</a>
 <a href="/runs/{jid}/files/output.log">output</a></p>
<pre id="summary"></pre>"""
    script = f"""
const id = {job_id!r};
async function refresh() {{
  const resp = await fetch("/test-runs/" + encodeURIComponent(id));
  const j = await resp.json();
  if (!resp.ok) {{ document.getElementById("state").textContent = j.error; return; }}
  const st = document.getElementById("state"); st.textContent = j.state; st.className = "state " + j.state;
  document.getElementById("facts").textContent =
    `attempts ${{j.attempts}}, exit code ${{j.exit_code === null ? "-" : j.exit_code}}` +
    (j.duration_s === null ? "" : `, ${{j.duration_s.toFixed(1)}} s`) + (j.error ? `, ${{j.error}}` : "");
  if (j.report) {{
    document.getElementById("summary").textContent = JSON.stringify(j.report.summary, null, 2);
    document.getElementById("report-link").hidden = false;
  }}
  document.getElementById("cancel").disabled = !["queued", "running"].includes(j.state);
  if (["queued", "running"].includes(j.state)) setTimeout(refresh, 1000);
}}
document.getElementById("cancel").addEventListener("click", async () => {{
  await fetch("/test-runs/" + encodeURIComponent(id) + "/cancel", {{method: "POST"}}); refresh();
}});
refresh();
"""
    return _page(f"run {job_id}", body, script)
