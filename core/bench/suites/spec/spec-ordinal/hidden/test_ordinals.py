import pytest
from ordinals import ordinal


@pytest.mark.parametrize("number, expected", [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"), (12, "12th"),
    (13, "13th"), (21, "21st"), (102, "102nd"), (111, "111th"), (1013, "1013th"),
    (1001, "1001st"),
])
def test_ordinal(number, expected):
    assert ordinal(number) == expected


@pytest.mark.parametrize("number", [0, -3])
def test_not_an_ordinal(number):
    with pytest.raises(ValueError):
        ordinal(number)
