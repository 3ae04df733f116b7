"""The deterministic router: labelled accuracy, tie-breaks, affirmation guard, widening, two-stage.

labelled.jsonl: 270 messages written before the router's signals were tuned, then 68 more
(``"batch": 2``) written afterwards as a held-out check — the router scored 76.5 % on those at
first sight; its vocabulary was then broadened with general synonyms (not per-message rules) and
the batch kept in the set. A third batch of 36 (``"batch": 3``) was written last and never tuned
against: 28/36 (77.8 %) — the honest figure for unseen phrasing. Hard cases stay in the set even
when the router misses them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pydantic import BaseModel
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.router import (
    PRIORITY,
    ROUTE_TABLE,
    SELECT_CATEGORY_TOOL,
    TRIGGERED_TOOLS,
    RouteDecision,
    Router,
    RouteState,
    choose_category,
    needs_two_stage,
    parse_category_choice,
    score_message,
    table_categories,
)
from smallcode.core.tools import build_registry
from smallcode.core.tools.registry import CATEGORIES, Tool, ToolRegistry, ToolResult

from tests.support.scripted_server import Reply, ScriptedServer, tool_call

LABELLED = Path(__file__).with_name("labelled.jsonl")


class _NoArgs(BaseModel):
    pass


def _tool(name: str, *cats: str) -> Tool:
    return Tool(name, f"{name} tool", _NoArgs, lambda a, c: ToolResult(True, ""), frozenset(cats))


@pytest.fixture()
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    for name, cats in (("read_file", ("read", "write", "run", "code_intel", "search", "plan")),
                       ("write_file", ("write", "plan")), ("patch", ("write", "plan")),
                       ("search", ("search", "read", "write", "code_intel", "plan")),
                       ("bash", ("run", "write", "plan")),
                       ("graph_search", ("code_intel",)), ("web_fetch", ("web",)),
                       ("finish", ("read", "write", "run", "plan", "search", "code_intel", "web"))):
        reg.register(_tool(name, *cats))
    return reg


def _labelled_results(router: Router) -> list[tuple[str, str, str]]:
    """(message, expected, got) for every labelled message; sequences carry the router's state."""
    out = []
    for line in LABELLED.read_text().splitlines():
        row = json.loads(line)
        if "turns" in row:
            state: RouteState | None = None
            for message, expected in row["turns"]:
                decision = router.route(message, state)
                state = decision.state
                out.append((message, expected, decision.category))
        else:
            decision = router.route(row["message"], RouteState(previous=row.get("previous")))
            out.append((row["message"], row["category"], decision.category))
    return out


def test_labelled_set_is_large_varied_and_routes_at_least_95_percent(registry, capsys):
    results = _labelled_results(Router(registry))
    assert len(results) >= 200
    expected_counts = Counter(e for _, e, _ in results)
    assert set(expected_counts) == set(CATEGORIES)  # every category is represented
    correct = Counter(e for _, e, g in results if e == g)
    with capsys.disabled():
        print(f"\nrouter accuracy {sum(correct.values())}/{len(results)} = "
              f"{sum(correct.values()) / len(results):.1%}")
        for cat in CATEGORIES:
            print(f"  {cat:<11} {correct[cat]:>3}/{expected_counts[cat]:<3} "
                  f"{correct[cat] / expected_counts[cat]:.0%}")
        for message, expected, got in results:
            if expected != got:
                print(f"  miss: {message!r} expected {expected}, got {got}")
    assert sum(correct.values()) / len(results) >= 0.95


def test_respond_offers_no_tools_even_when_a_tool_declares_respond(registry):
    registry.register(_tool("chit_chat", "respond"))
    decision = Router(registry).route("thanks!")
    assert decision.category == "respond"
    assert decision.tool_names == []


def test_write_route_offers_the_registry_tools_that_declare_write(registry):
    decision = Router(registry).route("fix the typo in README.md")
    assert decision.category == "write"
    assert decision.tool_names == ["read_file", "write_file", "patch", "search", "bash", "finish"]


def test_code_intel_offers_graph_tools_instead_of_write_tools(registry):
    decision = Router(registry).route("how does the scheduler pick a worker?")
    assert decision.category == "code_intel"
    assert "graph_search" in decision.tool_names
    assert "patch" not in decision.tool_names and "write_file" not in decision.tool_names


