"""Scheduler passes: from a workload to a Schedule the engine runs."""

from accelsim.scheduler.conv_layer import choose_tiling, layer_schedule
from accelsim.scheduler.convadd import SCHEDULES, build_schedule, find_blocks, is_convadd_chain

__all__ = ["SCHEDULES", "build_schedule", "choose_tiling", "find_blocks", "is_convadd_chain",
           "layer_schedule"]
