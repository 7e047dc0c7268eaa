"""Sparsity resolved for one run: which weights are N:M sparse, how dense each conv's input
is, and what the machine's array skips of each conv (the `skip` the scheduler sees).

`sparse_workload` is the one place this is decided; `network_schedule` calls it, so every
pass (tiling, timing, the search's bound, energy) sees the same workload:

- weights: a conv or gemm is N:M sparse as its trace says (`weight_sparsity: "2:4"`), or
  every one is (`--weight-sparsity N:M`, which wins). Its values are made N:M sparse in
  functional runs whatever the machine (`functional.random_inputs`). The array skips the
  pattern when the hardware's `sparsity.weights` lists it and the filter has at least M elements
  (K >= M); then the weights are stored compressed (`Widths.sparse`). Otherwise the conv
  runs dense, weights stored dense, and a note says why.
- activations: a tensor's density (the fraction of nonzero elements) is as the trace
  declares it, or set for every conv's and gemm's input (`--activation-density D`), or
  measured from a reference run on the seeded random data or on `--input-data FILE.npz`
  (`--activation-density measured`). A machine with `sparsity.zero_skipping` skips
  the zeros of a conv's input; activations stay dense in memory.

The cycle model of the skipping is `cost.skipped` (docs/model.md, "Sparsity").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from accelsim.cost import Skip
from accelsim.errors import ConfigError
from accelsim.hw import Hardware
from accelsim.pattern import Pattern, parse_pattern
from accelsim.workload import Conv, Gemm, Workload

MEASURED = "measured"
"""`--activation-density measured`: each conv input's density from a reference run."""


def filter_elements(workload: Workload, op: Conv | Gemm) -> int:
    """K, the elements of one filter of `op`'s weights (all but the first axis)."""
    return math.prod(workload.tensors[op.weight].shape[1:])


def stored_pattern(op: object) -> Pattern | None:
    """The N:M pattern the array skips (and stores compressed) for op, None when dense."""
    skip = getattr(op, "skip", None)
    return Pattern(skip.n, skip.m) if skip is not None and skip.n < skip.m else None


def sparse_weights(workload: Workload,
                   ops: Iterable[object] | None = None) -> tuple[tuple[str, int, int, int], ...]:
    """The weights of `ops` (default: the workload's) stored compressed, as `Widths.sparse`
    lists them: (tensor, N, M, K)."""
    return tuple((op.weight, p.n, p.m, filter_elements(workload, op))
                 for op in (workload.ops if ops is None else ops)
                 if isinstance(op, Conv | Gemm) and (p := stored_pattern(op)) is not None)


def option_pattern(text: str) -> Pattern:
    """The pattern `--weight-sparsity` gives; ConfigError saying what was expected."""
    try:
        return parse_pattern(text)
    except ValueError as exc:
        raise ConfigError(f"--weight-sparsity: {exc}") from None


def option_density(text: str) -> float | None:
    """The density `--activation-density` gives (None: measured); ConfigError when neither."""
    if text == MEASURED:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise ConfigError(f"--activation-density: expected a density 0 < D <= 1 (the fraction of "
                          f"nonzero activations) or {MEASURED!r}, got {text!r}")
    return value


def sparse_workload(workload: Workload, hw: Hardware, weight_sparsity: str | None = None,
                    activation_density: str | None = None, input_data: str | None = None,
                    seed: int = 0, dtype: str | None = None) -> tuple[Workload, tuple[str, ...]]:
    """`workload` with the run's sparsity applied and each conv's and gemm's `skip` set for
    `hw`, and the notes a reader needs (patterns or densities the array does not skip).
    `weight_sparsity` "N:M" for every conv and gemm; `activation_density` "D" (0 < D <= 1)
    or "measured" (from a reference run in `dtype` on `input_data`, an .npz of the graph
    inputs, or on seeded random inputs, `seed`). The workload itself when nothing is sparse."""
    every = option_pattern(weight_sparsity) if weight_sparsity is not None else None
    set_density = option_density(activation_density) if activation_density is not None else 1.0
    if input_data is not None and activation_density != MEASURED:
        raise ConfigError("--input-data: only --activation-density measured reads input data")
    weighted = [op for op in workload.ops if isinstance(op, Conv | Gemm)]
    if every is not None:
        weighted = [replace(op, weight_sparsity=str(every)) for op in weighted]
    ops = {op.name: op for op in weighted}
    tensors = dict(workload.tensors)
    measured_note: list[str] = []
    if activation_density is not None:
        inputs = {op.input for op in weighted}
        if set_density is None:
            valued = replace(workload, ops=tuple(ops.get(o.name, o) for o in workload.ops))
            run_dtype = dtype or workload.dtype or hw.default_dtype
            measured = measure_densities(valued, run_dtype, seed, input_data)
            found = {t: measured[t] for t in dict.fromkeys(op.input for op in weighted)}
            source = input_data if input_data is not None else f"seeded random data, seed {seed}"
            measured_note = [f"activation densities measured on {source} ({run_dtype} reference run), "
                             f"{len(found)} tensors convs and gemms read, {min(found.values()):.3f} to "
                             f"{max(found.values()):.3f}: "
                             + ", ".join(f"{t} {d:.3f}" for t, d in found.items())]
        else:
            found = dict.fromkeys(inputs, set_density)
        tensors.update({t: replace(tensors[t], density=d) for t, d in found.items()})
    notes: list[str] = [*measured_note]
    sa = hw.sparsity
    skipped_patterns = {parse_pattern(p) for p in sa.weights}
    for name, op in list(ops.items()):
        pattern = parse_pattern(op.weight_sparsity) if op.weight_sparsity is not None else None
        k = filter_elements(workload, op)
        kept = Pattern(1, 1)
        if pattern is not None:
            if pattern not in skipped_patterns:
                notes.append(f"{name}: weights {pattern} sparse, run dense: the array skips "
                             f"{', '.join(sa.weights) or 'no N:M pattern'} (sparsity.weights)")
            elif k < pattern.m:
                notes.append(f"{name}: weights {pattern} sparse, run dense: a filter of K = {k} elements "
                             f"is shorter than a group of M = {pattern.m}")
            else:
                kept = pattern
        density = tensors[op.input].density
        if density is not None and density < 1 and not sa.zero_skipping:
            notes.append(f"{name}: input {op.input} {density:.4g} dense, not skipped: the array does not "
                         "skip zero activations (sparsity.zero_skipping)")
            density = None
        skip = Skip(kept.n, kept.m, density if density is not None else 1.0)
        ops[name] = replace(op, skip=None if skip == Skip() else skip)
    if tensors == workload.tensors and all(op.skip is None and op.weight_sparsity is None
                                           for op in ops.values()):
        return workload, tuple(notes)
    resolved = replace(workload, tensors=tensors, ops=tuple(ops.get(o.name, o) for o in workload.ops))
    return resolved, tuple(notes)