def test_explain_lowers_write_below_code_intel():
    scores = score_message("explain the parse_args function")
    assert scores["write"] < 0 < scores["code_intel"]


def test_near_tie_is_broken_by_priority_write_first(registry):
    # run and write score within the near-tie margin: write wins by priority
    decision = Router(registry).route("run the build and fix the bug")
    assert decision.scores["run"] - decision.scores["write"] <= 1.0
    assert decision.category == "write"
    assert "near-tie" in decision.reason


def test_priority_order_is_the_specified_one():
    assert PRIORITY == ("write", "run", "code_intel", "search", "plan", "read", "web", "respond")


def test_short_message_without_action_word_is_respond(registry):
    decision = Router(registry).route("hmm, interesting")
    assert decision.category == "respond"


def test_message_without_positive_signal_falls_back_to_read(registry):
    decision = Router(registry).route("the numbers in the quarterly totals look off to me somehow")
    assert decision.category == "read"
    assert "default" in decision.reason


@pytest.mark.parametrize("message", [
    "Solve the exercise in NOTES.md by implementing it in grep.py.",
    "fix search.py, it crashes on empty input",
    "find.py: locate() returns None for a missing key, make it raise KeyError",
    "tools/run.py should print the total with two decimals",
    "Implementing todo.py's add_item is what's left; do it as the README says",
])
def test_a_file_or_function_named_like_an_action_is_not_that_action(registry, message):
    # the change asked for is an edit, whatever its file or function is called
    assert Router(registry).route(message).category == "write"


@pytest.mark.parametrize("message", ["grep for TODO in the project", "find every use of parse_date",
                                     "search the repo for hardcoded ports"])
def test_the_same_words_as_actions_still_route_to_search(registry, message):
    assert Router(registry).route(message).category == "search"


def test_a_path_alone_is_read_not_respond(registry):
    assert Router(registry).route("src/app.py").category == "read"


@pytest.mark.parametrize("reply", ["yes", "ok", "go ahead", "do it", "option 2", "the first one",
                                   "Yes please!", "sure, go for it"])
def test_affirmation_keeps_the_previous_category(registry, reply):
    router = Router(registry)
    decision = router.route(reply, RouteState(previous="write"))
    assert decision.category == "write"
    assert "patch" in decision.tool_names


def test_affirmation_after_respond_widens_to_plan(registry):
    decision = Router(registry).route("ok", RouteState(previous="respond"))
    assert decision.category == "plan"
    assert decision.tool_names  # plan has tools; respond had none


def test_affirmation_with_no_previous_turn_is_respond(registry):
    assert Router(registry).route("yes").category == "respond"


def test_previous_decision_is_accepted_as_state(registry):
    router = Router(registry)
    first = router.route("run the tests")
    assert router.route("go ahead", first).category == "run"
    assert first.state == RouteState(previous="run")


def test_widen_after_first_tool_call_adds_neighbour_categories(registry):
    router = Router(registry)
    decision = router.route("show me src/app.py")
    assert decision.category == "read" and "patch" not in decision.tool_names
    widened = router.widen(decision)
    assert widened.widened and widened.category == "read"
    assert widened.categories == ("read", "search", "write")
    assert "patch" in widened.tool_names and "read_file" in widened.tool_names


def test_widen_admits_a_valid_tool_outside_the_route(registry):
    router = Router(registry)
    decision = router.route("where is parse_header used?")
    assert decision.category == "search" and "web_fetch" not in decision.tool_names
    widened = router.widen(decision, "web_fetch")
    assert "web_fetch" in widened.tool_names
    assert "web" in widened.categories
    assert "admitted web_fetch" in widened.reason


def test_widen_with_unknown_tool_does_not_invent_it(registry):
    router = Router(registry)
    widened = router.widen(router.route("show me a.py"), "teleport")
    assert "teleport" not in widened.tool_names


