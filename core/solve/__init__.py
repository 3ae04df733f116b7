"""The solve path for edit tasks: localize, decide an oracle, generate candidates as plain code,
check each in a scratch copy, keep the best. :class:`Solver` is what ``Agent`` calls."""

from .formats import (
    FORMATS,
    EditFormat,
    FunctionFormat,
    SearchReplaceFormat,
    WholeFileFormat,
    choose_format,
)
from .localize import Located, locate
from .oracle import CheckResult, Oracle, ReproCheck, config_values, repro_checks
from .rename import (
    ModuleMove,
    RenameRequest,
    SuffixChange,
    find_module_move,
    find_rename,
    find_suffix_change,
)
from .request import is_question, wants_change
from .solver import Candidate, SolveOutcome, Solver, outcome_event

__all__ = ["FORMATS", "Candidate", "CheckResult", "EditFormat", "FunctionFormat", "Located",
           "ModuleMove", "Oracle", "RenameRequest", "ReproCheck", "SearchReplaceFormat",
           "SolveOutcome", "Solver", "SuffixChange", "WholeFileFormat", "choose_format",
           "config_values", "find_module_move", "find_rename", "find_suffix_change",
           "is_question", "locate", "outcome_event", "repro_checks", "wants_change"]
