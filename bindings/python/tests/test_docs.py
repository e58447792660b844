"""The ten-line example of README.md and docs/python.md runs as printed."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def first_python_block(path):
    text = path.read_text(encoding="utf-8")
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_the_ten_line_example_runs(tmp_path, monkeypatch, capsys):
    readme, doc = ROOT / "README.md", ROOT / "docs" / "python.md"
    if not (readme.is_file() and doc.is_file()):
        pytest.skip("the documents are not beside the tests")
    code = first_python_block(doc)
    assert code == first_python_block(readme)
    assert len(code.strip().splitlines()) <= 11
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/python.md", "exec"), {})
    assert capsys.readouterr().out.startswith("accuracy 0.99")
    assert (tmp_path / "digits.rks").is_file()
