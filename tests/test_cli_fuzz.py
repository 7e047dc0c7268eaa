"""Fuzzing the three YAML inputs (hardware config, workload trace, schedule file) through the
CLI, in-process: every generated bad document exits 2 with an `accelsim: error:` message
naming the file, and no traceback."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.cli import main
from tests.helpers import BLOCK, DEFAULT_HW, ROOT

SCHEDULE = ROOT / "tests" / "data" / "schedules" / "valid_pipelined.yaml"
SMALL_BLOCK = ROOT / "tests" / "data" / "schedules" / "block.yaml"
VALID = {"hw": DEFAULT_HW.read_text(), "workload": BLOCK.read_text(), "schedule": SCHEDULE.read_text()}

# a value no key of the three files accepts: negative, not finite, a collection where a scalar
# goes, nesting past the reader's limit, an alias bomb, or a scalar no tag reads
BAD_VALUES = st.one_of(
    st.sampled_from(["-1", "-0.5", str(-10**30), "1.0e+999", "-.inf", ".nan", "[[1], {zz: 2}]",
                     "{zz_unknown: 1}", "[" * 150 + "]" * 150, "{a: " * 120 + "1" + "}" * 120,
                     "1" + "0" * 5000, "2001-13-45", "!!int x", "*undefined", "&a [*a]"]),
    st.integers(max_value=-1).map(str),
    st.just("&l0 [" + ", ".join(["lol"] * 9) + "]"),         # an anchor, then aliases below
)
# YAML punctuation and a few letters, but no "n" or "p": no document of it holds the required
# `name` key (hardware, workload) or `ops` (schedule), so none is valid
NOISE = st.text(alphabet="[]{}:,-&*!|>'\"#?% \n\t@`abcdxyz0123456789.", max_size=300)
SCALAR = re.compile(r"(?P<key>\w+): (?P<value>[^,{}\[\]\n#]+)")


def _spots(text: str) -> list[tuple[int, int]]:
    """[start, end) of every scalar value of `text` (a `key: value` outside a comment), but
    quoted text (a `source`, free text: whatever replaces its start is still text)."""
    return [m.span("value") for m in SCALAR.finditer(text)
            if "#" not in text[text.rfind("\n", 0, m.start()) + 1:m.start()]
            and not m.group("value").startswith('"')]


SPOTS = {which: _spots(text) for which, text in VALID.items()}


def cli(capsys, tmp_path, which: str, text: str) -> tuple[int, str, str]:
    """Run the CLI with the `which` file replaced by `text`: (exit code, stdout, stderr)."""
    path = tmp_path / f"{which}.yaml"
    path.write_text(text)
    if which == "schedule":
        argv = ["validate", str(DEFAULT_HW), str(SMALL_BLOCK), str(path)]
    else:
        hw, workload = (path, BLOCK) if which == "hw" else (DEFAULT_HW, path)
        argv = ["schedule", str(hw), str(workload), "-o", str(tmp_path / "out.yaml")]
    code = main(argv)                        # an exception other than a clean exit fails the test
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code: int, out: str, err: str, path: str) -> None:
    assert code == 2, err
    assert err.startswith("accelsim: error: ") and "Traceback" not in err
    assert path in err
    assert out == ""


FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(which=st.sampled_from(sorted(VALID)), text=NOISE)
def test_noise_is_refused(capsys, tmp_path, which, text):
    assert_refused(*cli(capsys, tmp_path, which, text), str(tmp_path / which))


@FUZZ
@given(which=st.sampled_from(sorted(VALID)), data=st.data(), value=BAD_VALUES)
def test_a_bad_value_anywhere_is_refused(capsys, tmp_path, which, data, value):
    text = VALID[which]
    start, end = data.draw(st.sampled_from(SPOTS[which]), label="replaced")
    text = text[:start] + value + text[end:]
    if value.startswith("&l0"):             # the anchor replaced a value; the bomb's levels follow
        levels = data.draw(st.integers(1, 8), label="levels")
        text += "".join(f"zz{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, levels + 1))
    assert_refused(*cli(capsys, tmp_path, which, text), str(tmp_path / which))


@settings(FUZZ, max_examples=15)
@given(which=st.sampled_from(sorted(VALID)), depth=st.integers(101, 3000), flow=st.booleans())
def test_deep_documents_are_refused(capsys, tmp_path, which, depth, flow):
    text = ("[" * depth + "]" * depth) if flow else "".join(f"{' ' * i}k{i}:\n" for i in range(depth)) + "x"
    assert_refused(*cli(capsys, tmp_path, which, text), str(tmp_path / which))
