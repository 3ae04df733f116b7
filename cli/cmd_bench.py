"""`smallcode bench`: run task suites against the agent, list them, compare runs, chart runs.

All the work happens in :mod:`smallcode.core.bench`; this module parses flags and renders
progress and reports with rich.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

COMMANDS = ("run", "list", "compare", "chart")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", default="smoke", help="smoke | dev | path to a suite folder (default: smoke)")
    p.add_argument("--task", action="append", default=[], metavar="GLOB",
                   help="only tasks whose id or category matches (repeatable)")
    p.add_argument("--model", help="model name sent to the server")
    p.add_argument("--base-url", help="OpenAI-compatible base URL of the model server")
    p.add_argument("--repeats", type=int, default=1, metavar="K", help="attempts per task (pass@k)")
    p.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE",
                   help="a smallcode setting for the agent, e.g. agent.router=false (repeatable)")
    p.add_argument("--label", default="", help="name of this run in reports (default: the suite)")
    p.add_argument("--jobs", type=int, default=1, help="tasks run at once (default 1)")
    p.add_argument("--max-turns", type=int, help="model calls per task (default: the task's, or 12)")
    p.add_argument("--timeout-scale", type=float, default=1.0,
                   help="multiply every task's timeout (slow machines)")
    p.add_argument("--agent-command", help="the agent to run instead of `smallcode run`: a "
                   "command line that gets --yes --json --max-turns K INSTRUCTION appended, or, "
                   "for a peer agent, one with placeholders {instruction} {files} {base_url} "
                   "{model} {workspace}, run as given in the task's workspace")
    p.add_argument("--keep-workspaces", action="store_true",
                   help="leave each task's temporary copy on disk")
    p.add_argument("--score-candidates", action="store_true",
                   help="also run each task's verify on every candidate edit smallcode made, "
                   "not only the one it kept (was no candidate right, or was the wrong one "
                   "chosen?)")
    p.add_argument("--min-pass-rate", type=float, metavar="RATE",
                   help="exit 1 when the pass rate (0..1) is below RATE")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench", help="run benchmark suites and compare runs",
        description="Run a task suite against the agent (each task in a fresh git copy, checked "
                    "by its own tests), list suites and runs, compare two runs, chart runs. "
                    "Results go to .smallcode/benchmarks/.")
    _add_run_options(parser)
    sub = parser.add_subparsers(dest="bench_command", metavar="ACTION")
    run = sub.add_parser("run", help="run a suite (the default action)")
    _add_run_options(run)
    lst = sub.add_parser("list", help="list suites, a suite's tasks, or stored runs")
    lst.add_argument("suite_name", nargs="?", metavar="SUITE", help="list this suite's tasks")
    lst.add_argument("--runs", action="store_true", help="list stored runs instead")
    cmp_ = sub.add_parser("compare", help="per-task differences and a CI on the pass-rate change")
    cmp_.add_argument("a", help="results file, label, or latest~1")
    cmp_.add_argument("b", help="results file, label, or latest")
    cmp_.add_argument("--all", action="store_true", help="show every task, not only changes")
    cmp_.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    chart = sub.add_parser("chart", help="PNG of pass rate and tokens per solved task")
    chart.add_argument("runs", nargs="*", metavar="RUN",
                       help="results files or labels (default: every stored run)")
    chart.add_argument("-o", "--output", help="PNG path (default .smallcode/benchmarks/chart.png)")
    chart.add_argument("--title", default="", help="chart title")
    parser.set_defaults(func=bench_command)


def bench_command(args: argparse.Namespace) -> int:
    from smallcode.core.bench import BenchError, ResultsError, TaskError

    handlers = {None: _run, "run": _run, "list": _list, "compare": _compare, "chart": _chart}
    try:
        return handlers[getattr(args, "bench_command", None)](args)
    except (BenchError, TaskError, ResultsError) as exc:
        print(f"smallcode bench: {exc}", file=sys.stderr)
        return 2


def _project(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "workspace", ".") or ".").resolve()


# --- run ---------------------------------------------------------------------------------------


class ProgressTable:
    """A live table (one row per attempt) on a terminal; one line per finished attempt otherwise."""

    def __init__(self, console: Console, tasks: list[Any], repeats: int) -> None:
        self.console = console
        self.repeats = repeats
        self.rows: dict[tuple[str, int], list[str]] = {
            (t.id, a): [t.id, t.category, "waiting", "", "", "", ""]
            for a in range(repeats) for t in tasks}
        self.lock = threading.Lock()
        self.live: Live | None = None
        self.passed = 0
        self.done = 0

    def render(self) -> Table:
        table = Table(title=f"{self.done}/{len(self.rows)} done, {self.passed} passed",
                      expand=False)
        for col in ("task", "category", "result", "time", "turns", "tools", "tokens"):
            table.add_column(col, justify="right" if col in ("time", "turns", "tools",
                                                             "tokens") else "left")
        for (tid, attempt), row in self.rows.items():
            name = f"{tid} #{attempt + 1}" if self.repeats > 1 else tid
            style = {"pass": "green", "FAIL": "red", "running": "yellow"}.get(row[2], "dim")
            table.add_row(name, *row[1:], style=style)
        return table

    def update(self, upd: Any) -> None:
        with self.lock:
            key = (upd.task.id, upd.attempt)
            row = self.rows[key]
            if upd.state == "running":
                row[2] = "running"
            else:
                r = upd.record
                self.done += 1
                self.passed += int(r.passed)
                row[2:] = ["pass" if r.passed else "FAIL", f"{r.wall_seconds:.0f}s",
                           str(r.turns), str(r.tool_calls),
                           "?" if r.tokens is None else f"{r.tokens:,}"]
                if self.live is None:
                    note = " (agent timed out)" if r.agent_timed_out else ""
                    note += f" ({r.error})" if r.error else ""
                    self.console.print(f"[{self.done}/{len(self.rows)}] {row[0]}: {row[2]} "
                                       f"{row[3]}, {row[4]} turns, {row[6]} tokens{note}",
                                       highlight=False)
            if self.live is not None:
                self.live.update(self.render())


def _run(args: argparse.Namespace) -> int:
    from smallcode.core.bench import (
        DEFAULT_AGENT_COMMAND,
        BenchOptions,
        BenchRunner,
        parse_setting_overrides,
    )

    agent = shlex.split(args.agent_command) if args.agent_command else list(DEFAULT_AGENT_COMMAND)
    if agent:
        agent[0] = os.path.expanduser(agent[0])  # "~/aider-run.sh ..." quoted for the shell
    options = BenchOptions(
        suite=args.suite, task_patterns=list(args.task), model=args.model,
        base_url=args.base_url, repeats=args.repeats,
        settings=parse_setting_overrides(list(args.overrides)), label=args.label,
        jobs=args.jobs, max_turns=args.max_turns, timeout_scale=args.timeout_scale,
        agent_command=agent, project_dir=_project(args), keep_workspaces=args.keep_workspaces,
        score_candidates=args.score_candidates)
    console = Console()
    runner = BenchRunner(options, notice=lambda msg: console.print(f"· {msg}", highlight=False))
    table = ProgressTable(console, runner.tasks, options.repeats)
    runner.progress = table.update
    console.print(f"suite [bold]{runner.suite.name}[/]: {len(runner.tasks)} tasks x "
                  f"{options.repeats}, results -> {runner.results_path}", highlight=False)
    try:
        if console.is_terminal:
            with Live(table.render(), console=console, refresh_per_second=2) as live:
                table.live = live
                result = runner.run()
            table.live = None
        else:
            result = runner.run()
    except KeyboardInterrupt:
        console.print(f"interrupted; partial results in {runner.results_path}")
        return 130
    _print_summary(console, result, runner.results_path)
    summary = result.summary()
    if args.min_pass_rate is not None and summary.pass_rate < args.min_pass_rate:
        return 1
    return 0


def _print_summary(console: Console, run: Any, path: Path) -> None:
    s = run.summary()
    table = Table(title=f"{run.label}: {s.passed_tasks}/{s.tasks} tasks passed", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("pass rate (pass@k)", f"{100 * s.pass_rate:.1f} %")
    if run.repeats > 1:
        table.add_row("pass@1", f"{100 * s.pass_at_1:.1f} %")
    table.add_row("tokens per solved task", _tokens_per_solved(s.tokens_per_solved, s.total_tokens))
    if s.processed_tokens is not None:
        table.add_row("  without prompt-cache hits",
                      _tokens_per_solved(s.processed_per_solved, s.processed_tokens))
    table.add_row("mean time per attempt", f"{s.mean_wall_seconds:.1f} s")
    table.add_row("mean turns", f"{s.mean_turns:.1f}")
    for cat, (ok, total) in s.by_category.items():
        table.add_row(f"  {cat}", f"{ok}/{total}")
    ev = s.exit_vs_verdict
    table.add_row("exit 0: passed / failed", f"{ev.get('0/pass', 0)} / {ev.get('0/fail', 0)}")
    table.add_row("other exit: passed / failed",
                  f"{ev.get('other/pass', 0)} / {ev.get('other/fail', 0)}")
    if s.scored_tasks:
        table.add_row("a candidate passed (of scored tasks)", f"{s.solvable_tasks}/{s.scored_tasks}")
    console.print(table)
    console.print(f"results: {path}", highlight=False)


def _tokens_per_solved(value: float | None, total: int | None = 0) -> str:
    if value:
        return f"{value:,.0f}"
    return "unknown" if total is None else "-"


# --- list --------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    from smallcode.core.bench import list_runs, list_suites, load_suite, results_dir

    console = Console()
    if args.runs:
        runs = list_runs(results_dir(_project(args)))
        if not runs:
            console.print(f"no runs in {results_dir(_project(args))}")
            return 0
        table = Table("file", "label", "suite", "model", "settings", "passed", "tok/solved")
        for stored in runs:
            s = stored.run.summary()
            settings = " ".join(f"{k}={v}" for k, v in stored.run.settings.items())
            tps = _tokens_per_solved(s.tokens_per_solved, s.total_tokens)
            done = "" if stored.run.complete else " (partial)"
            table.add_row(stored.path.name, stored.run.label, stored.run.suite,
                          stored.run.model or "default", settings,
                          f"{s.passed_tasks}/{s.tasks}{done}", tps)
        console.print(table)
        return 0
    if args.suite_name:
        suite = load_suite(args.suite_name)
        table = Table("task", "category", "language", "instruction", title=suite.name)
        for t in suite.tasks:
            table.add_row(t.id, t.category, t.language, t.instruction)
        console.print(table)
        return 0
    table = Table("suite", "tasks", "categories", "description")
    for info in list_suites():
        cats = ", ".join(f"{k} {v}" for k, v in sorted(info.categories.items()))
        table.add_row(info.name, str(info.task_count), cats, info.description)
    console.print(table)
    return 0


# --- compare -----------------------------------------------------------------------------------


def _compare(args: argparse.Namespace) -> int:
    from smallcode.core.bench import compare_runs, load_run, resolve_run, results_dir

    if not 0 < args.confidence < 1:
        print("smallcode bench: --confidence must be between 0 and 1", file=sys.stderr)
        return 2
    folder = results_dir(_project(args))
    path_a, path_b = resolve_run(args.a, folder), resolve_run(args.b, folder)
    run_a, run_b = load_run(path_a), load_run(path_b)
    cmp_ = compare_runs(run_a, run_b, confidence=args.confidence)
    console = Console()
    console.print(f"A = {path_a.name} ({run_a.label}, {run_a.agent}, "
                  f"{run_a.model or 'default model'})\n"
                  f"B = {path_b.name} ({run_b.label}, {run_b.agent}, "
                  f"{run_b.model or 'default model'})", highlight=False)
    rows = cmp_.tasks if args.all else cmp_.changed()
    if rows:
        table = Table("task", "category", "A", "B", "change")
        for t in rows:
            style = {"fixed": "green", "broken": "red"}.get(t.change, "")
            table.add_row(t.task_id, t.category, f"{t.a_passed}/{t.a_attempts}",
                          f"{t.b_passed}/{t.b_attempts}", t.change, style=style)
        console.print(table)
    else:
        console.print("no task changed its result")
    for label, ids in (("only in A", cmp_.only_in_a), ("only in B", cmp_.only_in_b)):
        if ids:
            console.print(f"{label} (not compared): {', '.join(ids)}", highlight=False)
    diff = cmp_.difference()
    if diff is None:
        console.print("no task ran in both runs; nothing to compare")
        return 0
    est, lo, hi = diff
    sa, sb = run_a.summary(), run_b.summary()
    runs = Table("run", "label", "agent", "solved", "%", "tokens/solved", "wall/attempt",
                 "solved only here", title=f"{cmp_.paired} paired tasks")
    for name, run, summary, solved, rate, only in (
            ("A", run_a, sa, cmp_.a_solved, cmp_.a_pass_rate, cmp_.count("broken")),
            ("B", run_b, sb, cmp_.b_solved, cmp_.b_pass_rate, cmp_.count("fixed"))):
        runs.add_row(name, run.label, run.agent, f"{solved}/{cmp_.paired}", f"{100 * rate:.1f}",
                     _tokens_per_solved(summary.tokens_per_solved, summary.total_tokens),
                     f"{summary.mean_wall_seconds:.1f} s", str(only))
    console.print(runs)
    level = f"{100 * cmp_.confidence:g} %"
    console.print(
        f"{cmp_.paired} paired tasks: A passed {100 * cmp_.a_pass_rate:.1f} %, "
        f"B passed {100 * cmp_.b_pass_rate:.1f} %  ({cmp_.count('fixed')} fixed, "
        f"{cmp_.count('broken')} broken)\n"
        f"pass-rate difference B - A: {100 * est:+.1f} points, {level} CI "
        f"[{100 * lo:+.1f}, {100 * hi:+.1f}] (Newcombe, paired)", highlight=False)
    console.print(f"tokens per solved task: "
                  f"A {_tokens_per_solved(cmp_.a_tokens_per_solved, sa.total_tokens)}, "
                  f"B {_tokens_per_solved(cmp_.b_tokens_per_solved, sb.total_tokens)}"
                  + (f" (without prompt-cache hits: A "
                     f"{_tokens_per_solved(sa.processed_per_solved, sa.processed_tokens)}, B "
                     f"{_tokens_per_solved(sb.processed_per_solved, sb.processed_tokens)})"
                     if sa.processed_tokens is not None or sb.processed_tokens is not None
                     else "")
                  + f"; mean time per attempt: A {cmp_.a_mean_wall:.1f} s, "
                    f"B {cmp_.b_mean_wall:.1f} s", highlight=False)
    return 0


# --- chart -------------------------------------------------------------------------------------


def _chart(args: argparse.Namespace) -> int:
    from smallcode.core.bench import list_runs, load_run, render_chart, resolve_run, results_dir

    folder = results_dir(_project(args))
    if args.runs:
        runs = [load_run(resolve_run(ref, folder)) for ref in args.runs]
    else:
        runs = [s.run for s in list_runs(folder)]
    if not runs:
        print(f"smallcode bench: no runs to chart in {folder}", file=sys.stderr)
        return 2
    out = Path(args.output) if args.output else folder / "chart.png"
    try:
        render_chart(runs, out, title=args.title)
    except ImportError:
        print("smallcode bench chart needs matplotlib: pip install 'smallcode[plot]'",
              file=sys.stderr)
        return 2
    print(f"chart of {len(runs)} runs: {out}")
    return 0
