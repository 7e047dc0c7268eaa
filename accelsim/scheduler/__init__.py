"""Scheduler passes: from a workload to a Schedule the engine runs (fuse, tile, pipeline)."""

from accelsim.scheduler.conv_layer import choose_tiling
from accelsim.scheduler.network import SCHEDULES, network_schedule

__all__ = ["SCHEDULES", "choose_tiling", "network_schedule"]
