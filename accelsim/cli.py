"""Command line: parses, calls the public API, prints, exits (2 on bad input).

What only some commands use (matplotlib, pyvcd, numpy's functional check, ONNX, the
SCALE-Sim importer) is imported by those commands, so `accelsim run` starts fast."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields, replace
from pathlib import Path

from accelsim import atomic, shipped
from accelsim.engine.machine import run_schedule
from accelsim.errors import AccelsimError, ConfigError, ScheduleError
from accelsim.hw import Hardware, load_hw
from accelsim.limits import MAX_FUNCTIONAL_BYTES, check_functional
from accelsim.options import DTYPES, PLOT_KINDS, TRACE_FORMATS, RunOptions
from accelsim.report import describe_hw, layers_table, pipeline_text, results_table, speedups
from accelsim.result import Result
from accelsim.schedule import Schedule
from accelsim.simulation import compare_schedules, make_schedule, simulate
from accelsim.sparsity import sparse_workload
from accelsim.workload import Workload, load_workload

DEFAULT_HW = "default"
"""`scalesim --hw` without a value: the shipped hwconfigs/default.yaml."""


def _layer_parts(text: str) -> tuple[str, int]:
    """argparse type: LAYER=N."""
    layer, _, count = text.rpartition("=")
    if not layer:
        raise argparse.ArgumentTypeError(f"expected LAYER=N, got {text!r}")
    return layer, _positive(count)


def _non_negative(text: str) -> int:
    """argparse type: a whole number >= 0."""
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    """argparse type: a whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {text!r}")
    return value


def _workload_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hw", metavar="HW.yaml",
                        help="hardware config: a file, or a shipped config's name "
                             "(default; see accelsim list)")
    parser.add_argument("workload", metavar="WORKLOAD.yaml",
                        help="workload trace: a file or a shipped trace's name (resnet50; see "
                             "accelsim list), or an ONNX model (.onnx)")
    parser.add_argument("--skip-unsupported", action="store_true",
                        help="ONNX: drop one-input nodes accelsim does not model (listed on stderr and in "
                             "the result's notes) instead of failing; never one that combines tensors")


def _cycle_range(text: str) -> tuple[int, int]:
    """argparse type: START:END in cycles."""
    start, sep, end = text.partition(":")
    try:
        a, b = int(start), int(end)
    except ValueError:
        a = b = -1
    if not sep or a < 0 or b <= a:
        raise argparse.ArgumentTypeError(f"expected START:END cycles with 0 <= START < END, got {text!r}")
    return a, b


_PARSERS = {"splits": _positive, "parts": _layer_parts, "max_ops": _positive, "fuse_depth": _positive,
            "seed": _non_negative}
"""argparse types of the RunOptions fields that are not plain strings."""


def _run_options(parser: argparse.ArgumentParser, compare: bool = False, sync: bool = True,
                 schedule_file: bool = True) -> None:
    """A flag per RunOptions field, with its default, choices and help (a None default is
    the help's to explain). `compare`: without --schedule, compare all three schedules;
    `sync`: offer --sync; `schedule_file`: offer --schedule-file, a schedule file run instead."""
    for f in fields(RunOptions):
        if f.name == "sync" and not sync:
            continue
        kwargs = {key: f.metadata[key] for key in ("choices", "metavar") if key in f.metadata}
        kwargs["type"] = _PARSERS.get(f.name)
        help_ = f.metadata["help"]
        if f.name == "parts":
            kwargs.update(action="append", default=[])
        elif f.name == "search":
            kwargs.update(nargs="?", const="cycles", default=None)
        elif f.type == "bool":
            kwargs = {"action": "store_true"}
        elif f.name == "schedule" and compare:
            kwargs["default"], help_ = None, "run one schedule (default: compare all three)"
        else:
            kwargs["default"] = f.default
            help_ += f" (default {f.default})" if f.default is not None else ""
        parser.add_argument(f"--{f.name.replace('_', '-')}", help=help_, **kwargs)
    if schedule_file:
        parser.add_argument("--schedule-file", metavar="SCHED.yaml",
                            help="run this schedule file instead (checked first; see "
                                 "docs/schedule-format.md)")


def _options(args: argparse.Namespace) -> RunOptions:
    """The RunOptions on the command line (`run` without --schedule: pipelined)."""
    given = {f.name: getattr(args, f.name) for f in fields(RunOptions) if hasattr(args, f.name)}
    return RunOptions(**{**given, "schedule": args.schedule or RunOptions.schedule})


