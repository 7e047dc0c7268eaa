"""A sweep's points: the grid of its axes in file order (the last axis fastest), less those
its `where` refuses; and each point resolved into the hardware, workload and run options it
runs with."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

from accelsim.errors import AccelsimError
from accelsim.hw import Hardware, hw_from_dict
from accelsim.options import RunOptions
from accelsim.sweep.expr import Value
from accelsim.sweep.spec import Sweep, edited, is_option
from accelsim.workload import Workload


@dataclass(frozen=True)
class Point:
    """One point: each varied key path or run option and its value, in the sweep's axis order."""

    params: tuple[tuple[str, Value], ...]

    def as_dict(self) -> dict[str, Value]:
        return dict(self.params)

    def __str__(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.params)


def accepts(sweep: Sweep, point: Point) -> bool:
    """Whether the sweep's `where` keeps `point` (True without one); an error evaluating it is
    a ConfigError (LimitError past a bound) naming the `where` line and the point."""
    if sweep.where is None:
        return True
    env = {**(sweep.constants or {}), **point.as_dict()}
    try:
        return sweep.where.evaluate(env)
    except AccelsimError as exc:
        raise type(exc)(f"{sweep.where_at}: where: {exc} (at {point})") from None


def expand(sweep: Sweep) -> list[Point]:
    """The grid's points in file order (itertools.product of the axes as written, the last
    fastest) that `where` keeps; a LimitError past MAX_SWEEP_POINTS (`Sweep.check_grid`)."""
    sweep.check_grid()
    names = [axis.name for axis in sweep.axes]
    grid = (Point(tuple(zip(names, values, strict=True)))
            for values in itertools.product(*(axis.values for axis in sweep.axes)))
    return [point for point in grid if accepts(sweep, point)]


def resolve(sweep: Sweep, point: Point) -> tuple[Hardware, Workload, RunOptions]:
    """The hardware (the base config with the point's key paths set, validated: a value it
    refuses is a ConfigError naming the key path and the point), the workload (read once, with
    the sweep) and the run options (the base ones with the point's set) of `point`."""
    hw_edits = {name: value for name, value in point.params if not is_option(name)}
    hw = sweep.hw
    if hw_edits:
        hw = hw_from_dict(edited(sweep.hw_data, hw_edits), source=f"{sweep.source}: point {point}")
    options = sweep.options
    changes: dict[str, Any] = {name: value for name, value in point.params
                               if is_option(name) and "." not in name}
    parts = {name.partition(".")[2]: value for name, value in point.params if name.startswith("parts.")}
    if parts:
        changes["parts"] = {**options.parts, **parts}
    if changes:
        options = dataclasses.replace(options, **changes)
    return hw, sweep.workload, options
