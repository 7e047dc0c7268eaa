"""Steps: same-cycle work in first-come order, later work by cycle, one SimPy event per cycle."""

import simpy

from accelsim.engine.steps import Steps


def run(plan):
    """`plan(steps, log)` queues steps; run them and return the log and SimPy's event count."""
    env = simpy.Environment()
    steps = Steps(env)
    log: list = []
    plan(steps, log)
    events = 0
    steps.run()
    while env.peek() != float("inf"):
        env.step()
        events += 1
    return log, events


def test_steps_queued_now_run_after_the_steps_already_due_this_cycle():
    def plan(steps, log):
        def due(i):
            log.append(("due", i, steps.now))
            steps.soon(lambda j: log.append(("soon", j, steps.now)), i)
        steps.at(3, due, 1)
        steps.at(3, due, 2)
        steps.at(4, due, 3)

    log, events = run(plan)
    assert log == [("due", 1, 3), ("due", 2, 3), ("soon", 1, 3), ("soon", 2, 3),
                   ("due", 3, 4), ("soon", 3, 4)]
    assert events == 2                  # one per cycle with work


def test_a_cancelled_step_does_not_run_and_its_cycle_costs_no_event():
    def plan(steps, log):
        steps.at(5, log.append, 5)
        steps.at(7, log.append, 7)
        steps.cancel(5, log.append, 5)
        steps.at(0, log.append, 0)      # no delay: this cycle

    log, events = run(plan)
    assert log == [0, 7]
    assert events == 1
