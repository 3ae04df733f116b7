"""Assembling an agent session: the model endpoint, tools, services, and cleanup.

Resolution order for the model: configured base URL → detected local server (llama.cpp 8080,
LM Studio 1234, Ollama 11434) → the embedded model (llama-server started on a free loopback port
and stopped at exit). `smallcode run` and the TUI both open sessions here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .agent import Agent, Confirm
from .config import Settings
from .model.client import OpenAIChatClient
from .model.discovery import detect_local_server
from .model.types import Usage
from .tools import Services, build_registry
from .tools.workspace import Workspace

Progress = Callable[[str], None]


@dataclass
class Endpoint:
    base_url: str
    source: str  # configured | serve | detected:<kind> | embedded:<size>
    api_key: str | None = None
    model: str | None = None
    stop: Callable[[], None] | None = None


def resolve_endpoint(settings: Settings, progress: Progress = lambda _: None) -> Endpoint:
    m = settings.model
    key = m.api_key.get_secret_value() if m.api_key else None
    if m.base_url:
        return Endpoint(m.base_url, "configured", key, m.model)
    s = settings.serve
    if s.server_url:
        token = s.token.get_secret_value() if s.token else key
        return Endpoint(s.server_url.rstrip("/") + ("" if s.server_url.rstrip("/").endswith("/v1")
                                                    else "/v1"), "serve", token, m.model)
    if m.detect_local:
        found = detect_local_server()
        if found:
            return Endpoint(found.base_url, f"detected:{found.kind}", key, m.model)
    from .model.embedded import start_embedded

    progress(f"no model server configured or found; starting the embedded {m.embedded_size} model")
    # one user, one conversation: a single slot gets the whole window and one warm prompt cache
    server = start_embedded(m.embedded_size, progress, ctx=16384, parallel=1)
    return Endpoint(server.base_url, f"embedded:{m.embedded_size}", None, server.model_name,
                    server.stop)


@dataclass
class TaskRun:
    """What :meth:`AgentSession.run_task` returns: the final ``done`` event, the usage summary
    event and the token ledger of the task."""

    done: Any  # DoneEvent
    summary: Any  # UsageSummary
    ledger: Any  # TokenLedger


@dataclass
class AgentSession:
    agent: Agent
    client: OpenAIChatClient
    endpoint: Endpoint
    closers: list[Callable[[], Any]] = field(default_factory=list)
    store: Any = None  # SessionStore
    session_id: str = ""
    created: float = field(default_factory=time.time)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    extensions: Any = None

    def resume(self, session_id: str) -> None:
        """Load a saved conversation into the agent (same workspace)."""
        data = self.store.load(self.store.resolve(session_id))
        self.session_id = data["id"]
        self.created = float(data.get("created") or time.time())
        self.agent.history = [m for m in data.get("messages", []) if m.get("role") != "system"]
        saved = data.get("usage") or {}
        self.agent.usage = Usage(**{k: int(v) for k, v in saved.items()
                                    if k in ("prompt_tokens", "completion_tokens", "cached_tokens")})
        self.tasks = list(data.get("tasks") or [])
        esc = self.agent.ctx.services.escalator
        if esc is not None:
            esc.used = int(data.get("escalations_used") or 0)

    def record_task(self, task: str, done: Any) -> None:
        self.tasks.append({"task": task, "success": done.success, "reason": done.reason,
                           "summary": done.summary, "turns": done.turns,
                           "tool_calls": done.tool_calls, "ts": time.time()})

    async def run_task(self, task: str, sink: Callable[[Any], Any], *,
                       verbose: bool = False) -> TaskRun:
        """One task, the same way for every front-end (`smallcode run`, the TUI, and `bench`
        through `smallcode run`): plan (independent steps in parallel), or the solve path / tool
        loop with the plan anchor; every event goes through the session log, the metrics and the
        token ledger, then to ``sink``; the task is recorded and the session saved. A task that
        is cancelled (Ctrl+C, SIGTERM) is recorded as interrupted and the session still saved."""
        from .observability import RunObservability
        from .plan.integration import PlanObserver, run_plan

        a = self.agent
        obs = RunObservability.open(
            a.workspace.root, self.session_id, verbose=verbose, model=self.client.model_name,
            prior_tasks=len(self.tasks),
            prior_usage={"prompt_tokens": a.usage.prompt_tokens,
                         "completion_tokens": a.usage.completion_tokens,
                         "cached_tokens": a.usage.cached_tokens})
        obs.task_started(task)
        try:
            emit = obs.wrap(sink)
            # parallel executor for independent steps (on serve's step workers when attached)
            done = await run_plan(a, task, emit, runner=a.ctx.services.step_runner)
            if done is not None:
                res = emit(done)
                if asyncio.iscoroutine(res):
                    await res
            else:  # no plan, or a sequential one: the anchor rides along every turn
                done = await a.run(task, PlanObserver(a, emit))
            summary = obs.finish(self.client)
        except BaseException as exc:
            cancelled = isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt))
            self.tasks.append({"task": task, "success": False, "ts": time.time(),
                               "reason": f"interrupted ({type(exc).__name__})" if cancelled
                               else f"failed: {type(exc).__name__}: {exc}"})
            with contextlib.suppress(Exception):
                self.save()
            raise
        finally:
            obs.close()
        self.record_task(task, done)
        self.save()
        return TaskRun(done, summary, obs.ledger)

    def save(self) -> None:
        """Persist the conversation (atomic; secrets redacted by the store)."""
        a = self.agent
        esc = a.ctx.services.escalator
        self.store.save(self.session_id, {
            "id": self.session_id, "created": self.created, "updated": time.time(),
            "workspace": str(a.workspace.root), "model": self.client.model_name,
            "endpoint": self.endpoint.source, "messages": a.history, "tasks": self.tasks,
            "usage": {"prompt_tokens": a.usage.prompt_tokens,
                      "completion_tokens": a.usage.completion_tokens,
                      "cached_tokens": a.usage.cached_tokens},
            "escalations_used": getattr(esc, "used", 0)})

    async def aclose(self) -> None:
        if self.extensions is not None:
            with contextlib.suppress(Exception):
                await self.extensions.aclose()
        await self.client.aclose()
        shell = self.agent.ctx.services.shell
        if shell is not None:
            await shell.close()
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                close()
        if self.endpoint.stop:
            self.endpoint.stop()


Backend = Callable[[Any, Progress], "tuple[Services, list[Callable[[], Any]]] | None"]
"""Where a session's graph, memory and plan steps live when not in this process: called with
the workspace root and ``progress``; returns (a :class:`Services` with the ones it provides,
closers), or None to stay in-process.
`smallcode run` and the TUI pass the one ``smallcode.cli.backends.backend_for`` chose."""


def open_services(ws: Workspace, settings: Settings, progress: Progress,
                  attached: Services | None = None
                  ) -> tuple[Services, list[Callable[[], Any]]]:
    """The collaborators of one session: code graph, snapshots, escalation, memory, project
    instructions. ``attached`` holds the ones a backend provides (serve's indexer and memory
    actors, its step workers); the rest are built in-process. ``attached`` is not changed: the
    result is a copy with the rest filled in."""
    services = replace(attached) if attached is not None else Services()
    from .graph.codegraph import CodeGraph
    from .model.escalation import Escalator
    from .snapshots import SnapshotStore

    state_dir = ws.root / ".smallcode"
    state_dir.mkdir(exist_ok=True)
    ignore = state_dir / ".gitignore"
    if not ignore.exists():  # smallcode's own state never ends up in the user's commits
        ignore.write_text("# smallcode state: sessions, snapshots, indexes, logs\n*\n")
    if services.snapshots is None:
        services.snapshots = SnapshotStore(ws.root)
    if services.escalator is None:
        services.escalator = Escalator(settings.escalation)
    closers: list[Callable[[], Any]] = []
    if services.graph is None:
        graph = CodeGraph(ws.root)
        try:
            report = graph.index()
            services.graph = graph
            progress(f"code graph: {report}")
        except Exception as exc:  # noqa: BLE001 - the graph is an aid; the agent works without it
            progress(f"code graph unavailable: {exc}")
        closers.append(graph.close)
    from .memory.instructions import load_instructions

    text = load_instructions(ws.root)
    if text:
        services.instructions = text
    from .memory.store import MemoryStore

    if services.memory is None:
        try:
            store = MemoryStore.for_workspace(ws.root)
        except Exception as exc:  # noqa: BLE001 - e.g. the file is held by a serve actor
            progress(f"project memory unavailable ({exc}); continuing without it")
        else:
            services.memory = store
            closers.append(store.close)
    return services, closers


async def open_session(workspace: str, settings: Settings, *, confirm: Confirm | None = None,
                       progress: Progress = lambda _: None,
                       backend: Backend | None = None) -> AgentSession:
    """The session of one front-end. ``backend`` (used only when the model endpoint is a
    `smallcode serve`) supplies the graph, memory and step runner from serve's actors."""
    ws = Workspace(workspace)
    endpoint = await asyncio.to_thread(resolve_endpoint, settings, progress)
    m = settings.model
    client = OpenAIChatClient(endpoint.base_url, model=endpoint.model, api_key=endpoint.api_key,
                              connect_timeout=m.connect_timeout, read_timeout=m.read_timeout,
                              max_retries=m.max_retries, context_window=m.context_window,
                              default_max_tokens=m.max_tokens)
    try:
        await client.discover()
    except Exception:
        await client.aclose()
        if endpoint.stop:
            endpoint.stop()
        raise
    from .plan.executor import recover_plans

    # a plan run that crashed (kill -9, power loss) left steps half-applied: restore their files
    for report in await recover_plans(ws.root):
        restored = ", ".join(report.compensated) or "nothing to restore"
        problems = "; ".join(f"{k}: {v}" for k, v in report.errors.items())
        progress(f"recovered an interrupted plan run {report.saga_id}: {restored}"
                 + (f" (problems: {problems})" if problems else ""))
    attached: Services | None = None
    backend_closers: list[Callable[[], Any]] = []
    if backend is not None and endpoint.source == "serve":
        try:
            found = await asyncio.to_thread(backend, ws.root, progress)
        except Exception as exc:  # noqa: BLE001 - the run still works with in-process services
            progress(f"serve's actors unavailable ({type(exc).__name__}: {exc}); using "
                     "in-process services")
        else:
            if found is not None:
                attached, backend_closers = found
    services, closers = await asyncio.to_thread(open_services, ws, settings, progress, attached)
    closers = backend_closers + closers  # closed in reverse: the backend's last
    from .extensions import open_extensions
    from .memory.sessions import SessionStore

    store = SessionStore(ws.root)
    session_id = store.new_id()
    registry = build_registry(settings)
    ext = await open_extensions(ws, settings, registry)
    services.extensions = ext
    for err in ext.all_errors():
        progress(f"extension problem: {err}")
    agent = Agent(client, registry, ws, settings, confirm=confirm, services=services,
                  session_id=session_id)
    ext.context["session_id"] = session_id
    return AgentSession(agent, client, endpoint, closers, store=store, session_id=session_id,
                        extensions=ext)
