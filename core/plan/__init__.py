"""Plans that hold: detection and tracking, the step dependency graph, the saga runtime and the
parallel plan executor."""

from .depgraph import DependencyGraph, mentioned_paths
from .saga import Saga, SagaError, SagaStep, SagaStepFailed
from .tracker import PLAN_REQUEST, PlanStep, PlanTracker, detect_plan_needed

__all__ = ["PLAN_REQUEST", "DependencyGraph", "PlanStep", "PlanTracker", "Saga", "SagaError",
           "SagaStep", "SagaStepFailed", "detect_plan_needed", "mentioned_paths"]
