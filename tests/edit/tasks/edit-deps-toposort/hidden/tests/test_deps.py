import pytest

from deps import CycleError, TopologicalSorter


def test_node_with_two_predecessors_comes_once_and_last():
    order = list(TopologicalSorter({"c": {"a", "b"}}).static_order())
    assert sorted(order) == ["a", "b", "c"]
    assert order[-1] == "c"


def test_chain_and_diamond():
    graph = {"d": {"b", "c"}, "b": {"a"}, "c": {"a"}}
    order = list(TopologicalSorter(graph).static_order())
    assert len(order) == 4 and order[0] == "a" and order[-1] == "d"


def test_cycle_is_detected():
    with pytest.raises(CycleError):
        list(TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())
