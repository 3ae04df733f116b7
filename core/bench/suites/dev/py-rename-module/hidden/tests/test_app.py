import pathlib

from app.main import page_url
from app.report import report_name
from app.text_tools import slug


def test_module_renamed():
    assert not pathlib.Path("app/helpers.py").exists()
    assert slug("Hello World!") == "hello-world"


def test_callers():
    assert page_url("My Page") == "/pages/my-page"
    assert report_name("Q3 Sales", 2024) == "q3-sales-2024.txt"


def test_no_old_imports():
    for p in pathlib.Path("app").glob("*.py"):
        assert "helpers" not in p.read_text(), p