def measure_densities(workload: Workload, dtype: str, seed: int = 0,
                      input_data: str | None = None) -> dict[str, float]:
    """The density (nonzero elements / elements) of every activation tensor in a reference run
    (`functional.reference`) in `dtype` on the seeded random data (`functional.random_inputs`:
    weights N:M sparse as declared), the graph inputs replaced by `input_data`'s arrays when
    given (`read_input_data`)."""
    from accelsim.errors import LimitError
    from accelsim.functional import random_inputs, reference
    from accelsim.limits import MAX_FUNCTIONAL_BYTES, functional_bytes

    need = functional_bytes(workload, dtype)
    if need > MAX_FUNCTIONAL_BYTES:      # --max-functional-bytes is the --functional check's, not this
        raise LimitError(f"workload {workload.name!r}: --activation-density measured: the {dtype} reference "
                         f"run would need about {need:,} bytes of memory, "
                         f"{need / MAX_FUNCTIONAL_BYTES:,.1f}x the limit of {MAX_FUNCTIONAL_BYTES:,} "
                         "(limits.MAX_FUNCTIONAL_BYTES); declare the "
                         "densities instead (--activation-density D, or a tensor's density in the trace)")
    inputs = random_inputs(workload, dtype, seed)
    if input_data is not None:
        inputs.update(read_input_data(input_data, workload, inputs))
    values = reference(workload, inputs)
    weights = {op.weight for op in workload.ops if hasattr(op, "weight")}
    return {t: count_density(values[t]) for t in workload.tensors if t not in weights and t in values}


def count_density(array) -> float:
    """The fraction of `array`'s elements that are nonzero."""
    import numpy as np

    return int(np.count_nonzero(array)) / array.size if array.size else 1.0


def _stored_shape(archive, path: str, name: str) -> tuple[int, ...]:
    """The shape the .npy header of `archive`'s array `name` declares, read without its data
    (so a small file claiming a huge array is refused before anything is allocated)."""
    from numpy.lib import format as npy

    member = f"{name}.npy"
    if member not in archive.zip.namelist():
        raise ConfigError(f"{path}: --input-data: {name} is not a .npy array in the archive")
    try:
        with archive.zip.open(member) as fp:
            version = npy.read_magic(fp)
            read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, _, _ = read(fp)
    except (ValueError, OSError, EOFError) as exc:
        raise ConfigError(f"{path}: --input-data: array {name}: not a .npy header numpy reads: "
                          f"{exc}") from None
    return tuple(shape)


def read_input_data(path: str, workload: Workload, like: dict) -> dict:
    """The graph inputs in the .npz file `path`: one array per graph input tensor, named by it,
    of its shape, its values exact in the run's datatype (`like`: the random inputs, for
    their numpy types); ConfigError naming the file and array otherwise."""
    import numpy as np

    from accelsim.functional import workload_inputs

    wanted = workload_inputs(workload)
    if not Path(path).is_file():
        raise ConfigError(f"{path}: --input-data: no such file (an .npz of the graph inputs "
                          f"{', '.join(sorted(wanted))})")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: --input-data: not an .npz archive numpy reads: {exc}") from None
    found: dict = {}
    with archive:
        names = set(archive.files)
        if names != wanted:
            missing, extra = sorted(wanted - names), sorted(names - wanted)
            raise ConfigError(f"{path}: --input-data: expected one array per graph input "
                              f"({', '.join(sorted(wanted))})"
                              + (f"; missing {', '.join(missing)}" if missing else "")
                              + (f"; not a graph input: {', '.join(extra)}" if extra else ""))
        for name in sorted(wanted):
            shape = workload.tensors[name].shape
            found_shape = _stored_shape(archive, path, name)      # before any data is read
            if tuple(found_shape) != tuple(shape):
                raise ConfigError(f"{path}: --input-data: array {name} is {list(found_shape)}, the graph "
                                  f"input is {list(shape)}")
            try:
                array = archive[name]
            except (ValueError, OSError, EOFError) as exc:
                raise ConfigError(f"{path}: --input-data: array {name}: {exc}") from None
            if array.dtype.kind not in "iuf" or (array.dtype.kind == "f" and not np.isfinite(array).all()):
                raise ConfigError(f"{path}: --input-data: array {name} must hold finite numbers, "
                                  f"got {array.dtype}")
            target = like[name].dtype
            cast = array.astype(target)
            if not np.array_equal(cast.astype(array.dtype), array):
                raise ConfigError(f"{path}: --input-data: array {name} has values {target} cannot hold "
                                  "exactly")
            found[name] = cast
    return found