def test_needs_two_stage_follows_window_and_setting():
    assert needs_two_stage(8192, "auto") is True
    assert needs_two_stage(16384, "auto") is False
    assert needs_two_stage(None, "auto") is False
    assert needs_two_stage(131072, "on") is True
    assert needs_two_stage(4096, "off") is False
    with pytest.raises(ValueError, match="auto, on or off"):
        needs_two_stage(8192, "sometimes")


def test_two_stage_marks_action_routes_but_not_respond(registry):
    router = Router(registry, context_window=8192)
    assert router.route("fix the bug in calc.py").two_stage is True
    assert router.route("thanks").two_stage is False
    assert Router(registry, context_window=32768).route("fix the bug").two_stage is False


def test_affirmations_are_not_sent_to_the_two_stage_classifier(registry):
    router = Router(registry, context_window=8192)
    decision = router.route("go ahead", RouteState(previous="write"))
    assert decision.category == "write" and decision.two_stage is False


def test_select_category_tool_lists_every_category():
    params = SELECT_CATEGORY_TOOL["function"]["parameters"]
    assert params["properties"]["category"]["enum"] == list(CATEGORIES)
    assert SELECT_CATEGORY_TOOL["function"]["name"] == "select_category"


@pytest.mark.parametrize("reply,expected", [
    ({"tool_calls": [tool_call("select_category", {"category": "run"})]}, "run"),
    ({"content": '```json\n{"name": "select_category", "arguments": {"category": "search"}}\n```'},
     "search"),
    ({"content": '{"category": "code_intel"}'}, "code_intel"),
    ({"content": "The category is: write."}, "write"),
    ({"content": "code intel"}, "code_intel"),
    ({"content": "I think read or write"}, None),
    ({"content": "bananas"}, None),
    ({"tool_calls": [tool_call("select_category", {"category": "dance"})]}, None),
    ("plan", "plan"),
])
def test_parse_category_choice(reply, expected):
    assert parse_category_choice(reply) == expected


def test_after_choice_uses_the_model_choice_or_keeps_the_router_choice(registry):
    router = Router(registry, context_window=8192)
    decision = router.route("fix the bug in calc.py")
    chosen = router.after_choice(decision, "run")
    assert chosen.category == "run" and chosen.two_stage is False
    assert "bash" in chosen.tool_names
    kept = router.after_choice(decision, None)
    assert kept.category == "write" and kept.two_stage is False


async def test_two_stage_fires_against_a_server_with_an_8k_window(registry):
    """Real HTTP: the client reads the 8k window; the first call offers only select_category."""
    replies = [Reply(tool_calls=[tool_call("select_category", {"category": "run"})]), "done"]
    with ScriptedServer(replies, context_window=8192) as server:
        client = OpenAIChatClient(server.base_url)
        try:
            await client.discover()
            router = Router(registry, context_window=client.context_window)
            decision = router.route("the tests in test_api.py keep failing, please look")
            assert decision.two_stage is True
            first = await client.chat([{"role": "user", "content": "classify"}],
                                      tools=[SELECT_CATEGORY_TOOL])
            final = router.after_choice(decision, parse_category_choice(first))
            await client.chat([{"role": "user", "content": "go"}],
                              tools=registry.schemas(final.tool_names))
        finally:
            await client.aclose()
    assert client.context_window == 8192
    offered_first = [t["function"]["name"] for t in server.requests[0]["tools"]]
    offered_second = [t["function"]["name"] for t in server.requests[1]["tools"]]
    assert offered_first == ["select_category"]
    assert final.category == "run"
    assert offered_second == final.tool_names and "bash" in offered_second


def _every_builtin_family() -> ToolRegistry:
    """The real registry plus every tool family module in core/tools (even ones not yet listed
    in FAMILIES), so a disagreement shows up as soon as a family is written."""
    import importlib
    import pkgutil

    import smallcode.core.tools as tools_pkg
    from smallcode.core.config import Settings

    # optional families (web) register only when enabled: enable everything
    settings = Settings(extra={"web": {"enabled": True,
                                       "search": {"url": "http://127.0.0.1:9/search"}}})
    registry = build_registry(settings)
    for info in pkgutil.iter_modules(tools_pkg.__path__):
        module = importlib.import_module(f"smallcode.core.tools.{info.name}")
        if info.name in ("registry", "workspace") or not hasattr(module, "register"):
            continue
        scratch = ToolRegistry()
        module.register(scratch, settings)
        for tool in scratch.tools():
            if tool.name not in registry:
                registry.register(tool)
    return registry


