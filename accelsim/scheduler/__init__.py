"""Scheduler passes: from a workload to a Schedule the engine runs."""

from accelsim.scheduler.convadd import SCHEDULES, build_schedule, find_blocks

__all__ = ["SCHEDULES", "build_schedule", "find_blocks"]
