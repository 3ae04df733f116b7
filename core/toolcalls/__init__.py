"""Tool calls from small models: extraction, forgiving JSON, name/argument resolution, repair,
and grammar-constrained actions.

Typical use in the agent loop::

    got = await interpret_reply(reply.content, registry, reasoning=reply.reasoning,
                                native=reply.tool_calls, model=model)
    # run got.calls (ResolvedCall: .name, .args); show got.text; if got.correction, replace
    # the assistant turn in history with it and ask again.
"""

from smallcode.core.toolcalls.action import (
    ACTION_FORMS,
    ActionParseError,
    action_schema,
    parse_action,
)
from smallcode.core.toolcalls.correction import (
    CORRECTION_STYLES,
    correction_message,
    unparseable_problem,
)
from smallcode.core.toolcalls.extraction import (
    CALL_FORMATS,
    Extraction,
    RawCall,
    calls_from_value,
    extract_tool_calls,
    plausible_tool_name,
)
from smallcode.core.toolcalls.forgiving_json import (
    ForgivingJSONError,
    ForgivingParse,
    loads_forgiving,
    parse_forgiving,
)
from smallcode.core.toolcalls.pipeline import REPAIRABLE_PROBLEMS, ReplyCalls, interpret_reply
from smallcode.core.toolcalls.python_calls import (
    POSITIONAL_KEY,
    PythonCallError,
    parse_python_calls,
)
from smallcode.core.toolcalls.repair import repair_with_model
from smallcode.core.toolcalls.resolution import (
    ARGUMENT_SYNONYMS,
    TOOL_ALIASES,
    CallProblem,
    ResolvedCall,
    example_call,
    map_arguments,
    resolve_call,
    resolve_tool_name,
)

__all__ = [
    "ACTION_FORMS",
    "ARGUMENT_SYNONYMS",
    "CALL_FORMATS",
    "CORRECTION_STYLES",
    "POSITIONAL_KEY",
    "REPAIRABLE_PROBLEMS",
    "TOOL_ALIASES",
    "ActionParseError",
    "CallProblem",
    "Extraction",
    "ForgivingJSONError",
    "ForgivingParse",
    "PythonCallError",
    "RawCall",
    "ReplyCalls",
    "ResolvedCall",
    "action_schema",
    "calls_from_value",
    "correction_message",
    "example_call",
    "extract_tool_calls",
    "interpret_reply",
    "loads_forgiving",
    "map_arguments",
    "parse_action",
    "parse_forgiving",
    "parse_python_calls",
    "plausible_tool_name",
    "repair_with_model",
    "resolve_call",
    "resolve_tool_name",
    "unparseable_problem",
]
