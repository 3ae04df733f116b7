"""Small models pad plans with editor housekeeping; such steps are dropped (seen with the 1.5B)."""

from __future__ import annotations

from smallcode.core.plan.tracker import actionable_steps


def test_housekeeping_steps_are_dropped_and_real_ones_kept_in_order() -> None:
    steps = ["Open the project folder in your preferred code editor.",
             "Navigate to the `billing` directory.",
             "Rename calc_total to compute_total in `billing/totals.py`.",
             "Update the import in `billing/invoice.py`.",
             "Commit and push the changes."]
    assert actionable_steps(steps) == steps[2:4]


def test_a_plan_of_only_housekeeping_is_kept_as_it_is() -> None:
    steps = ["Open the editor.", "Save the file."]
    assert actionable_steps(steps) == steps
