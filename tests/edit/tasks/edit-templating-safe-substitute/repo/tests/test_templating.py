import pytest

from templating import Template


def test_safe_substitute_keeps_missing_placeholders():
    t = Template("$who likes $what")
    assert t.safe_substitute(who="tim") == "tim likes $what"
    assert Template("${a}-${b}").safe_substitute(a=1) == "1-${b}"


def test_substitute_still_raises_for_missing():
    with pytest.raises(KeyError):
        Template("$who likes $what").substitute(who="tim")


def test_escapes():
    assert Template("$$5 for $x").substitute(x="y") == "$5 for y"
