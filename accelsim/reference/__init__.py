"""Slow, explicit reference models that the closed forms in accelsim.cost are tested against.

Nothing in the simulator imports this package: it is for tests and docs only.
"""
