"""``cached_attribute`` computes once per instance, and never makes the instances of a class
wait for each other (Python 3.11's ``functools.cached_property`` held one lock per attribute
for every instance)."""

import threading

from homeserver.cached_attribute import cached_attribute


def test_computed_once_per_instance():
    calls = []

    class Context:
        def __init__(self, n):
            self.n = n

        @cached_attribute
        def double(self):
            calls.append(self.n)
            return self.n * 2

    one, two = Context(1), Context(2)
    assert (one.double, one.double, two.double) == (2, 2, 4)
    assert calls == [1, 2]


def test_instances_compute_at_the_same_time():
    inside = threading.Barrier(2, timeout=10)

    class Context:
        @cached_attribute
        def slow(self):
            inside.wait()  # both threads inside the computation at once, or a BrokenBarrierError
            return True

    results = []
    threads = [threading.Thread(target=lambda: results.append(Context().slow)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [True, True]
