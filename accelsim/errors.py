"""Exceptions raised by accelsim.

Every error a user can cause derives from :class:`AccelsimError` and also from
the built-in it refines, so callers may catch either::

    AccelsimError
    ├── ConfigError(ValueError)       a hardware or workload file is wrong
    ├── ScheduleError(ValueError)     a schedule cannot be built or is illegal
    ├── SimulationError(RuntimeError) the engine could not finish a schedule
    └── LimitError(ValueError)        valid input over a size limit (accelsim/limits.py)
"""


class AccelsimError(Exception):
    """Base class of every error accelsim raises on bad input."""


class ConfigError(AccelsimError, ValueError):
    """A hardware config or workload trace is invalid; the message names file and key."""


class ScheduleError(AccelsimError, ValueError):
    """A schedule cannot be built for this workload and hardware, or is illegal."""


class SimulationError(AccelsimError, RuntimeError):
    """The engine stopped before every op of a schedule finished."""


class LimitError(AccelsimError, ValueError):
    """A valid workload too big to schedule or check within a limit; the message says by how
    much and which option raises the limit."""
