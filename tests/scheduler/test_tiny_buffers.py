"""Tiny SRAM buffers: a clear ScheduleError naming the layer, the buffer and the least bytes it
needs (resnet50_convadd: a 3x3x64 filter is 576 one-byte weights), never a crash or a hang."""

import pytest

from accelsim import ScheduleError, load_workload
from accelsim.errors import AccelsimError
from accelsim.scheduler.network import network_schedule
from tests.helpers import ROOT
from tests.helpers import hw as hw_with

FILTER = 3 * 3 * 64          # one filter's one-byte weights


@pytest.fixture(scope="module")
def convadd():
    return load_workload(ROOT / "traces" / "resnet50_convadd.yaml")


@pytest.mark.parametrize("size", [1, 64, 512])
@pytest.mark.parametrize(("kind", "layer", "need"), [
    ("serial", "conv 'conv':", FILTER),
    ("fused", "layer 'conv+add'", FILTER),
    ("pipelined", "layer 'conv+add'", 2 * FILTER),       # the next chunk's filter loads in flight
])
def test_a_weight_buffer_smaller_than_one_filter_names_layer_buffer_and_least_bytes(convadd, size, kind,
                                                                                      layer, need):
    with pytest.raises(ScheduleError) as err:
        network_schedule(convadd, hw_with(sram__weight__size_bytes=size), kind)
    assert str(err.value) == (f"{layer} does not fit SRAM: needs at least "
                            f"{need:,} bytes in SRAM buffer 'weight' (one filter "
                              f"a chunk), but it holds {size:,}; use a larger buffer")


@pytest.mark.parametrize("size", [1, 64, 512])
@pytest.mark.parametrize(("kind", "layer"), [("serial", "conv 'conv':"), ("fused", "layer 'conv+add'"),
                                             ("pipelined", "layer 'conv+add'")])
def test_an_ifmap_buffer_smaller_than_one_pixel_window_is_refused_before_any_search(convadd, size, kind,
                                                                                    layer):
    with pytest.raises(ScheduleError) as err:      # the middle pixel reads 3x3 pixels of 64 channels
        network_schedule(convadd, hw_with(sram__ifmap__size_bytes=size), kind)
    assert str(err.value) == (f"{layer} does not fit SRAM: needs at least "
                            f"{FILTER:,} bytes in SRAM buffer 'ifmap' (one output "
                              f"pixel's input window), but it holds {size:,}; use a larger buffer")


# One tile at a time (unpipelined) in a 64-byte ofmap buffer: a row of one filter's outputs is
# 56 bytes (two filters' 112 do not fit), so 64 filter chunks x 56 rows; the add holds a pixel's
# 64 channels, so 56 x 56 pixel tiles. In 512 bytes: 8 filters a row (448; 7 chunks of 10 would
# hold 560), 8 x 56 tiles; the add 8 columns x 64 channels (512), 56 rows x 7 column parts.
# The tilings are found by searching only counts whose one output tile fits (was a hang).
@pytest.mark.parametrize(("size", "conv_tiles", "add_tiles"), [(64, 64 * 56, 56 * 56), (512, 8 * 56, 56 * 7)])
@pytest.mark.parametrize("kind", ["serial", "fused"])
def test_a_tiny_ofmap_buffer_tiles_down_to_what_one_tile_holds(convadd, size, conv_tiles, add_tiles, kind):
    _, plans, _ = network_schedule(convadd, hw_with(sram__ofmap__size_bytes=size), kind)
    assert [(p.name, p.tiles) for p in plans] == [("conv", conv_tiles), ("add", add_tiles)]


# sizes that end at once (ofmap 64 and 512 pipelined take 10-25 s, ifmap 2048 fused ~7 s)
@pytest.mark.parametrize(("buffer", "size"), [("ifmap", 1), ("ifmap", 64), ("ifmap", 512), ("ofmap", 1),
                                              ("ofmap", 2048), ("weight", 1), ("weight", 64), ("weight", 512),
                                              ("weight", 2048)])
@pytest.mark.parametrize("kind", ["serial", "fused", "pipelined"])
def test_every_tiny_buffer_ends_in_a_schedule_or_an_accelsim_error(convadd, buffer, size, kind):
    try:
        schedule, _, _ = network_schedule(convadd, hw_with(**{f"sram__{buffer}__size_bytes": size}), kind)
    except AccelsimError as exc:
        assert str(exc)
    else:
        assert schedule.ops