def _functional_args(parser: argparse.ArgumentParser, dtype: bool = False) -> None:
    """--functional and its data; with `dtype`, --dtype too (a command without run options)."""
    parser.add_argument("--functional", action="store_true",
                        help="also execute the schedule on seeded random tensors with numpy and compare "
                             "every stored tensor with a whole-tensor reference, in the run's datatype: "
                             "int8 or int16 requantized per channel, bit-exact; fp16, bf16 or fp32 within "
                             "a stated tolerance")
    if dtype:
        parser.add_argument("--dtype", choices=DTYPES, default=None,
                            help="functional data (default: the schedule's dtype)")
    if parser.get_default("seed") is None:         # unless the run options offer it
        parser.add_argument("--seed", type=_non_negative, default=0, help="functional data seed (default 0)")
    parser.add_argument("--max-functional-bytes", type=_positive, default=MAX_FUNCTIONAL_BYTES, metavar="N",
                        help="refuse a functional check that would hold more than N bytes, estimated "
                             f"from the tensors before any is allocated (default {MAX_FUNCTIONAL_BYTES:,})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelsim", description="Simulate a deep-learning accelerator with a fused ConvAdd operator.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a workload on a hardware config",
                         description="Simulate WORKLOAD on HW. Without --schedule, compare "
                                     "the serial, fused and pipelined schedules.")
    _workload_args(run)
    _run_options(run, compare=True)
    run.add_argument("--json", action="store_true",
                     help="print one JSON object (the pipelined result when no --schedule)")
    run.add_argument("--layers", action="store_true",
                     help="also print the per-layer table of the schedule run (pipelined by default)")
    run.add_argument("--pipeline", action="store_true",
                     help="also print the schedule run as the design note draws it: a line per stage, "
                          "a rule per barrier")
    run.add_argument("--out", metavar="DIR",
                     help="write the report, result.json, the pictures (PNG and SVG) and the traces "
                          "(Perfetto JSON, VCD) into DIR")
    _functional_args(run)

    plot = sub.add_parser("plot", help="draw a picture of a run (PNG or SVG)",
                          description="Simulate WORKLOAD on HW and draw one picture: the pipeline diagram, "
                                      "utilization timelines, the roofline of the layers, or each layer's "
                                      "cycles split into compute, memory stall and barrier wait.")
    _workload_args(plot)
    _run_options(plot)
    plot.add_argument("--kind", choices=PLOT_KINDS, default="pipeline",
                      help="which picture (default pipeline)")
    plot.add_argument("-o", "--output", metavar="FILE", required=True, help="FILE.png or FILE.svg")
    plot.add_argument("--zoom", type=_cycle_range, metavar="START:END",
                      help="pipeline: show cycles START to END only")
    plot.add_argument("--layer", metavar="NAME", help="pipeline: show one layer only")
    plot.add_argument("--windows", type=_positive, default=200, metavar="N",
                      help="utilization: number of time windows (default 200; at most one per cycle "
                           "and one per pixel column, 1,800)")

    trace = sub.add_parser("trace", help="export a run as a Perfetto or VCD trace",
                           description="Simulate WORKLOAD on HW and write its trace: Chrome trace-event JSON "
                                       "(ui.perfetto.dev, chrome://tracing) or VCD (GTKWave, Surfer). "
                                       "Timestamps are clock cycles.")
    _workload_args(trace)
    _run_options(trace)
    trace.add_argument("--format", choices=TRACE_FORMATS, default="perfetto",
                       help="trace format (default perfetto)")
    trace.add_argument("-o", "--output", metavar="FILE", required=True, help="where to write the trace")

    sched = sub.add_parser("schedule", help="write the schedule the scheduler would run",
                           description="Write the schedule accelsim would run for WORKLOAD on HW as "
                                       "a YAML schedule file (docs/schedule-format.md).")
    _workload_args(sched)
    _run_options(sched, sync=False, schedule_file=False)
    sched.add_argument("-o", "--output", metavar="SCHED.yaml", help="write here (default: standard output)")

    val = sub.add_parser("validate", help="check a schedule file: static checks, optionally functional",
                         description="Check SCHED.yaml against WORKLOAD and HW: every static problem "
                                     "(read before write, overlapping writes, write after read, SRAM "
                                     "capacity, output and halo coverage, unknown names, dependency "
                                     "cycles) at once, with its line. Exit 0 when valid, 2 when not.")
    _workload_args(val)
    val.add_argument("schedule_file", metavar="SCHED.yaml", help="the schedule file")
    val.add_argument("--skip-static", action="store_true",
                     help="skip the static checks (read the file, then run --functional alone)")
    _functional_args(val, dtype=True)

    ss = sub.add_parser("scalesim", help="per-layer cycles of a SCALE-Sim topology",
                        description="Read a SCALE-Sim topology CSV (conv or GEMM form) and print, per "
                                    "layer, the compute cycles SCALE-Sim 3.0.0 reports and accelsim's "
                                    "own simulated cycles with memory.")
    ss.add_argument("topology", metavar="TOPOLOGY.csv",
                    help="SCALE-Sim topology: a file, or a shipped one's name (resnet50; see accelsim list)")
    ss.add_argument("--config", metavar="FILE.cfg", help="SCALE-Sim config: array, dataflow, SRAM sizes, "
                                                         "bandwidth (applied to --hw)")
    ss.add_argument("--hw", metavar="HW.yaml", default=str(DEFAULT_HW),
                    help="accelsim hardware for everything else: a file or a shipped config's name "
                         "(default: default, hwconfigs/default.yaml)")
    ss.add_argument("--rows", type=_positive, metavar="R", help="systolic array rows (overrides the config)")
    ss.add_argument("--cols", type=_positive, metavar="C", help="systolic array cols (overrides the config)")
    ss.add_argument("--dataflow", choices=("os", "ws", "is"), help="dataflow (overrides the config)")
    ss.add_argument("--json", action="store_true", help="print one JSON object")

    sweep = sub.add_parser("sweep", help="run a design-space sweep into a store (SQLite)",
                           description="Run every point of SWEEP.yaml's grid (docs/sweeps.md) and commit "
                                       "each to the store the moment it finishes. Run it again after a "
                                       "crash or Ctrl-C: points already in the store are skipped.")
    sweep.add_argument("sweep_file", metavar="SWEEP.yaml", help="the sweep file")
    sweep.add_argument("-o", "--output", metavar="RESULTS.db", required=True,
                       help="the store (SQLite; created when new, added to when not)")
    sweep.add_argument("--jobs", type=_positive, default=1, metavar="N",
                       help="worker processes (default 1: in this process); with --dask local, "
                            "the LocalCluster's workers")
    sweep.add_argument("--dask", metavar="local|ADDRESS",
                       help="compute on dask.distributed: `local` starts a LocalCluster of --jobs "
                            "workers, an address (tcp://host:8786) joins a running cluster "
                            "(the `sweep` extra: pip install 'accelsim[sweep]')")
    sweep.add_argument("--export", metavar="FILE", help="then write the store as a table, one row per "
                                                        "point: FILE.csv or FILE.parquet")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    sweep.add_argument("--search", choices=("random", "optuna"),
                       help="instead of the whole grid, --trials points of it: drawn at random, or "
                            "chosen by optuna's NSGA-II for --objectives (the `optuna` extra)")
    sweep.add_argument("--trials", type=_positive, metavar="N", help="points a search evaluates")
    sweep.add_argument("--objectives", default="total_cycles,energy_pj", metavar="M[,M...]",
                       help="metrics an optuna search minimises, comma-separated (default "
                            "total_cycles,energy_pj; any of the store's metrics)")
    sweep.add_argument("--seed", type=_non_negative, default=0, metavar="N",
                       help="a search's seed (default 0): the same seed, the same points")

    _pareto_parser(sub)
    _prune_parser(sub)
    sub.add_parser("list", help="list the hardware configs, traces and topologies that ship",
                   description="List the hardware configs, workload traces and SCALE-Sim topologies "
                               "that ship with accelsim, each with its description. Any command "
                               "takes their names in place of a file path.")
    return parser


