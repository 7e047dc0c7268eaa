"""accelsim: a discrete-event simulator of a deep-learning ASIC with fused ConvAdd."""

from accelsim.errors import AccelsimError, ConfigError, ScheduleError, SimulationError
from accelsim.hw import Hardware, hw_from_dict, load_hw
from accelsim.result import Result
from accelsim.simulation import make_schedule, simulate
from accelsim.workload import Workload, load_workload, workload_from_dict

__version__ = "0.1.0"

__all__ = [
    "AccelsimError",
    "ConfigError",
    "Hardware",
    "Result",
    "ScheduleError",
    "SimulationError",
    "Workload",
    "hw_from_dict",
    "load_hw",
    "load_workload",
    "make_schedule",
    "simulate",
    "workload_from_dict",
]
