"""Tool calls from small models: extraction, forgiving JSON, name/argument resolution, repair,
and grammar-constrained actions (behaviour.md §4).

Typical use in the agent loop::

    ext = extract_tool_calls(reply.content, reply.reasoning, reply.tool_calls,
                             known_tools=registry.names())
    for raw in ext.calls:
        outcome = resolve_call(raw, registry)
        if isinstance(outcome, CallProblem):
            fixed = await repair_with_model(model, raw.raw, outcome, registry.schemas())
            ...  # resolve again, or send correction_message(outcome)
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
    "TOOL_ALIASES",
    "ActionParseError",
    "CallProblem",
    "Extraction",
    "ForgivingJSONError",
    "ForgivingParse",
    "PythonCallError",
    "RawCall",
    "ResolvedCall",
    "action_schema",
    "calls_from_value",
    "correction_message",
    "example_call",
    "extract_tool_calls",
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
