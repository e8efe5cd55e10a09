"""The README's snippet and commands stay true."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_snippet_runs_and_prints_what_it_says(capsys):
    (snippet,) = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "PhantomEnv(" in b]
    exec(compile(snippet, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "{'caller': array([6.], dtype=float32)} {'caller': 6.0}" in printed


def test_readme_has_exactly_the_two_ci_commands():
    assert README.count("<!-- ci:main -->") == 1 and README.count("<!-- ci:test -->") == 1
    main = README.split("<!-- ci:main -->")[1].split("```bash\n")[1].split("```")[0]
    assert "phantomzoo bench supply_chain_v0" in main and "constraints.txt" in main
