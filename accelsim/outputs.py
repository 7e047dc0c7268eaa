"""`accelsim run --out DIR`: the report, the result, the pictures and the traces of one run,
together in one directory."""

from __future__ import annotations

from pathlib import Path

from accelsim import atomic, export, plots
from accelsim.errors import ConfigError
from accelsim.result import Result


def write_outputs(directory: str | Path, result: Result, report: str,
                  serial_cycles: int | None = None) -> list[str]:
    """Write report.txt, result.json, pipeline.png/.svg, utilization.png, layers.png,
    roofline.png, energy.png (when the hardware has an energy table), trace.json (Perfetto)
    and trace.vcd, each whole or not at all; return the file names written."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write: {exc.strerror or exc}") from None
    atomic.write_text(out / "report.txt", report + "\n")
    atomic.write_text(out / "result.json", result.to_json() + "\n")
    names = ["report.txt", "result.json"]
    for name in ("pipeline.png", "pipeline.svg"):
        plots.save(plots.pipeline(result, serial_cycles), out / name)
        names.append(name)
    for kind in ("utilization", "layers", "roofline", *(("energy",) if result.energy is not None else ())):
        plots.save(plots.figure(result, kind), out / f"{kind}.png")
        names.append(f"{kind}.png")
    export.write(result, "perfetto", out / "trace.json")
    export.write(result, "vcd", out / "trace.vcd")
    return [*names, "trace.json", "trace.vcd"]
