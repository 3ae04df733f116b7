import pytest

from stack import Stack


def test_peek_returns_top_without_removing():
    s = Stack()
    s.push(1)
    s.push(2)
    assert s.peek() == 2
    assert len(s) == 2
    assert s.pop() == 2


def test_peek_on_empty_stack():
    with pytest.raises(IndexError):
        Stack().peek()