def test_route_table_agrees_with_the_categories_builtin_tools_declare():
    registry = _every_builtin_family()
    disagreements = []
    for tool in registry.tools():
        if tool.source != "builtin":
            continue
        declared = set(tool.categories)
        listed = set(table_categories(tool.name))
        if declared != listed:
            disagreements.append(f"{tool.name}: registry {sorted(declared)}, "
                                 f"ROUTE_TABLE {sorted(listed)}")
    assert disagreements == []
    assert {"memory_remember", "web_fetch", "web_search", "graph_search", "find_and_read"} <= \
        set(registry.names())


def test_route_table_covers_every_category_and_respond_is_empty():
    assert set(ROUTE_TABLE) == set(CATEGORIES)
    assert ROUTE_TABLE["respond"] == ()


def test_every_registered_tool_is_reachable_from_some_route():
    registry = _every_builtin_family()
    router = Router(registry)
    reachable = set()
    for cat in CATEGORIES:
        reachable |= set(router.tools_for([cat], TRIGGERED_TOOLS))
    assert set(registry.names()) <= reachable


def test_unknown_category_is_a_clear_error(registry):
    with pytest.raises(ValueError, match="unknown route category 'poetry'"):
        Router(registry).decision_for("poetry", "test")


def test_decision_is_a_frozen_value(registry):
    decision = Router(registry).route("run the tests")
    assert isinstance(decision, RouteDecision)
    with pytest.raises(AttributeError):
        decision.category = "write"  # type: ignore[misc]


async def test_choose_category_runs_the_first_stage_over_http(registry):
    fenced = '```json\n{"name": "select_category", "arguments": {"category": "search"}}\n```'
    with ScriptedServer([fenced, Reply(status=500)], context_window=8192) as server:
        client = OpenAIChatClient(server.base_url, max_retries=0)
        try:
            await client.discover()
            router = Router(registry, context_window=client.context_window)
            decision = router.route("fix the bug in calc.py")
            chosen = await choose_category(client, router, decision, "fix the bug in calc.py")
            kept = await choose_category(client, router, decision, "fix the bug in calc.py")
        finally:
            await client.aclose()
    assert server.requests[0]["tools"] == [SELECT_CATEGORY_TOOL]
    assert server.requests[0]["messages"][-1]["content"] == "fix the bug in calc.py"
    assert chosen.category == "search" and not chosen.two_stage
    assert kept.category == "write" and "unusable" in kept.reason  # server error: router's choice


async def test_choose_category_constrained_uses_json_schema_and_survives_a_hang(registry):
    with ScriptedServer([Reply(content='{"category": "run"}'),
                         Reply(content="late", delay=2.0)]) as server:
        client = OpenAIChatClient(server.base_url, max_retries=0)
        try:
            router = Router(registry, two_stage="on")
            decision = router.route("fix the bug in calc.py")
            chosen = await choose_category(client, router, decision, "x", constrained=True)
            hung = await choose_category(client, router, decision, "x", timeout=0.3)
        finally:
            await client.aclose()
    assert server.requests[0]["response_format"]["type"] == "json_schema"
    assert "tools" not in server.requests[0] or not server.requests[0]["tools"]
    assert chosen.category == "run"
    assert hung.category == "write"


async def test_choose_category_is_a_no_op_without_two_stage(registry):
    router = Router(registry, two_stage="off")
    decision = router.route("fix the bug")
    assert await choose_category(None, router, decision, "fix the bug") is decision


@pytest.mark.parametrize("text", ["a" * 200_000, "fix the bug " * 20_000, "a_" * 100_000,
                                  "x " * 100_000, "@" * 200_000])
def test_routing_huge_messages_has_no_catastrophic_backtracking(registry, text):
    """A guard, not a speed target (that lives in tests/perf/bench_router.py): a regex that
    backtracks catastrophically takes minutes on 200k characters; linear routing takes well
    under a second even on a loaded machine."""
    import time

    router = Router(registry)
    started = time.perf_counter()
    router.route(text)
    assert time.perf_counter() - started < 5.0
