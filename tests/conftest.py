"""Shared fixtures. One Ray instance per test session (starting Ray costs seconds)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# The pytest runs the product makes inside these tests (a toy project's tests at the start, each
# candidate's, the traced fault-localisation run) load no third-party plugin: their projects use
# none, and autoloading the ones this environment has installed (ray's, anyio's, ...) costs
# ~1.4 s per run, most of the default test run's time. This session's own plugins are already
# loaded by the time this file is read. A user's project keeps its plugins: the product sets
# nothing.
os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture(scope="session")
def ray_session():
    """A local Ray instance shared by every test that needs actors. 2 CPUs, no dashboard."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, namespace="smallcode-tests",
                 log_to_driver=False, configure_logging=False)
    yield ray
    # left running until the session ends; ray.shutdown at exit is implicit


@pytest.fixture()
def workspace(tmp_path):
    from smallcode.core.tools.workspace import Workspace

    return Workspace(tmp_path)


@pytest.fixture(scope="session")
def real_server():
    """The embedded Qwen2.5-Coder-1.5B on llama-server (one 16k slot), started once for every
    real-model test of the session; skipped when `smallcode model install` has not run."""
    from smallcode.core.model.embedded import EmbeddedServer, installed_model, llama_server_path

    model = installed_model("1.5b")
    if model is None or not llama_server_path().exists():
        pytest.skip("embedded 1.5B model not installed (smallcode model install)")
    with EmbeddedServer(model, ctx=16384, parallel=1) as srv:
        yield srv
