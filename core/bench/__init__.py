"""Benchmarks: task suites with real test oracles, the runner, results, comparison and charts."""

from smallcode.core.bench.chart import render_chart
from smallcode.core.bench.compare import (
    RunComparison,
    TaskDifference,
    compare_runs,
    paired_difference_interval,
    wilson_interval,
)
from smallcode.core.bench.meter import MeterTotals, UsageMeter, reply_usage
from smallcode.core.bench.results import (
    BenchRun,
    ResultsError,
    RunSummary,
    StoredRun,
    TaskRecord,
    list_runs,
    load_run,
    resolve_run,
    results_dir,
    save_run,
)
from smallcode.core.bench.runner import (
    DEFAULT_AGENT_COMMAND,
    PLACEHOLDERS,
    BenchError,
    BenchOptions,
    BenchRunner,
    ProgressUpdate,
    agent_name,
    candidate_files,
    expand_command,
    parse_setting_overrides,
    parse_transcript,
    placeholders_in,
    repo_files,
    score_candidates,
    settings_env,
)
from smallcode.core.bench.tasks import (
    SUITES_DIR,
    BenchSuite,
    BenchTask,
    SuiteInfo,
    TaskError,
    VerifyResult,
    filter_tasks,
    list_suites,
    load_suite,
    load_task,
    prepare_workspace,
    run_verify,
)

__all__ = [
    "DEFAULT_AGENT_COMMAND", "PLACEHOLDERS", "SUITES_DIR", "BenchError", "BenchOptions", "BenchRun",
    "BenchRunner", "BenchSuite", "BenchTask", "MeterTotals", "ProgressUpdate", "ResultsError",
    "RunComparison", "RunSummary", "StoredRun", "SuiteInfo", "TaskDifference", "TaskError",
    "TaskRecord", "UsageMeter", "VerifyResult", "agent_name", "candidate_files", "compare_runs",
    "expand_command", "filter_tasks", "list_runs", "list_suites", "load_run", "load_suite", "load_task",
    "paired_difference_interval", "parse_setting_overrides", "parse_transcript", "placeholders_in",
    "prepare_workspace", "render_chart", "reply_usage", "repo_files", "resolve_run", "results_dir",
    "run_verify", "save_run", "score_candidates", "settings_env", "wilson_interval",
]
