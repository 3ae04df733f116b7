"""What a :class:`~smallcode.core.tools.registry.ToolContext` carries besides the workspace.

:class:`Services` holds the session's collaborators and switches (one object per session, shared
by every task); :class:`TaskState` holds what belongs to the task being run (the agent replaces it
at the start of each task). Both are slotted dataclasses: a misspelt field name fails at once
instead of reading a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type names only: importing these at run time would cycle through the tools
    from smallcode.core.edit.loop import ImprovementLoop
    from smallcode.core.extensions import Extensions
    from smallcode.core.graph.protocol import GraphProtocol
    from smallcode.core.memory.store import MemoryProtocol
    from smallcode.core.model.escalation import Escalator
    from smallcode.core.model.types import ChatModel
    from smallcode.core.plan.executor import StepRunner
    from smallcode.core.plan.steprun import StepSnapshots
    from smallcode.core.snapshots import SnapshotStore
    from smallcode.core.solve.checker import CandidateChecker
    from smallcode.core.tools.shell import PersistentShell

DEFAULT_TEST_TIMEOUT = 120.0  # seconds for the covering tests edit_and_verify runs
MERGE_TIMEOUT = 90.0  # seconds for the semantic-merge model call of patch_file


@dataclass(slots=True)
class Services:
    """The collaborators of one session; every one is optional (None: the session has none).

    Under `smallcode serve` ``graph``, ``memory`` and ``step_runner`` may be counting proxies of
    serve's actors (:class:`smallcode.actors.attach.Counted`) rather than the types named here;
    they answer the same calls."""

    graph: GraphProtocol | None = None  # code graph (graph_* tools, prefetch, plan dependencies)
    memory: MemoryProtocol | None = None  # project memory (memory tools, prompt notes)
    snapshots: SnapshotStore | StepSnapshots | None = None  # checkpoints for undo and rollback
    shell: PersistentShell | None = None  # the persistent bash; `bash` starts it on first use
    model: ChatModel | None = None  # the session's model, for the semantic-merge last resort
    escalator: Escalator | None = None  # the stronger model, when one is configured
    extensions: Extensions | None = None  # plugins, MCP servers, skills and their hooks
    step_runner: StepRunner | None = None  # where plan steps run (None: in-process tasks)
    candidate_checker: CandidateChecker | None = None  # where solve candidates are checked
    #   (None: in this process; under serve: the step workers)
    instructions: str | None = None  # the project's instructions file, for the system prompt
    validate_edits: bool = True  # check each edited file and run its covering tests
    patch_ladder: bool = True  # tolerant patch matching, and the fallbacks built on it
    can_escalate: bool = False  # edit_and_verify's own improvement loop may escalate
    test_timeout: float = DEFAULT_TEST_TIMEOUT
    merge_timeout: float = MERGE_TIMEOUT


@dataclass(slots=True)
class TaskState:
    """What the tools need to know about the task being run; a fresh one for every task."""

    task: str = ""  # the user's words (e.g. the git push guard reads them)
    start_failures: list[str] | None = None  # ids of tests failing at the start (None: unknown)
    protect_tests: bool = False  # the task does not ask to change tests: test files are read-only
    improvement_loop: ImprovementLoop | None = None  # retry/decompose/escalate policy of the edits


__all__ = ["DEFAULT_TEST_TIMEOUT", "MERGE_TIMEOUT", "Services", "TaskState"]
