"""The schedule search: its bound never exceeds what the engine measures, the sum of its
per-layer picks is the whole run, it is never worse than the greedy choice nor than fixed
alternatives run directly, and what it picks validates and runs bit-exact."""

import re

import pytest

from accelsim import load_workload, run_schedule, workload_from_dict
from accelsim.errors import ScheduleError
from accelsim.functional import check
from accelsim.placement import place
from accelsim.scheduler.network import network_schedule
from accelsim.scheduler.search import Search
from accelsim.validate import validate
from tests.helpers import ROOT, hw
from tests.scheduler.test_depthfirst import block


def _network(name):
    return load_workload(ROOT / "traces" / f"{name}.yaml")


def _summary(schedule):
    """(best cycles, best uJ, greedy cycles, greedy uJ) from the search's note."""
    note = next(n for n in schedule.notes if n.startswith("search ("))
    found = re.search(r"best ([\d,]+) cycles, ([\d,.]+) uJ against the greedy tiling's ([\d,]+) cycles, "
                      r"([\d,.]+) uJ", note)
    assert found, note
    return tuple(float(g.replace(",", "")) for g in found.groups())


@pytest.fixture(scope="module")
def resnet18_searched():
    net, machine = _network("resnet18"), hw()
    seen: list[Search] = []
    original = Search.__init__

    def keep(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self)
    Search.__init__ = keep
    try:
        schedule = network_schedule(net, machine, "depthfirst", search="cycles")[0]
    finally:
        Search.__init__ = original
    return net, machine, schedule, seen[0]


def test_the_closed_form_bound_never_exceeds_the_simulated_cycles(resnet18_searched):
    *_, search = resnet18_searched
    simulated = [t for t in search.tried if t.cycles is not None]
    assert simulated and all(t.bound <= t.cycles for t in simulated)
    assert sum(t.cycles is None for t in search.tried) > len(simulated)     # most are pruned


def test_the_picks_sum_to_the_run_and_beat_the_greedy_run(resnet18_searched):
    net, machine, schedule, _ = resnet18_searched
    best, _, greedy, _ = _summary(schedule)
    assert run_schedule(machine, schedule).total_cycles == best
    assert run_schedule(machine, network_schedule(net, machine, "depthfirst")[0]).total_cycles == greedy
    assert best < greedy


def test_what_the_search_picks_validates_and_runs_bit_exact(resnet18_searched):
    net, machine, schedule, _ = resnet18_searched
    assert validate(place(schedule, machine.sram_capacity()), machine, net) == []
    assert check(schedule, net, "int8", capacity=machine.sram_capacity()).ok


def test_the_search_is_no_worse_than_any_fixed_split_or_grouping_run_directly():
    """On the small block every alternative is a whole schedule the engine runs directly: the
    conv and the ConvAdd layer by layer, or depth first, cached or recomputed, in 1 to 8 row parts."""
    small, machine = workload_from_dict(block()), hw()
    searched = run_schedule(machine, network_schedule(small, machine, "depthfirst", search="cycles")[0])
    others = [run_schedule(machine, network_schedule(small, machine, kind, splits=n, halo=h)[0]).total_cycles
              for kind in ("pipelined", "depthfirst") for h in ("cache", "recompute") for n in range(1, 9)]
    assert searched.total_cycles <= min(others)


@pytest.mark.parametrize("objective", ["energy", "mix"])
def test_energy_and_mix_objectives_improve_on_the_greedy_choice(objective):
    net, machine = _network("resnet18"), hw()
    schedule = network_schedule(net, machine, "depthfirst", search=objective)[0]
    cycles, energy, greedy_cycles, greedy_energy = _summary(schedule)
    assert run_schedule(machine, schedule).total_cycles == cycles
    if objective == "energy":
        assert energy < greedy_energy
    else:
        assert cycles / greedy_cycles + energy / greedy_energy < 2


def test_an_unknown_objective_is_a_schedule_error():
    with pytest.raises(ScheduleError, match="unknown search objective 'speed': expected one of cycles, "
                                            "energy, mix"):
        network_schedule(workload_from_dict(block()), hw(), "pipelined", search="speed")


def test_searched_depth_first_still_moves_fewer_dram_bytes_than_pipelined(resnet18_searched):
    net, machine, schedule, _ = resnet18_searched
    runs = [run_schedule(machine, s) for s in (schedule, network_schedule(net, machine, "pipelined")[0])]
    searched, pipelined = (r.dram_read_bytes + r.dram_write_bytes for r in runs)
    assert searched < pipelined