def _pareto_parser(sub) -> None:
    from accelsim.sweep.metrics import METRICS

    pareto = sub.add_parser("pareto", help="print and plot the Pareto front of a sweep store",
                            description="Print the points of a sweep store (accelsim sweep -o) on the Pareto "
                                        "front of the chosen metrics, all minimised, in order of --x, and "
                                        "with -o draw it: every point, the dominated faded, each front point "
                                        "labelled with what differs from the one before it on the front.")
    pareto.add_argument("store", metavar="RESULTS.db", help="a sweep store (SQLite), read only")
    metrics = ", ".join(METRICS)
    pareto.add_argument("--x", default="total_cycles", choices=METRICS, metavar="METRIC",
                        help=f"x axis and first objective (default total_cycles; one of {metrics})")
    pareto.add_argument("--y", default="energy_pj", choices=METRICS, metavar="METRIC",
                        help="y axis and second objective (default energy_pj)")
    pareto.add_argument("--z", choices=METRICS, metavar="METRIC",
                        help="a third objective, drawn as the colour (e.g. area_mm2)")
    pareto.add_argument("-o", "--output", metavar="FRONT.png",
                        help="also draw the front to this PNG or SVG (written whole)")


def _ratio(text: str):
    """argparse type: a pruning ratio in [0, 1)."""
    from accelsim.prune import parse_ratio

    try:
        return parse_ratio(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--ratio: ")) from None


def _prune_parser(sub) -> None:
    prune = sub.add_parser("prune", help="remove the filters of smallest L1 norm; write the smaller workload",
                           description="Remove from each prunable conv the fraction --ratio of its filters "
                                       "with the smallest L1 norms, and the matching input channels of the "
                                       "convs and gemms that read them; write the smaller workload as a "
                                       "trace (docs/pruning.md). A conv whose output an add, concat, "
                                       "shuffle, LRN, softmax or grouped conv reads, or that is a graph "
                                       "output, keeps every filter.")
    prune.add_argument("workload", metavar="WORKLOAD",
                       help="workload trace (a file or a shipped trace's name: its weights are the seeded "
                            "random ones of --functional, so which filters go is arbitrary but "
                            "deterministic), or an ONNX model (.onnx: its own weights, BatchNorm folded, "
                            "so the real choice)")
    prune.add_argument("--ratio", type=_ratio, required=True, metavar="R",
                       help="fraction of each prunable conv's filters removed, in [0, 1): "
                            "floor(R * filters), the smallest L1 norms (a tie: the lower index first)")
    prune.add_argument("-o", "--output", metavar="SMALLER.yaml", required=True,
                       help="where to write the pruned workload (a trace accelsim run reads)")
    prune.add_argument("--seed", type=_non_negative, default=0, metavar="N",
                       help="a trace: the seed of its random weights, as --functional draws them (default 0)")
    prune.add_argument("--skip-unsupported", action="store_true",
                       help="ONNX: drop one-input nodes accelsim does not model, as accelsim run does")
    prune.add_argument("--max-functional-bytes", type=_positive, default=MAX_FUNCTIONAL_BYTES, metavar="N",
                       help="a trace: refuse to draw random weights for a workload whose functional data "
                            f"would hold more than N bytes (default {MAX_FUNCTIONAL_BYTES:,})")


def _prune(args: argparse.Namespace) -> None:
    from accelsim.prune import header, onnx_norms, prune, random_norms, summary
    from accelsim.workload_yaml import write_workload

    if Path(args.workload).suffix.lower() == ".onnx":
        from accelsim.importers.onnx import import_onnx

        found = import_onnx(args.workload, args.skip_unsupported)
        workload, norms = found.workload, onnx_norms(found)
        weights = "the model's weights (initializers, BatchNorm and per-channel Mul/Div folded in)"
    else:
        workload = load_workload(args.workload)
        dtype = workload.dtype or "int8"
        check_functional(workload, dtype, args.max_functional_bytes)
        norms = random_norms(workload, args.seed, dtype)
        weights = (f"seeded random {dtype} weights (seed {args.seed}, accelsim.functional.random_inputs, "
                   "as --functional draws them): which filters go is arbitrary but deterministic")
    result = prune(workload, args.ratio, norms)
    write_workload(args.output, result.pruned, header(result, args.workload, weights))
    if not result.convs_pruned:
        why = "no conv can lose filters" if not result.layers else \
            f"ratio {float(result.ratio):g} removes no filter"
        print(f"accelsim: nothing to prune in {workload.name}: {why}; wrote it unchanged to {args.output}",
              file=sys.stderr)
    print("\n".join(summary(result)))
    print(f"wrote {args.output}")


def _pareto(args: argparse.Namespace) -> None:
    from accelsim.sweep.pareto_report import check_metrics, front_table
    from accelsim.sweep.store import read_points

    objectives = [args.x, args.y] + ([args.z] if args.z else [])
    check_metrics(objectives)
    points = read_points(args.store)
    if not points:
        raise ConfigError(f"{args.store}: the sweep store has no points yet")
    print(front_table(points, objectives))
    if args.output:
        from accelsim.plots import save
        from accelsim.sweep.pareto_plot import figure

        save(figure(points, args.x, args.y, args.z), args.output)


def _scalesim(args: argparse.Namespace) -> None:
    from accelsim.importers.scalesim import read_config, read_topology, with_array
    from accelsim.parity import layer_parity, parity_dict, parity_table

    hw = load_hw(args.hw)
    if args.config:
        hw = read_config(args.config, hw)
    hw = with_array(hw, args.rows, args.cols, args.dataflow)
    rows = [layer_parity(layer, hw) for layer in read_topology(args.topology)]
    if args.json:
        print(json.dumps(parity_dict(rows), indent=2))
    else:
        print(f"{args.topology} on {describe_hw(hw)}")
        print(parity_table(rows))


def _load(args: argparse.Namespace) -> tuple[Hardware, Workload]:
    """The hardware and workload named on the command line."""
    hw, workload, _ = _load_noted(args)
    return hw, workload


def _load_noted(args: argparse.Namespace) -> tuple[Hardware, Workload, tuple[str, ...]]:
    """The hardware and workload named on the command line, and what the import wants a reader
    to know (ONNX: folds, skipped nodes; listed in the result's notes)."""
    hw = load_hw(args.hw)
    notes: tuple[str, ...] = ()
    if Path(args.workload).suffix.lower() == ".onnx":
        from accelsim.importers.onnx import import_onnx

        found = import_onnx(args.workload, args.skip_unsupported)
        workload, notes = found.workload, found.notes
        if found.skipped:
            print(f"accelsim: skipped {len(found.skipped)} unsupported ONNX nodes: "
                  f"{', '.join(found.skipped)}", file=sys.stderr)
    else:
        workload = load_workload(args.workload)
    return hw, workload, notes


def _functional(args: argparse.Namespace, schedule: Schedule, hw: Hardware, workload: Workload,
                to_stderr: bool = False) -> None:
    """Execute the schedule with numpy; ScheduleError on a mismatch."""
    from accelsim.functional import check

    dtype = args.dtype or schedule.dtype
    if hasattr(args, "weight_sparsity"):    # the values the schedule's run options make sparse
        o = _options(args)
        workload = sparse_workload(workload, hw, o.weight_sparsity, o.activation_density, o.input_data,
                                   o.seed, o.dtype)[0]
    found = check(schedule, workload, dtype, args.seed, hw.sram_capacity(), args.max_functional_bytes)
    if not found.ok:
        raise ScheduleError(f"functional check ({dtype}, seed {args.seed}) failed:\n"
                            + "\n".join(f"  {m}" for m in found.mismatches))
    n, names = len(found.compared), ", ".join(found.compared[:3])
    more = f" and {n - 3} more" if n > 3 else ""
    print(f"functional ({dtype}, seed {args.seed}): matches the reference in {n} stored "
          f"tensor{'s' if n != 1 else ''} ({names}{more}), {found.tolerance}",
          file=sys.stderr if to_stderr else sys.stdout)


def _checked_schedule(path: str, hw: Hardware, workload: Workload, static: bool = True) -> Schedule:
    from accelsim.validate import checked_schedule

    return checked_schedule(path, hw, workload, static=static)


def _schedule(args: argparse.Namespace) -> None:
    from accelsim.schedule_file import dump_schedule

    hw, workload = _load(args)
    text = dump_schedule(make_schedule(hw, workload, options=_options(args)), hw)
    if args.output:
        atomic.write_text(args.output, text)
    else:
        sys.stdout.write(text)


def _validate(args: argparse.Namespace) -> None:
    hw, workload = _load(args)
    schedule = _checked_schedule(args.schedule_file, hw, workload, static=not args.skip_static)
    if args.functional:
        _functional(args, schedule, hw, workload)
    stages = schedule.num_stages
    print(f"{args.schedule_file}: " + ("read" if args.skip_static else "valid")
          + f" ({len(schedule.ops)} ops in {stages} stage{'s' if stages != 1 else ''})")


def _report(workload: Workload, hw: Hardware, results: list[Result], failed: dict[str, ScheduleError],
            args: argparse.Namespace) -> str:
    """The text `run` prints: the table, notes, and the per-layer table or pipeline if asked."""
    main_result = results[-1] if results else None
    compared = not (args.schedule or args.schedule_file)
    lines = [f"{workload.name} on {describe_hw(hw)}", results_table(results, with_speedup=compared)]
    lines += [f"{kind}: not run: {exc}" for kind, exc in failed.items()]
    if main_result is not None:
        lines += [f"{main_result.schedule}: {note}" for note in main_result.notes]
        if args.layers:
            lines.append(layers_table(main_result))
        if args.pipeline:
            lines.append(pipeline_text(main_result))
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> None:
    hw, workload, import_notes = _load_noted(args)
    if args.functional:                     # refused before scheduling, not after
        check_functional(workload, args.dtype or workload.dtype or hw.default_dtype,
                         args.max_functional_bytes)
    options = _options(args)
    if args.schedule_file:
        schedule = _checked_schedule(args.schedule_file, hw, workload)
    elif args.schedule or args.functional:
        schedule = make_schedule(hw, workload, options=options)
    if args.functional:
        _functional(args, schedule, hw, workload, args.json)
    failed: dict[str, ScheduleError] = {}
    if args.schedule_file or args.schedule:
        results = [run_schedule(hw, schedule, options.sync)]
    else:
        results, failed = compare_schedules(hw, workload, options=options)
        if not results or ("pipelined" in failed and (args.json or args.out)):
            raise failed.get("pipelined") or next(iter(failed.values()))
    results = [replace(r, notes=import_notes + r.notes) for r in results]
    main_result = results[-1]
    serial = next((r.total_cycles for r in results if r.schedule == "serial"), None)
    if args.json:
        data = main_result.to_dict()
        if not (args.schedule or args.schedule_file):
            data["comparison"] = [
                {"schedule": r.schedule, "splits": r.splits, "tiles": r.tiles, "total_cycles": r.total_cycles,
                 "speedup_vs_serial": sp} for r, sp in zip(results, speedups(results), strict=True)]
            data["comparison"] += [{"schedule": kind, "error": str(exc)} for kind, exc in failed.items()]
        print(json.dumps(data, indent=2))
    report = _report(workload, hw, results, failed, args)
    if not args.json:
        print(report)
    if args.out:
        from accelsim.outputs import write_outputs

        written = write_outputs(args.out, main_result, report, serial)
        print(f"accelsim: wrote {len(written)} files to {args.out}: {', '.join(written)}", file=sys.stderr)


def _one_result(args: argparse.Namespace) -> tuple[Hardware, Result, int | None]:
    """The run `plot` and `trace` draw: (hardware, result, serial cycles or None)."""
    hw, workload = _load(args)
    options = _options(args)
    if args.schedule_file:
        schedule = _checked_schedule(args.schedule_file, hw, workload)
    else:
        schedule = make_schedule(hw, workload, options=options)
    result = run_schedule(hw, schedule, options.sync)
    serial = None
    if result.schedule != "serial" and args.command == "plot" and args.kind == "pipeline":
        try:
            # the baseline: the serial schedule as the scheduler builds it (its own tiling)
            serial = simulate(hw, workload, options=replace(options, schedule="serial", splits=None,
                                                            parts={})).total_cycles
        except AccelsimError:            # serial does not fit this SRAM: no speedup in the title
            serial = None
    return hw, result, serial


def _plot(args: argparse.Namespace) -> None:
    from accelsim.plots import figure, save

    _, result, serial = _one_result(args)
    options = {"pipeline": {"serial_cycles": serial, "zoom": args.zoom, "layer": args.layer},
               "utilization": {"count": args.windows}}.get(args.kind, {})
    save(figure(result, args.kind, **options), args.output)


def _trace(args: argparse.Namespace) -> None:
    from accelsim.export import write as write_trace

    _, result, _ = _one_result(args)
    write_trace(result, args.format, args.output)


def _sweep(args: argparse.Namespace) -> None:
    from accelsim.sweep.cli import Search, run_sweep

    search = None
    if args.search or args.trials:
        if not (args.search and args.trials):
            raise ConfigError("--search and --trials go together: --search random|optuna --trials N")
        search = Search(args.search, args.trials, tuple(args.objectives.split(",")), args.seed)
    run_sweep(args.sweep_file, args.output, jobs=args.jobs, dask=args.dask, export_to=args.export,
              progress=not args.no_progress, search=search)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        {"run": _run, "scalesim": _scalesim, "schedule": _schedule, "validate": _validate,
         "plot": _plot, "trace": _trace, "sweep": _sweep, "pareto": _pareto, "prune": _prune,
         "list": lambda _: print(shipped.listing())}[args.command](args)
    except AccelsimError as exc:
        print(f"accelsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:               # Ctrl-C: files are written whole or not at all (atomic.py)
        print("accelsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                 # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
