"""build/report/index.html: the regression report as one self-contained page, tables and inline SVG plots drawn
here (no plotting library): closure per requirement, bins hit per coverpoint, code coverage per file, test
durations. Input: the summary of virtio_cosim.report.build, the test records and the merged functional bins."""

import math
from html import escape

STATUS_COLOUR = {"failing": "#d62728", "not run": "#ff7f0e", "coverage hole": "#e6b800", "closed": "#2ca02c",
                 "deferred": "#999999", "failed": "#d62728", "error": "#d62728", "passed": "#2ca02c",
                 "skipped": "#999999", "xfailed": "#999999"}
KIND_COLOUR = {"line": "#1f77b4", "branch": "#9467bd", "toggle": "#17becf", "expr": "#8c564b", "user": "#7f7f7f"}

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: 2px 8px; border-bottom: 1px solid #eee;
text-align: left; vertical-align: top; } th { background: #f4f4f4; } td.n { text-align: right; }
code, pre { font: 12px/1.3 ui-monospace, monospace; } pre { background: #f7f7f7; padding: .5em; overflow-x: auto; }
.badge { color: #fff; border-radius: 3px; padding: 0 5px; font-size: 12px; white-space: nowrap; }
.bad { color: #d62728; font-weight: bold; } .good { color: #2ca02c; font-weight: bold; }
details summary { cursor: pointer; } svg text { font: 11px system-ui, sans-serif; }
"""


def _badge(status: str) -> str:
    return f'<span class="badge" style="background:{STATUS_COLOUR.get(status, "#555")}">{escape(status)}</span>'


def _pct(figure: dict | None) -> str:
    return "n/a" if not figure or figure.get("percent") is None else f"{figure['percent']:.2f}%"


def _table(header: list, rows: list, numeric: set = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


# -- SVG -------------------------------------------------------------------------------------------------------


def _short(label: str, chars: int) -> str:
    return label if len(label) <= chars else "\u2026" + label[-(chars - 1):]


def hbar_chart(rows: list, width: int = 760, label_width: int = 230, bar_height: int = 16, maximum: float = 100.0,
               unit: str = "%") -> str:
    """Horizontal bars: rows of (label, value, colour, note). Values from 0 to `maximum`."""
    if not rows:
        return "<p>(nothing to plot)</p>"
    plot = width - label_width - 150
    height = len(rows) * (bar_height + 4) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for tick in range(0, 5):
        x = label_width + plot * tick / 4
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 18}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">'
                     f'{maximum * tick / 4:.{0 if maximum >= 4 else 1}f}{unit}</text>')
    for index, (label, value, colour, note) in enumerate(rows):
        y = index * (bar_height + 4) + 2
        length = 0 if value is None else plot * max(0.0, min(value, maximum)) / maximum
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height - 4}" text-anchor="end">'
                     f'{escape(_short(label, label_width // 6))}<title>{escape(label)}</title></text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="#f2f2f2"/>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" fill="{colour}">'
                     f'<title>{escape(label)}: {escape(note)}</title></rect>')
        parts.append(f'<text x="{label_width + plot + 6}" y="{y + bar_height - 4}">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(groups: list, series: list, width: int = 760, label_width: int = 230) -> str:
    """Per group (label, {series: percent}), one thin bar per series; a legend on top."""
    if not groups:
        return "<p>(nothing to plot)</p>"
    bar, gap = 7, 8
    plot = width - label_width - 20
    group_height = len(series) * bar + gap
    height = len(groups) * group_height + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for index, name in enumerate(series):
        x = label_width + index * 90
        parts.append(f'<rect x="{x}" y="2" width="10" height="10" fill="{KIND_COLOUR.get(name, "#555")}"/>'
                     f'<text x="{x + 14}" y="11">{escape(name)}</text>')
    top = 20
    for tick in range(0, 5):
        x = label_width + plot * tick / 4
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 16}" stroke="#ddd"/>'
                     f'<text x="{x:.1f}" y="{height - 3}" text-anchor="middle">{25 * tick}%</text>')
    for gi, (label, values) in enumerate(groups):
        y0 = top + gi * group_height
        parts.append(f'<text x="{label_width - 6}" y="{y0 + group_height / 2 + 2}" text-anchor="end">'
                     f'{escape(_short(label, label_width // 6))}</text>')
        for si, name in enumerate(series):
            value = values.get(name)
            if value is None:
                continue
            parts.append(f'<rect x="{label_width}" y="{y0 + si * bar}" width="{plot * value / 100:.1f}" '
                         f'height="{bar - 1}" fill="{KIND_COLOUR.get(name, "#555")}">'
                         f'<title>{escape(label)} {escape(name)}: {value:.1f}%</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def duration_histogram(times: list, width: int = 760, height: int = 180) -> str:
    """Test count per decade of running time (log buckets), bars with their counts."""
    if not times:
        return "<p>(no tests)</p>"
    edges = [0.001, 0.01, 0.1, 1, 10, 100, 1000]
    labels = ["<1 ms", "1-10 ms", "10-100 ms", "0.1-1 s", "1-10 s", "10-100 s", "100-1000 s", ">1000 s"]
    counts = [0] * len(labels)
    for t in times:
        counts[sum(t >= e for e in edges)] += 1
    peak = max(counts) or 1
    slot = (width - 40) / len(labels)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for index, (label, count) in enumerate(zip(labels, counts)):
        bar = (height - 40) * math.log1p(count) / math.log1p(peak)
        x = 20 + index * slot
        parts.append(f'<rect x="{x + 6:.1f}" y="{height - 22 - bar:.1f}" width="{slot - 12:.1f}" height="{bar:.1f}" '
                     f'fill="#1f77b4"><title>{escape(label)}: {count} tests</title></rect>')
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - 26 - bar:.1f}" text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# -- page ------------------------------------------------------------------------------------------------------


def render_html(summary: dict, records: list, functional: dict) -> str:
    counts = summary["counts"]
    failed = counts.get("failed", 0) + counts.get("error", 0)
    html = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Regression report</title>"
            f"<style>{CSS}</style></head><body>"]
    verdict = f'<span class="bad">FAILED</span>' if failed else '<span class="good">passed</span>'
    seeds = ", ".join(str(s) for s in summary["seeds"]) or "unrecorded"
    html.append(f"<h1>Regression {verdict}: {counts['tests']} tests, {failed} failed</h1>")
    html.append(f"<p>Session seed {escape(seeds)}; generated {escape(summary['generated'])}; "
                f"{len(summary['meta'])} bundle(s): {escape(', '.join(summary['bundles']))}.</p>")
    switches = sorted({s for m in summary["meta"] for s in m.get("switches", [])})
    if switches:
        html.append(f"<p>Switches: <code>{escape(' '.join(switches))}</code></p>")

    rows = []
    for kind, tally in sorted(summary["kinds"].items()):
        rows.append([escape(kind), tally["tests"], tally.get("passed", 0),
                     tally.get("failed", 0) + tally.get("error", 0),
                     tally.get("skipped", 0) + tally.get("xfailed", 0), tally["seeds"], f"{tally['time']:.1f} s"])
    html.append("<h2>Tests</h2>" + _table(["kind", "tests", "passed", "failed", "skipped", "seeds", "time"], rows,
                                          {1, 2, 3, 4, 5, 6}))

    floors = summary["thresholds"].get("floors", {})
    goals = summary["thresholds"].get("goals", {})
    rows = []
    for kind, label in (("functional", "functional bins"), ("line", "line (rtl/, lcov)"),
                        ("branch", "branch (rtl/)"), ("toggle", "toggle (rtl/)"), ("expr", "expression (rtl/)")):
        figure = summary["coverage"].get(kind) or {}
        if not figure.get("total") and kind == "expr":
            continue
        floor = floors.get(kind)
        below = floor is not None and figure.get("percent") is not None and figure["percent"] < float(floor)
        reached = f'<span class="{"bad" if below else ""}">{_pct(figure)}</span>'
        rows.append([label, reached, f"{figure.get('hit', 0)}/{figure.get('total', 0)}",
                     "-" if floor is None else f"{floor}%", "-" if goals.get(kind) is None else f"{goals[kind]}%"])
    html.append("<h2>Coverage</h2>" + _table(["kind", "reached", "hit/total", "floor (coverage-check)", "goal"],
                                             rows, {1, 2, 3, 4}))
    if summary.get("html_coverage"):
        html.append(f'<p>Line and branch coverage per source line: <a href="{summary["html_coverage"]}">'
                    f"genhtml report</a>.</p>")

    html.append(_failures(summary))
    html.append(_requirements(summary))
    html.append(_plan(summary))
    html.append(_functional(summary, functional))
    html.append(_code(summary))
    html.append(_durations(summary, records))
    html.append(_all_tests(records))
    html.append("</body></html>")
    return "\n".join(html)


def _failures(summary: dict) -> str:
    if not summary["failures"]:
        return "<h2>Failures</h2><p>None.</p>"
    parts = [f"<h2>Failures by signature</h2><p>{sum(g['count'] for g in summary['failures'])} failures, "
             f"{len(summary['failures'])} signature(s). Each command reruns one test and seed alone "
             "(RTL tests with FST waves).</p>"]
    for number, group in enumerate(summary["failures"], 1):
        parts.append(f"<h3>[{number}] {group['count']} &times; <code>{escape(group['signature'])}</code></h3>")
        rows = [[escape(t["test_id"] or t["nodeid"]), t["seed"], f"<code>{escape(t['rerun'])}</code>",
                 escape(t.get("waves") or "")] for t in group["tests"]]
        parts.append(_table(["test", "seed", "rerun", "waves"], rows))
    return "".join(parts)


def _requirements(summary: dict) -> str:
    reqs = summary["requirements"]
    rows, bars = [], []
    for req in reqs:
        tests = req["tests"]
        total, passed = tests.get("total", 0), tests.get("passed", 0)
        hit, bins = req["bins"]
        rows.append([_badge(req["status"]), escape(req["id"]), escape(req["title"]),
                     f"{passed}/{total}", f"{hit}/{bins}" if bins else "-", escape(", ".join(req["entries"]))])
        value = 100.0 * hit / bins if bins else (100.0 * passed / total if total else 0.0)
        note = f"bins {hit}/{bins}" if bins else f"tests {passed}/{total}"
        bars.append((req["id"], value, STATUS_COLOUR[req["status"]], note))
    return ("<h2>Requirements (holes first)</h2><p>Closure per requirement: the share of its covergroups' bins hit, "
            "or of its tests passed where the plan names no covergroup; colour = status.</p>"
            + hbar_chart(bars, label_width=90)
            + _table(["status", "requirement", "title", "tests passed", "bins hit", "testplan entries"], rows))


def _plan(summary: dict) -> str:
    rows = []
    for entry in summary["plan"]:
        tests = entry["tests"]
        bins = entry["bins"]
        missed = entry["missed_bins"]
        detail = ""
        if missed:
            detail = f"<details><summary>{len(missed)} missed bins</summary><code>" + "<br>".join(
                escape(m) for m in missed[:200]) + "</code></details>"
        if entry["missing_covergroups"]:
            detail += "no samples of " + escape(", ".join(entry["missing_covergroups"]))
        if entry["failed_tests"]:
            detail += "<br>failed: " + "<br>".join(f"<code>{escape(t)}</code>" for t in entry["failed_tests"])
        if entry["deferred"]:
            detail += escape(entry["deferred"])
        rows.append([_badge(entry["status"]), escape(entry["id"]), escape(" ".join(entry["requirements"])),
                     f"{tests['passed']}/{tests['total']}", tests["failed"],
                     f"{bins['hit']}/{bins['total']}" if bins["total"] else "-", detail])
    return "<h2>Testplan (holes first)</h2>" + _table(
        ["status", "entry", "requirements", "tests passed", "failed", "bins hit", "details"], rows, {4})


def _functional(summary: dict, functional: dict) -> str:
    groups = summary["functional_groups"]
    bars = [(name, 100.0 * g["hit"] / g["total"] if g["total"] else 0.0,
             "#2ca02c" if g["hit"] == g["total"] else "#e6b800", f"{g['hit']}/{g['total']} bins, {g['hits']} hits")
            for name, g in groups.items()]
    holes = summary["functional_holes"]
    hole_list = "<p>Every bin hit.</p>" if not holes else (
        f"<details open><summary>{len(holes)} bins never hit</summary><code>"
        + "<br>".join(f"{escape(h)} ({escape(str(functional.get(h, {}).get('label', '')))})" for h in holes[:500])
        + "</code></details>")
    return ("<h2>Functional coverage</h2><p>Bins hit per coverpoint and cross, hits summed over the passing test "
            "runs.</p>" + hbar_chart(bars) + hole_list)


def _code(summary: dict) -> str:
    files = summary["code_files"]
    groups = []
    rows = []
    for file, kinds in files.items():
        values = {"line": kinds["lcov_line"]["percent"]}
        for kind in ("branch", "toggle", "expr"):
            if kind in kinds:
                values[kind] = kinds[kind]["percent"]
        groups.append((file.removeprefix("rtl/"), values))
        rows.append([escape(file)] + [
            f"{_pct(kinds.get(k))} ({kinds[k]['hit']}/{kinds[k]['total']})" if k in kinds else "-"
            for k in ("lcov_line", "branch", "toggle", "expr")])
    holes = summary["code_holes"]
    hole_rows = [[escape(h["kind"]), f"{escape(h['file'])}:{h['line']}", f"<code>{escape(h['comment'])}</code>"]
                 for h in holes[:300]]
    excluded = summary["code_excluded"]
    excl = "".join(f"<li><code>{escape(src)}</code>: {n} points</li>" for src, n in excluded.items())
    return ("<h2>Code coverage (rtl/, Verilator)</h2>"
            + grouped_bars(groups, ["line", "branch", "toggle", "expr"])
            + _table(["file", "line (lcov)", "branch", "toggle", "expression"], rows)
            + (f"<p>Excluded by docs/coverage-exclusions:</p><ul>{excl}</ul>" if excl else
               "<p>No exclusions apply (docs/coverage-exclusions).</p>")
            + f"<details><summary>{len(holes)} points never hit"
            + (" (first 300)" if len(holes) > 300 else "") + "</summary>"
            + _table(["kind", "where", "point"], hole_rows) + "</details>")


def _durations(summary: dict, records: list) -> str:
    def name(nodeid: str) -> str:
        test_id = nodeid.rsplit("[", 1)[-1].rstrip("]") if "[verilator/" in nodeid or "[icarus/" in nodeid else None
        return test_id or nodeid.rsplit("/", 1)[-1]

    slowest = [(name(r["nodeid"]), r["time"], STATUS_COLOUR.get(r["outcome"], "#555"), f"{r['time']:.1f} s")
               for r in summary["slowest"]]
    peak = max((t for _, t, _, _ in slowest), default=1.0) or 1.0
    return ("<h2>Test durations</h2><p>Tests per decade of running time (bar heights on a log scale).</p>"
            + duration_histogram([r["time"] for r in records])
            + f"<p>Slowest {len(slowest)} tests:</p>" + hbar_chart(slowest, label_width=420, maximum=peak, unit=" s"))


def _all_tests(records: list) -> str:
    rows = [[_badge(r["outcome"]), escape(r["nodeid"]), r["seed"], f"{r['time']:.2f}"]
            for r in sorted(records, key=lambda r: (r["outcome"] == "passed", r["nodeid"]))]
    return (f"<h2>All tests</h2><details><summary>{len(records)} tests</summary>"
            + _table(["outcome", "test", "seed", "seconds"], rows, {2, 3}) + "</details>")
