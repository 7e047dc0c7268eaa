import simpy

from accelsim.engine.pool import Pool
from accelsim.engine.steps import Steps


def test_grants_in_arrival_order_and_tracks_the_peak():
    env = simpy.Environment()
    steps = Steps(env)
    pool = Pool(steps, "ifmap", 100)
    users = {0: ("a", 60, 10), 1: ("b", 60, 10), 2: ("c", 10, 10)}
    log = []

    def got(i):
        name, amount, hold = users[i]
        log.append((name, "got", env.now))
        steps.at(hold, lambda _: pool.release(amount), i)

    def arrive(i):
        if pool.acquire(users[i][1], got, i):
            got(i)

    steps.at(0, arrive, 0)
    steps.at(1, arrive, 1)     # waits for a
    steps.at(2, arrive, 2)     # fits, but b is ahead: waits too (first come, first served)
    steps.run()
    env.run()
    assert log == [("a", "got", 0), ("b", "got", 10), ("c", "got", 10)]
    assert pool.peak == 70 and pool.level == 0


def test_history_records_the_level_after_every_change():
    env = simpy.Environment()
    steps = Steps(env)
    pool = Pool(steps, "ofmap", 100)
    assert pool.acquire(30, print, 0) and pool.acquire(20, print, 0)   # same cycle: one entry
    steps.at(5, lambda _: pool.release(30), 0)
    steps.run()
    env.run()
    assert pool.history == [(0, 50), (5, 20)]

