import pytest

from matrix import identity, multiply, transpose


def test_transpose_of_non_square():
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]
    assert transpose([[1], [2]]) == [[1, 2]]


def test_multiply_non_square():
    assert multiply([[1, 2, 3]], [[1], [2], [3]]) == [[14]]
    assert multiply([[1, 2], [3, 4]], identity(2)) == [[1, 2], [3, 4]]
    with pytest.raises(ValueError):
        multiply([[1, 2]], [[1, 2]])
