"""The README's commands stay true: CI runs its test command verbatim."""

from tests.helpers import ROOT


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if "pip install -e '.[test]'" in line)
    assert (ROOT / ".ci" / "run").read_text().splitlines()[-1] == command
