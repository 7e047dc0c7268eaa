"""A cycle-stepped systolic array: every PE's registers, every cycle (numpy; small arrays only).

The ground truth `accelsim.cost.systolic_cycles` is tested against. It is slow on
purpose (one loop iteration per cycle) and nothing in the simulator imports it.

The machine: R x C PEs. Cycles are numbered 0, 1, ...; a register written in
cycle c is read from cycle c + 1 (flip-flops); a PE multiplies the operands its
left and upper neighbours' registers (or the edge feeders) present in the same
cycle. A GEMM is cut into folds as `accelsim.cost.fold_shape` says; every fold
is a full R x C pass (unmapped PEs get zeros and keep their time slots, as
SCALE-Sim pads with null requests).

- OS: row i of the fold's left operand (R x T) enters PE(i, 0), element k in
  cycle s + i + k, and moves right one PE per cycle; column j of the top
  operand (T x C) enters PE(0, j) in cycle s + j + k and moves down. PE(i, j)
  accumulates in its own register and finishes in cycle s + T - 1 + i + j.
  Output path: each column has one output bus to its bottom edge, carrying
  one output per cycle; a PE drives its finished sum onto it in the cycle it
  finishes (the skew makes a column's PEs finish on consecutive cycles), and
  its accumulator is free for the next fold from the next cycle, so OS needs
  no shadow accumulator (`double_buffered` changes nothing for OS). A column's
  R outputs of a fold so take R bus cycles: the drain limit. (A shift chain
  through the column cannot give SCALE-Sim's per-fold count: shifting down,
  the skewed finishes of a column all reach the bottom in the same cycle;
  shifting up, they leave every other cycle.)
- WS (IS): the stationary fold (R x C: weights K x N; for IS inputs K x M) is
  pushed down a per-column load chain from the top edge, bottom row's value
  first, column j starting j cycles after column 0 (the same skew as the
  streamed operand), R cycles per column; element m of the streamed operand's
  row i (T = M inputs; for IS T = N weights) enters PE(i, 0) in cycle
  S + i + m, S = load start + R, and moves right; partial sums move down and
  leave the bottom edge, one per column per cycle. With `double_buffered`
  the load chain is a shadow register per PE, copied into the PE's working
  register when the fold's first streamed operand reaches it; without, the
  chain register is the working register. WS/IS outputs of a fold are partial
  sums over one row fold of K; they are added outside the array.

The count: cycle 0 is the cycle the first operand (streamed or stationary)
enters the array; the count is one more than the cycle in which the last
output leaves it (its bus or bottom edge). One fold alone takes T + R + C - 2
cycles in OS and T + 2R + C - 2 in WS and IS: SCALE-Sim's per-fold counts.

Fold schedules (`folds`):
- "serialized": a fold's first operand enters the cycle after the previous
  fold's last output left (SCALE-Sim's controller).
- "overlapped": folds start at a constant interval, the smallest at which the
  register-level run has no hazard (two values for one register, port or bus
  in one cycle; a register overwritten while still needed; operands of
  different folds meeting), found by bisection running two folds at each
  candidate (a hazard-free interval stays so when widened); the whole run at
  that interval is checked again.

A hazard in a run raises `Hazard`; so a schedule the model accepts is one the
hardware described above can execute, and its result is checked against numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.cost import ceil_div

EMPTY = -1


class Hazard(RuntimeError):
    """The schedule asks one register, port or bus to hold two values at once, or loses one."""


@dataclass(frozen=True)
class Fold:
    """One pass of the array. OS: `p` = left operand (R x T), `q` = top operand (T x C),
    output R x C. WS/IS: `p` = stationary operand (R x C), `q` = streamed operand (T x R),
    output T x C. The output adds into result[group, out_rows, out_cols] (transposed for IS)."""

    p: np.ndarray
    q: np.ndarray
    group: int
    out_rows: slice
    out_cols: slice
    transposed: bool


@dataclass(frozen=True)
class Run:
    """What a run produced: the GEMM result (groups, M, N), the cycle count, the cycle each
    fold's first operand entered, and the interval between folds (cycles)."""

    result: np.ndarray
    cycles: int
    starts: tuple[int, ...]
    interval: int


