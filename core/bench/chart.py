"""A PNG chart of benchmark runs: pass rate and tokens per solved task, one bar per run."""

from __future__ import annotations

from pathlib import Path

from smallcode.core.bench.results import BenchRun


def run_title(run: BenchRun) -> str:
    day = run.started_at[:10]
    return f"{run.label}\n{run.model or 'default model'}\n{day}"


def render_chart(runs: list[BenchRun], out: str | Path, title: str = "") -> Path:
    """Draw pass rate (pass@k, with pass@1 marked) and tokens per solved task for each run."""
    if not runs:
        raise ValueError("no runs to chart")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    summaries = [r.summary() for r in runs]
    names = [run_title(r) for r in runs]
    xs = list(range(len(runs)))
    width = max(6.0, 1.4 * len(runs) + 2)
    fig, (ax_pass, ax_tok) = plt.subplots(1, 2, figsize=(2 * width, 5), constrained_layout=True)
    rates = [100 * s.pass_rate for s in summaries]
    bars = ax_pass.bar(xs, rates, color="#4c78a8", label="pass@k")
    ax_pass.scatter(xs, [100 * s.pass_at_1 for s in summaries], color="#f58518", zorder=3,
                    label="pass@1")
    for bar, s in zip(bars, summaries, strict=True):
        ax_pass.annotate(f"{s.passed_tasks}/{s.tasks}", (bar.get_x() + bar.get_width() / 2,
                         bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax_pass.set_ylim(0, 105)
    ax_pass.set_ylabel("tasks passed (%)")
    ax_pass.set_title("Pass rate")
    ax_pass.legend(loc="upper right", fontsize=8)
    tokens = [s.tokens_per_solved or 0.0 for s in summaries]
    tbars = ax_tok.bar(xs, tokens, color="#54a24b")
    for bar, s in zip(tbars, summaries, strict=True):
        text = (f"{s.tokens_per_solved:,.0f}" if s.tokens_per_solved
                else "tokens unknown" if s.total_tokens is None else "none solved")
        ax_tok.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
    ax_tok.set_ylabel("tokens (prompt + completion) per solved task")
    ax_tok.set_title("Tokens per solved task")
    for ax in (ax_pass, ax_tok):
        ax.set_xticks(xs)
        ax.set_xticklabels(names, fontsize=8)
    if title:
        fig.suptitle(title)
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, format="png", dpi=100)
    plt.close(fig)
    return out_path
