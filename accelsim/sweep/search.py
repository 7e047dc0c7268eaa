"""Searches over a sweep's axes instead of the whole grid: `random_points` (distinct points
drawn from the product without building it) and `optuna_search` (multi-objective, every
objective minimised; optuna is the optional extra `accelsim[optuna]`). Both are deterministic
for a seed and know nothing of the runner: they take the axes and give parameter dicts."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from accelsim.errors import ConfigError

Axes = Mapping[str, Sequence[Any]]
Params = dict[str, Any]
Accept = Callable[[Params], bool]
TRIES_PER_POINT = 100
"""Draws allowed per point asked for (plus MIN_TRIES) before a filtered search gives up."""
MIN_TRIES = 1000


def space_size(axes: Axes) -> int:
    """Points in the product of the axes (1 for no axes)."""
    return math.prod(len(values) for values in axes.values())


def decode(axes: Axes, index: int) -> Params:
    """The point at `index` of the product, in itertools.product's order (the last axis
    varies fastest): a mixed-radix number with one digit per axis."""
    params: Params = {}
    for key, values in reversed(list(axes.items())):
        index, digit = divmod(index, len(values))
        params[key] = values[digit]
    return {key: params[key] for key in axes}


def _check_axes(axes: Axes) -> None:
    for key, values in axes.items():
        if not len(values):
            raise ValueError(f"axis {key!r} has no values")


def _distinct_indices(rng: random.Random, size: int, count: int) -> Iterator[int]:
    """Up to `count` distinct indices below `size`, in random order, without a list of `size`."""
    count = min(count, size)
    if size <= sys.maxsize:
        yield from rng.sample(range(size), count)
        return
    seen: set[int] = set()
    while len(seen) < count:            # the space is astronomically larger than count
        index = rng.randrange(size)
        if index not in seen:
            seen.add(index)
            yield index


def random_points(axes: Axes, n: int, seed: int, accept: Accept | None = None,
                  max_tries: int | None = None) -> list[Params]:
    """`n` distinct points of the product of `axes` (key path -> values), drawn at random
    (the same for the same seed), all of them (in random order) when the space has no more;
    with `accept`, only points it accepts, giving up after `max_tries` draws (default
    TRIES_PER_POINT x n + MIN_TRIES), so fewer may come back."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    _check_axes(axes)
    rng = random.Random(seed)
    size = space_size(axes)
    if accept is None:
        return [decode(axes, i) for i in _distinct_indices(rng, size, n)]
    tries = TRIES_PER_POINT * n + MIN_TRIES if max_tries is None else max_tries
    points: list[Params] = []
    for index in _distinct_indices(rng, size, tries):
        if len(points) == n:
            break
        params = decode(axes, index)
        if accept(params):
            points.append(params)
    return points


def optuna_module():
    """optuna, or a ConfigError naming the extra that installs it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("--search optuna needs optuna, which is not installed: "
                          "pip install 'accelsim[optuna]'") from None
    return optuna


def optuna_search(axes: Axes, trials: int, objectives: Sequence[str],
                  evaluate_batch: Callable[[list[Params]], Sequence[Mapping[str, Any] | None]],
                  seed: int, batch: int = 1, accept: Accept | None = None) -> list[Params]:
    """Search the axes for `trials` trials minimising every objective: optuna's NSGA-II
    (TPE for one objective) seeded with `seed`, one categorical distribution per axis. Asks
    `batch` trials at a time and evaluates them together with `evaluate_batch(params list)
    -> metrics per point` (None for a point that failed, told as FAIL, as is one without an
    objective); a point asked again is told its first metrics without a second evaluation;
    one `accept` refuses is told FAIL unevaluated and does not count (at most
    TRIES_PER_POINT x trials + MIN_TRIES asks). Returns every point evaluated, in order."""
    if trials < 0 or batch < 1:
        raise ValueError(f"trials must be >= 0 and batch >= 1, got {trials} and {batch}")
    if not objectives:
        raise ValueError("optuna_search needs at least one objective")
    _check_axes(axes)
    optuna = optuna_module()
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.TPESampler(seed=seed) if len(objectives) == 1
               else optuna.samplers.NSGAIISampler(seed=seed))
    study = optuna.create_study(directions=["minimize"] * len(objectives), sampler=sampler)
    distributions = {key: CategoricalDistribution(list(values)) for key, values in axes.items()}
    seen: dict[tuple, list[float] | None] = {}      # params -> objective values (None: failed)
    evaluated: list[Params] = []
    told = asks = 0
    limit = TRIES_PER_POINT * trials + MIN_TRIES
    while told < trials and asks < limit:
        asked: list[tuple[Any, Params]] = []
        while len(asked) < min(batch, trials - told) and asks < limit:
            trial = study.ask(distributions)
            asks += 1
            params = {key: trial.params[key] for key in axes}
            if accept is not None and not accept(params):
                study.tell(trial, state=TrialState.FAIL)
                continue
            asked.append((trial, params))
        fresh = [p for _, p in asked if _key(p) not in seen]
        unique = list({_key(p): p for p in fresh}.values())
        if unique:
            results = list(evaluate_batch(unique))
            if len(results) != len(unique):
                raise ValueError(f"evaluate_batch gave {len(results)} results for {len(unique)} points")
            for params, metrics in zip(unique, results, strict=True):
                seen[_key(params)] = _values(metrics, objectives)
                evaluated.append(params)
        for trial, params in asked:
            values = seen[_key(params)]
            if values is None:
                study.tell(trial, state=TrialState.FAIL)
            else:
                study.tell(trial, values if len(values) > 1 else values[0])
            told += 1
    return evaluated


def _key(params: Params) -> tuple:
    return tuple((k, type(v).__name__, v) for k, v in params.items())


def _values(metrics: Mapping[str, Any] | None, objectives: Sequence[str]) -> list[float] | None:
    if metrics is None:
        return None
    values = [metrics.get(name) for name in objectives]
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return None
    return [float(v) for v in values if v is not None]