def _padded(block: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    out[: block.shape[0], : block.shape[1]] = block
    return out


def split_folds(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: str) -> list[Fold]:
    """Folds of the grouped GEMM a (g x M x K) @ b (g x K x N), in SCALE-Sim's order (column folds
    outer, row folds inner), group after group; T, Sr, Sc as `accelsim.cost.fold_shape`."""
    g, m, k = a.shape
    n = b.shape[2]
    folds = []
    for gi in range(g):
        if dataflow == "os":           # T = K; M on rows, N on cols
            for fc in range(ceil_div(n, cols)):
                cs = slice(fc * cols, min(n, (fc + 1) * cols))
                for fr in range(ceil_div(m, rows)):
                    rs = slice(fr * rows, min(m, (fr + 1) * rows))
                    folds.append(Fold(_padded(a[gi, rs, :], (rows, k)), _padded(b[gi, :, cs], (k, cols)),
                                      gi, rs, cs, False))
        elif dataflow == "ws":         # T = M; K on rows, N on cols
            for fc in range(ceil_div(n, cols)):
                cs = slice(fc * cols, min(n, (fc + 1) * cols))
                for fr in range(ceil_div(k, rows)):
                    ks = slice(fr * rows, min(k, (fr + 1) * rows))
                    folds.append(Fold(_padded(b[gi, ks, cs], (rows, cols)), _padded(a[gi, :, ks], (m, rows)),
                                      gi, slice(0, m), cs, False))
        elif dataflow == "is":         # T = N; K on rows, M on cols
            for fc in range(ceil_div(m, cols)):
                ms = slice(fc * cols, min(m, (fc + 1) * cols))
                for fr in range(ceil_div(k, rows)):
                    ks = slice(fr * rows, min(k, (fr + 1) * rows))
                    folds.append(Fold(_padded(a[gi, ms, ks].T, (rows, cols)),
                                      _padded(b[gi, ks, :].T, (n, rows)), gi, ms, slice(0, n), True))
        else:
            raise ValueError(f"unknown dataflow {dataflow!r}: expected 'os', 'ws' or 'is'")
    return folds


def _place(result: np.ndarray, fold: Fold, out: np.ndarray) -> None:
    if fold.transposed:
        block = out[:, : fold.out_rows.stop - fold.out_rows.start].T
    else:
        block = out[: fold.out_rows.stop - fold.out_rows.start, : fold.out_cols.stop - fold.out_cols.start]
    result[fold.group, fold.out_rows, fold.out_cols] += block


def _run_os(folds: list[Fold], starts: list[int], rows: int, cols: int) -> tuple[list[np.ndarray], int]:
    """Run OS folds starting at `starts`; each fold's R x C outputs and the last output's cycle."""
    t = folds[0].p.shape[1]
    shape = (rows, cols)
    a_val, a_fold, a_k = np.zeros(shape, np.int64), np.full(shape, EMPTY), np.zeros(shape, int)
    b_val, b_fold, b_k = np.zeros(shape, np.int64), np.full(shape, EMPTY), np.zeros(shape, int)
    acc, acc_fold = np.zeros(shape, np.int64), np.full(shape, EMPTY)
    outs = [np.zeros(shape, np.int64) for _ in folds]
    left = [rows * cols] * len(folds)
    ri, cj = np.arange(rows), np.arange(cols)
    last = -1
    for c in range(starts[-1] + t + rows + cols):
        fa_val, fa_fold, fa_k = np.zeros(rows, np.int64), np.full(rows, EMPTY), np.zeros(rows, int)
        fb_val, fb_fold, fb_k = np.zeros(cols, np.int64), np.full(cols, EMPTY), np.zeros(cols, int)
        for f, s in enumerate(starts):
            if not s <= c < s + t + rows + cols:
                continue
            for idx, feed_val, feed_fold, feed_k, src in ((ri, fa_val, fa_fold, fa_k, folds[f].p),
                                                          (cj, fb_val, fb_fold, fb_k, folds[f].q.T)):
                k = c - s - idx
                on = (k >= 0) & (k < t)
                if (on & (feed_fold != EMPTY)).any():
                    raise Hazard(f"cycle {c}: two folds feed one edge port")
                feed_val[on] = src[idx[on], k[on]]
                feed_fold[on] = f
                feed_k[on] = k[on]
        # operands present at each PE this cycle: the edge feeders, else the neighbour's register
        ai_val = np.concatenate([fa_val[:, None], a_val[:, :-1]], axis=1)
        ai_fold = np.concatenate([fa_fold[:, None], a_fold[:, :-1]], axis=1)
        ai_k = np.concatenate([fa_k[:, None], a_k[:, :-1]], axis=1)
        bi_val = np.concatenate([fb_val[None, :], b_val[:-1, :]], axis=0)
        bi_fold = np.concatenate([fb_fold[None, :], b_fold[:-1, :]], axis=0)
        bi_k = np.concatenate([fb_k[None, :], b_k[:-1, :]], axis=0)
        mac = ai_fold != EMPTY
        if (mac != (bi_fold != EMPTY)).any() or (mac & ((ai_fold != bi_fold) | (ai_k != bi_k))).any():
            raise Hazard(f"cycle {c}: operands of different folds meet in a PE")
        fresh = mac & (ai_k == 0)
        if (fresh & (acc_fold != EMPTY)).any() or (mac & ~fresh & (acc_fold != ai_fold)).any():
            raise Hazard(f"cycle {c}: an accumulator still holds another fold's sum")
        acc = np.where(mac, np.where(fresh, 0, acc) + ai_val * bi_val, acc)
        acc_fold = np.where(mac, ai_fold, acc_fold)
        done = mac & (ai_k == t - 1)
        if (done.sum(axis=0) > 1).any():
            raise Hazard(f"cycle {c}: two outputs on one column's output bus")
        for i, j in zip(*np.nonzero(done), strict=True):
            f = int(ai_fold[i, j])
            outs[f][i, j] = acc[i, j]
            left[f] -= 1
            last = c
        acc_fold = np.where(done, EMPTY, acc_fold)
        a_val, a_fold, a_k = ai_val, ai_fold, ai_k
        b_val, b_fold, b_k = bi_val, bi_fold, bi_k
    if any(left):
        raise Hazard("outputs never left the array")
    return outs, last


def _run_stationary(folds: list[Fold], starts: list[int], rows: int, cols: int,
                    double_buffered: bool) -> tuple[list[np.ndarray], int]:
    """Run WS/IS folds whose loads start at `starts`: each fold's T x C outputs, the last output's cycle."""
    t = folds[0].q.shape[0]
    shape = (rows, cols)
    # the load chain (shadow registers if double-buffered): value, fold, destination row, still needed
    ch_val, ch_fold, ch_dest = np.zeros(shape, np.int64), np.full(shape, EMPTY), np.full(shape, EMPTY)
    ch_live = np.zeros(shape, bool)
    uses = np.zeros(shape, int)                      # MACs the working stationary value still owes
    w_val, w_fold = np.zeros(shape, np.int64), np.full(shape, EMPTY)    # working registers (double-buffered)
    x_val, x_fold, x_m = np.zeros(shape, np.int64), np.full(shape, EMPTY), np.zeros(shape, int)
    p_val, p_fold, p_m = np.zeros(shape, np.int64), np.full(shape, EMPTY), np.zeros(shape, int)
    outs = [np.zeros((t, cols), np.int64) for _ in folds]
    left = [t * cols] * len(folds)
    ri = np.arange(rows)
    last = -1
    for c in range(starts[-1] + t + 2 * rows + cols):
        loads: dict[int, tuple[int, int]] = {}       # column -> (fold, destination row) pushed this cycle
        fx_val, fx_fold, fx_m = np.zeros(rows, np.int64), np.full(rows, EMPTY), np.zeros(rows, int)
        for f, s in enumerate(starts):
            if not s <= c < s + t + 2 * rows + cols:
                continue
            for j in range(cols):
                if 0 <= c - s - j < rows:
                    if j in loads:
                        raise Hazard(f"cycle {c}: two folds load column {j}")
                    loads[j] = (f, rows - 1 - (c - s - j))
            mi = c - (s + rows) - ri
            on = (mi >= 0) & (mi < t)
            if (on & (fx_fold != EMPTY)).any():
                raise Hazard(f"cycle {c}: two folds feed one row")
            fx_val[on] = folds[f].q[mi[on], ri[on]]
            fx_fold[on] = f
            fx_m[on] = mi[on]
        xi_val = np.concatenate([fx_val[:, None], x_val[:, :-1]], axis=1)
        xi_fold = np.concatenate([fx_fold[:, None], x_fold[:, :-1]], axis=1)
        xi_m = np.concatenate([fx_m[:, None], x_m[:, :-1]], axis=1)
        mac = xi_fold != EMPTY
        landed = (ch_dest == ri[:, None]) & ch_live
        if double_buffered:
            swap = mac & (xi_m == 0)
            if (swap & (~landed | (ch_fold != xi_fold) | (uses > 0))).any():
                raise Hazard(f"cycle {c}: a fold's stationary operand is not in the shadow register, "
                             "or the working register is still in use")
            w_val, w_fold = np.where(swap, ch_val, w_val), np.where(swap, ch_fold, w_fold)
            uses = np.where(swap, t, uses)
            ch_live = ch_live & ~swap
            if (mac & ((w_fold != xi_fold) | (uses == 0))).any():
                raise Hazard(f"cycle {c}: a streamed operand meets another fold's stationary operand")
            weight = w_val
        else:
            if (mac & (~landed | (ch_fold != xi_fold))).any():
                raise Hazard(f"cycle {c}: a streamed operand meets another fold's stationary operand")
            weight = ch_val
        uses = np.where(mac, uses - 1, uses)
        if not double_buffered:
            ch_live = ch_live & ~(mac & (uses == 0))
        pi_val = np.concatenate([np.zeros((1, cols), np.int64), p_val[:-1, :]], axis=0)
        pi_fold = np.concatenate([xi_fold[:1, :], p_fold[:-1, :]], axis=0)
        pi_m = np.concatenate([xi_m[:1, :], p_m[:-1, :]], axis=0)
        if ((pi_fold != EMPTY) != mac).any() or (mac & ((pi_fold != xi_fold) | (pi_m != xi_m))).any():
            raise Hazard(f"cycle {c}: a partial sum meets another fold's operand")
        po_val = np.where(mac, pi_val + xi_val * weight, 0)
        for col in np.nonzero(mac[-1])[0]:
            f = int(xi_fold[-1, col])
            outs[f][xi_m[-1, col], col] = po_val[-1, col]
            left[f] -= 1
            last = c
        # latch: streamed operands right, partial sums down, load chains down
        x_val, x_fold, x_m = xi_val, xi_fold, xi_m
        p_val, p_fold, p_m = po_val, np.where(mac, xi_fold, EMPTY), xi_m
        for j, (f, dest) in loads.items():
            moving = (ch_fold[:, j] != EMPTY) & (ch_dest[:, j] > ri)       # values still on their way down
            new_val, new_fold, new_dest = ch_val[:, j].copy(), ch_fold[:, j].copy(), ch_dest[:, j].copy()
            written = np.zeros(rows, bool)
            new_val[0], new_fold[0], new_dest[0], written[0] = folds[f].p[dest, j], f, dest, True
            for i in range(1, rows):
                if moving[i - 1]:
                    new_val[i], new_fold[i], new_dest[i], written[i] = ch_val[i - 1, j], ch_fold[i - 1, j], \
                        ch_dest[i - 1, j], True
            gone = moving & ~written                                       # moved on, nothing behind
            new_fold[gone], new_dest[gone] = EMPTY, EMPTY
            if (written & ch_live[:, j]).any():
                raise Hazard(f"cycle {c}: column {j}'s load overwrites a stationary value still needed")
            arrived = written & (new_dest == ri)
            ch_val[:, j], ch_fold[:, j], ch_dest[:, j] = new_val, new_fold, new_dest
            ch_live[:, j] = np.where(written, arrived, ch_live[:, j])
            if not double_buffered:
                uses[:, j] = np.where(arrived, t, uses[:, j])
    if any(left):
        raise Hazard("outputs never left the array")
    return outs, last


def _execute(folds: list[Fold], starts: list[int], rows: int, cols: int, dataflow: str,
             double_buffered: bool) -> tuple[list[np.ndarray], int]:
    if dataflow == "os":
        return _run_os(folds, starts, rows, cols)
    return _run_stationary(folds, starts, rows, cols, double_buffered)


def _hazard_free(folds: list[Fold], starts: list[int], rows: int, cols: int, dataflow: str,
                 double_buffered: bool) -> bool:
    try:
        _execute(folds, starts, rows, cols, dataflow, double_buffered)
    except Hazard:
        return False
    return True


def fold_interval(folds: list[Fold], rows: int, cols: int, dataflow: str, folds_mode: str,
                  double_buffered: bool = True) -> int:
    """Cycles from one fold's first operand to the next one's, as the schedule `folds_mode` says."""
    _, last = _execute(folds[:1], [0], rows, cols, dataflow, double_buffered)
    alone = last + 1
    if folds_mode == "serialized":
        return alone
    if folds_mode != "overlapped":
        raise ValueError(f"unknown fold schedule {folds_mode!r}: expected 'overlapped' or 'serialized'")
    pair = folds[:2] if len(folds) > 1 else folds[:1] * 2
    lo, hi = 1, alone                         # hazard-free at `alone` (no overlap); smallest by bisection
    while lo < hi:
        mid = (lo + hi) // 2
        if _hazard_free(pair, [0, mid], rows, cols, dataflow, double_buffered):
            hi = mid
        else:
            lo = mid + 1
    return lo


def simulate(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: str,
             folds: str = "overlapped", double_buffered: bool = True) -> Run:
    """Run the GEMM a @ b (a: [g x] M x K, b: [g x] K x N, integers) on a rows x cols array.

    Returns the product (g x M x N) and the cycle count defined in the module docstring.
    `double_buffered` matters only for WS/IS with overlapped folds (OS drains each output
    onto its column bus the cycle it finishes, so its accumulators need no shadow).
    """
    a3 = np.asarray(a, dtype=np.int64)
    b3 = np.asarray(b, dtype=np.int64)
    if a3.ndim == 2:
        a3, b3 = a3[None], b3[None]
    plan = split_folds(a3, b3, rows, cols, dataflow)
    interval = fold_interval(plan, rows, cols, dataflow, folds, double_buffered)
    starts = [f * interval for f in range(len(plan))]
    outs, last = _execute(plan, starts, rows, cols, dataflow, double_buffered)
    result = np.zeros((a3.shape[0], a3.shape[1], b3.shape[2]), dtype=np.int64)
    for fold, out in zip(plan, outs, strict=True):
        _place(result, fold, out)
    return Run(result, last + 1, tuple(starts), interval)
