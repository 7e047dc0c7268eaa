"""What ships (hwconfigs/, traces/ as package data) and the one name-or-path resolver."""

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accelsim import ConfigError, load_hw, load_workload, shipped
from accelsim.cli import main
from accelsim.importers.scalesim import read_topology
from tests.helpers import DEFAULT_HW, ROOT

try:
    import tomllib
except ModuleNotFoundError:          # Python 3.10
    tomllib = pytest.importorskip("tomli")

PACKAGE = ROOT / "accelsim"


def package_data() -> list[str]:
    """The package-data globs pyproject.toml declares for accelsim.shipped."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        setuptools = tomllib.load(f)["tool"]["setuptools"]
    assert "accelsim*" in setuptools["packages"]["find"]["include"]
    return setuptools["package-data"]["accelsim.shipped"]


def test_the_shipped_directories_are_the_top_level_ones():
    assert (PACKAGE / "shipped" / "hwconfigs").resolve() == ROOT / "hwconfigs"
    assert (PACKAGE / "shipped" / "traces").resolve() == ROOT / "traces"
    assert shipped.names("hw") == ["default", "ideal_memory"]
    assert shipped.names("workload") == ["mobilenetv2", "resnet18", "resnet50", "resnet50_convadd"]
    assert shipped.names("topology") == ["resnet50", "resnet50_fc", "resnet50_v1", "shapes"]


def test_package_data_declares_every_shipped_file():
    globs = package_data()
    patterns = ("hwconfigs/*.yaml", "traces/*.yaml", "traces/scalesim/*.csv")
    files = [p.relative_to(ROOT).as_posix() for pattern in patterns for p in ROOT.glob(pattern)]
    assert len(files) == 10
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_bare_names_and_top_relative_paths_resolve_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    default = PACKAGE / "shipped" / "hwconfigs" / "default.yaml"
    for name in ("default", "default.yaml", "default.YAML", "hwconfigs/default.yaml", "./hwconfigs/default"):
        assert shipped.resolve(name, "hw") == default, name
    assert shipped.resolve("traces/scalesim/resnet50_fc.csv", "topology").read_text() == (
        "Layer, M, N, K,\nfc, 1, 1000, 2048,\n")
    assert load_hw("default") == load_hw(DEFAULT_HW)
    assert load_workload("resnet50").macs == 4_089_184_256      # as tests/test_traces.py: published
    assert [layer.name for layer in read_topology("resnet50_fc")] == ["fc"]


def test_an_existing_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("default").write_text(DEFAULT_HW.read_text().replace("  rows: 32", "  rows: 8"))
    assert load_hw("default").systolic_array.rows == 8
    assert load_hw(DEFAULT_HW).systolic_array.rows == 32


def test_an_unknown_name_lists_what_ships(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^resnet51: no such file, and no shipped workload trace of that "
                                          r"name \(shipped: mobilenetv2, resnet18, resnet50, "
                                          r"resnet50_convadd; `accelsim list` describes them\)$"):
        load_workload("resnet51")
    with pytest.raises(ConfigError, match=r"shipped: default, ideal_memory;"):
        shipped.resolve("hwconfigs", "hw")          # not a file here, and no config of that name
    # a path with a directory that does not exist is left to its reader
    assert shipped.resolve("configs/default.yaml", "hw") == Path("configs/default.yaml")
    with pytest.raises(ConfigError, match=r"^configs/default.yaml: cannot read: No such file"):
        load_hw("configs/default.yaml")


def test_cli_takes_names_and_an_unknown_one_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "default", "resnet50_convadd", "--schedule", "pipelined"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.splitlines()[3].split()[:4] == ["pipelined", "auto", "4", "127,754"]  # README
    assert main(["scalesim", "resnet50_fc", "--hw", "ideal_memory", "--rows", "32", "--cols", "32"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("resnet50_fc on ideal_memory: 32x32 OS array")
    assert main(["run", "default", "resnet51"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("accelsim: error: resnet51: no such file, and no shipped workload trace")


def test_description_is_the_first_sentence_of_the_leading_comment():
    assert shipped.description(ROOT / "hwconfigs" / "default.yaml") == (
        "accelsim default machine: a small int8 inference ASIC at 1 GHz.")
    assert shipped.description(ROOT / "traces" / "resnet50.yaml") == (  # "resnet50: " dropped
        "torchvision ResNet at batch 1, 224x224 input, BatchNorm folded, ReLU fused.")
    assert shipped.description(ROOT / "traces" / "scalesim" / "resnet50.csv") == ""


def test_list_shows_every_shipped_file_with_its_description(capsys):
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == "" and lines[0].startswith("hardware configs (accelsim run NAME WORKLOAD")
    assert lines[1] == "  default       accelsim default machine: a small int8 inference ASIC at 1 GHz."
    assert [line.split()[0] for line in lines if line.startswith("  ")] == [
        "default", "ideal_memory", "mobilenetv2", "resnet18", "resnet50", "resnet50_convadd",
        "resnet50", "resnet50_fc", "resnet50_v1", "shapes"]


def test_an_installed_layout_runs_from_any_directory(tmp_path):
    """The wheel's layout, without building one: the package's .py files and the files its
    package-data globs match (copies), imported from elsewhere, run from a directory with no
    hwconfigs/ or traces/ (the scalesim default --hw was once looked up beside the package)."""
    site = tmp_path / "site"
    for source in PACKAGE.rglob("*.py"):
        target = site / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for pattern in package_data():
        for source in (PACKAGE / "shipped").glob(pattern):
            target = site / "accelsim" / "shipped" / pattern.rsplit("/", 1)[0] / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    work = tmp_path / "work"
    work.mkdir()
    script = ("import accelsim, sys; from accelsim.cli import main; print(accelsim.__file__); sys.exit("
              "main(['scalesim', 'resnet50_fc', '--rows', '32', '--cols', '32', '--dataflow', 'os']) "
              "or main(['run', 'default', 'resnet50_convadd', '--schedule', 'fused']))")
    done = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(site)}, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(site / "accelsim" / "__init__.py")
    assert lines[1].startswith("resnet50_fc on default: 32x32 OS array")
    assert any(line.split()[:4] == ["fused", "auto", "1", "159,410"] for line in lines)      # README
