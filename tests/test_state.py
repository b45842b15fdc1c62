"""The state store, the user lock and the rate counters: one test class, run against every backend."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from chatbot.store.counters import Kept, KeptOther, MemoryRateCounter, RateCounter, RedisRateCounter
from chatbot.store.state import (
    KeyBuilder,
    LockTimeout,
    MemoryStateStore,
    MemoryUserLock,
    RedisStateStore,
    RedisUserLock,
    StateStore,
    StorageKey,
    UserLock,
    conversations,
)
from tests.conftest import service_url


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[StateStore, UserLock, RateCounter]]:
    if request.param == "memory":
        yield MemoryStateStore(), MemoryUserLock(), MemoryRateCounter()
        return
    url = service_url("TEST_REDIS_URL")
    assert url
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield RedisStateStore(client), RedisUserLock(client), RedisRateCounter(client)
    client.flushdb()
    client.close()


KEY = StorageKey("openid-1", "wx1")
Backends = tuple[StateStore, UserLock, RateCounter]


class TestStateBackends:
    def test_a_turn_keeps_its_value_first_and_refuses_another_without_holding_the_lock(
        self, backend: Backends
    ) -> None:
        store, lock, counter = backend
        turns = conversations(store, lock, counter)
        with turns.turn(KEY, wait=1, kept=Kept("signed:q1", "message-a", 5)) as slot:
            slot.new = {"item": 2}
        with turns.turn(KEY, wait=1, kept=Kept("signed:q1", "message-a", 5)) as slot:  # WeChat's retry
            assert slot.saved == {"item": 2}
        with pytest.raises(KeptOther), turns.turn(KEY, wait=1, kept=Kept("signed:q1", "message-b", 5)):
            pytest.fail("a turn under a query kept for another message")
        assert counter.remember("signed:q1", "message-c", 5) == ("message-a", False)  # the first stays
        with turns.turn(KEY, wait=0.1) as slot:  # the refused turn released the lock
            assert slot.saved == {"item": 2}

    def test_set_get_delete(self, backend: Backends) -> None:
        store, _, _ = backend
        assert store.get(KEY) is None
        store.set(KEY, {"dialog": "self_check", "item": 7, "extra": {"中文": [1, 2]}})
        assert store.get(KEY) == {"dialog": "self_check", "item": 7, "extra": {"中文": [1, 2]}}
        assert store.get(StorageKey("openid-1", "wx2")) is None
        store.delete(KEY)
        assert store.get(KEY) is None

    def test_state_that_is_not_json_is_refused(self, backend: Backends) -> None:
        store, _, _ = backend
        with pytest.raises(TypeError):
            store.set(KEY, {"when": object()})

    def test_state_expires(self, backend: Backends) -> None:
        store, _, _ = backend
        store.set(KEY, {"a": 1}, ttl=1)
        time.sleep(1.2)
        assert store.get(KEY) is None

    def test_counters_count_within_their_window(self, backend: Backends) -> None:
        _, _, counter = backend
        # Counted within a minute's window (a one-second window could end under a loaded machine
        # between the hits); the end of a window on a key of its own.
        assert counter.count("fails:o1", 60) == 0
        assert [counter.hit("fails:o1", 60) for _ in range(3)] == [1, 2, 3]
        assert counter.count("fails:o1", 60) == 3 and counter.count("fails:o2", 60) == 0
        counter.hit("fails:short", 1)
        time.sleep(1.2)
        assert counter.count("fails:short", 1) == 0 and counter.count("fails:o1", 60) == 3

    def test_a_count_taken_back_never_goes_below_zero_nor_outlives_its_window(
        self, backend: Backends
    ) -> None:
        _, _, counter = backend
        counter.hit("taken:o1", 60)
        counter.hit("taken:o1", 60)
        counter.take_back("taken:o1")
        assert counter.count("taken:o1", 60) == 1
        counter.take_back("taken:o1")
        counter.take_back("taken:o1")
        assert counter.count("taken:o1", 60) == 0
        counter.take_back("taken:never")  # no count: nothing is stored (not -1)
        assert counter.hit("taken:never", 60) == 1
        counter.hit("taken:short", 1)
        time.sleep(1.2)
        counter.take_back("taken:short")  # its window ended: nothing revived
        assert counter.hit("taken:short", 1) == 1

    def test_one_user_at_a_time(self, backend: Backends) -> None:
        _, lock, _ = backend
        inside = 0
        most = 0
        guard = threading.Lock()

        def work() -> None:
            nonlocal inside, most
            with lock.hold(KEY, wait=5):
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.02)
                with guard:
                    inside -= 1

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert most == 1

    def test_other_users_are_not_blocked(self, backend: Backends) -> None:
        _, lock, _ = backend
        with lock.hold(KEY, wait=1), lock.hold(StorageKey("openid-2", "wx1"), wait=0.5):
            pass

    def test_a_busy_user_times_out(self, backend: Backends) -> None:
        _, lock, _ = backend
        with lock.hold(KEY, wait=1):
            failed = []

            def other() -> None:
                try:
                    with lock.hold(KEY, wait=0.2):
                        pass
                except LockTimeout:
                    failed.append(True)

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
        assert failed == [True]


def test_every_key_comes_from_the_key_builder() -> None:
    assert KeyBuilder().build(StorageKey("o1", "wxA"), "state") == "nianjian:wxA:o1:state"
    assert KeyBuilder("x").build(StorageKey("o1"), "lock") == "x:-:o1:lock"
