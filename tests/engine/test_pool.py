import simpy

from accelsim.engine.pool import Pool


def test_grants_in_arrival_order_and_tracks_the_peak():
    env = simpy.Environment()
    pool = Pool(env, "ifmap", 100)
    log = []

    def user(name, amount, hold, at):
        yield env.timeout(at)
        wait = pool.acquire(amount)
        if wait is not None:
            yield wait
        log.append((name, "got", env.now))
        yield env.timeout(hold)
        pool.release(amount)

    env.process(user("a", 60, 10, 0))
    env.process(user("b", 60, 10, 1))     # waits for a
    env.process(user("c", 10, 10, 2))     # fits, but b is ahead: waits too (first come, first served)
    env.run()
    assert log == [("a", "got", 0), ("b", "got", 10), ("c", "got", 10)]
    assert pool.peak == 70 and pool.level == 0


def test_history_records_the_level_after_every_change():
    env = simpy.Environment()
    pool = Pool(env, "ofmap", 100)

    def user():
        pool.acquire(30)
        pool.acquire(20)              # same cycle: one entry with the final level
        yield env.timeout(5)
        pool.release(30)

    env.process(user())
    env.run()
    assert pool.history == [(0, 50), (5, 20)]
