"""Micro-task: why did a command fail, and what is the next step?

Fallback: regex rules for the failures seen most (missing module, command not found, syntax
error, failed assertion, missing file, permission, timeout, port in use).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field
from smallcode.core.model.types import ChatModel
from smallcode.core.toolcalls.forgiving_json import loads_forgiving

from .microtask import Cache, MicroResult, MicroTask, json_schema_format

MAX_OUTPUT_CHARS = 6_000


class Diagnosis(BaseModel):
    """A failed command explained: the cause and the next step, plus where, when known."""

    cause: str = Field(min_length=3, max_length=400)
    fix: str = Field(min_length=3, max_length=400)
    location: str | None = None  # file:line when the output names one


_LOCATION_RE = re.compile(r'File "([^"]+)", line (\d+)|^([\w./-]+\.\w+):(\d+)(?::\d+)?:',
                          re.MULTILINE)

_RULES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"No module named '([\w.]+)'"),
     "Python module '{0}' is not installed or not importable",
     "install it (pip install {0}) or fix the import path"),
    (re.compile(r"(?:^|\s)([\w.-]+): (?:command )?not found|command not found: ([\w.-]+)", re.MULTILINE),
     "the command '{0}' is not installed or not on PATH",
     "install it or use the project's runner (e.g. python -m ...)"),
    (re.compile(r"(SyntaxError|IndentationError): (.+)"),
     "{0}: {1}", "fix the syntax at the reported line"),
    (re.compile(r"(?:FAILED|FAIL:?) ([\w/.:\[\]-]+)"),
     "test {0} failed", "read the assertion message above it and fix the code under test"),
    (re.compile(r"AssertionError:?\s*(.*)"),
     "an assertion failed {0}", "compare the expected and actual values and fix the code"),
    (re.compile(r"No such file or directory:? '?([^'\n]*)'?"),
     "a file or folder does not exist: {0}", "check the path (relative to the project root)"),
    (re.compile(r"[Pp]ermission denied"),
     "permission denied", "check file permissions, or run the script with its interpreter"),
    (re.compile(r"[Aa]ddress already in use"),
     "the port is already in use", "stop the other process or use another port"),
    (re.compile(r"npm ERR! [Mm]issing script: \"?([\w:-]+)"),
     "package.json has no script '{0}'", "check the scripts in package.json"),
    (re.compile(r"\b(\w+Error): (.+)"),
     "{0}: {1}", "read the traceback's last frame in the project and fix that line"),
]


def diagnose_by_rules(command: str, exit_code: int | None, output: str) -> Diagnosis | None:
    """The regex fallback: the first rule that matches the output, or a timeout/127 verdict."""
    location = None
    loc = _LOCATION_RE.search(output)
    if loc:
        location = f"{loc.group(1)}:{loc.group(2)}" if loc.group(1) else f"{loc.group(3)}:{loc.group(4)}"
    for rx, cause, fix in _RULES:
        m = rx.search(output)
        if m:
            groups = [g.strip()[:160] for g in m.groups() if g is not None] or [""]
            return Diagnosis(cause=cause.format(*groups, "", "").strip(),
                             fix=fix.format(*groups, "", ""), location=location)
    if exit_code in (124, 137) or re.search(r"timed? ?out", output, re.IGNORECASE):
        return Diagnosis(cause=f"`{command}` timed out or was killed",
                         fix="run a narrower command (one test, a smaller input)",
                         location=location)
    if exit_code == 127:
        return Diagnosis(cause=f"the command in `{command}` was not found",
                         fix="install it or check the spelling", location=location)
    return None


def _build(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    out = inputs["output"]
    if len(out) > MAX_OUTPUT_CHARS:
        out = out[: MAX_OUTPUT_CHARS // 3] + "\n...\n" + out[-MAX_OUTPUT_CHARS * 2 // 3:]
    return [
        {"role": "system", "content": "A command failed in a software project. Answer with one "
         'JSON object: {"cause": "<the root cause, one sentence>", "fix": "<the next step, one '
         'sentence>", "location": "<file:line or null>"}.'},
        {"role": "user", "content": f"$ {inputs['command']}\n(exit code {inputs['exit_code']})"
                                    f"\n{out}"},
    ]


def _parse(text: str, inputs: dict[str, Any]) -> Diagnosis | None:
    obj = loads_forgiving(text[text.find("{"):] if "{" in text else text)
    if not isinstance(obj, dict):
        return None
    return Diagnosis.model_validate(obj)


DIAGNOSE_COMMAND: MicroTask[Diagnosis] = MicroTask(
    name="diagnose_command", output=Diagnosis, build=_build, parse=_parse,
    fallback=lambda i: diagnose_by_rules(i["command"], i["exit_code"], i["output"]),
    timeout=30.0, max_tokens=200, ttl=24 * 3600.0,
    response_format=lambda i: json_schema_format("diagnosis", Diagnosis))


async def diagnose_command(model: ChatModel | None, command: str, exit_code: int | None,
                           output: str, *, cache: Cache | None = None,
                           timeout: float | None = None) -> MicroResult[Diagnosis]:
    return await DIAGNOSE_COMMAND.run(
        model, {"command": command, "exit_code": exit_code, "output": output}, cache=cache,
        timeout=timeout)
