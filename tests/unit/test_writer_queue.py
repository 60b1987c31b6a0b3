"""SQLite writers take turns (homeserver/db.py WriterQueue): threads of one process in the
order they came, processes through a lock file the kernel hands on; and whatever the order,
each write commits whole with its own stream position."""

import multiprocessing
import threading

import pytest

from homeserver import db
from homeserver.db import WriterQueue, _TurnLock
from homeserver.services.streams import positions
from helpers.waiting import wait_until


def test_waiting_threads_get_the_lock_in_the_order_they_came():
    lock = _TurnLock()
    assert lock.acquire(timeout=1)
    order, threads = [], []

    def waiter(n):
        assert lock.acquire(timeout=30)
        order.append(n)
        lock.release()

    for n in range(6):
        thread = threading.Thread(target=waiter, args=(n,))
        thread.start()
        threads.append(thread)
        assert wait_until(lambda: len(lock._waiting) == n + 1)
    lock.release()
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4, 5]
    assert lock.acquire(timeout=1)  # free again once everyone is done
    lock.release()


def test_a_waiter_that_gives_up_leaves_the_queue():
    lock = _TurnLock()
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.01)
    assert not lock._waiting
    lock.release()
    assert lock.acquire(timeout=1)


def test_writer_queue_holds_the_lock_file_while_writing(tmp_path):
    import fcntl
    import os

    queue = WriterQueue(str(tmp_path / "homeserver.db"))
    other = os.open(queue.path, os.O_RDWR | os.O_CREAT)
    try:
        with queue.turn(timeout=1):
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once the turn is over
    finally:
        os.close(other)


def _write_positions(path: str, count: int, results) -> None:
    database = db.init_database(path, 4)
    taken = []
    for _ in range(count):
        with db.write_transaction():
            position = positions.next_position()
            database.execute_sql("INSERT INTO queue_check (position, pid) VALUES (?, ?)",
                                 (position, multiprocessing.current_process().pid))
            taken.append(position)
    database.close_all()
    results.put(taken)


def test_processes_and_threads_writing_at_once_get_distinct_ordered_positions(tmp_path):
    path = str(tmp_path / "homeserver.db")
    database = db.init_database(path, 4)
    db.migrate()
    database.execute_sql("CREATE TABLE queue_check (position INTEGER, pid INTEGER)")
    start = database.execute_sql("SELECT position FROM stream_counter").fetchone()[0]
    database.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_write_positions, args=(path, 25, results))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    taken = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    database = db.init_database(path, 4)
    with database.connection_context():
        rows = database.execute_sql("SELECT position FROM queue_check ORDER BY rowid").fetchall()
        counter = positions.current_position()
    stored = [p for (p,) in rows]
    everything = sorted(p for mine in taken for p in mine)
    assert everything == list(range(start + 1, start + 76))  # none lost, none repeated
    assert stored == everything  # committed in the order the positions were handed out
    assert counter == start + 75
    for mine in taken:
        assert mine == sorted(mine)
    database.close_all()



def test_writers_waiting_for_their_turn_leave_connections_to_readers(tmp_path):
    """Writers queued behind a long write give their pooled connection back while they wait:
    readers are still served (the pool has 2 connections; 3 writers wait)."""
    from playhouse.pool import MaxConnectionsExceeded

    database = db.init_database(str(tmp_path / "homeserver.db"), 2)
    database._wait_timeout = 1
    database.execute_sql("CREATE TABLE t (n INTEGER)")
    database.close()
    holding, release = threading.Event(), threading.Event()

    def long_writer():
        with db.write_transaction():
            database.execute_sql("INSERT INTO t VALUES (1)")
            holding.set()
            release.wait(30)
        database.close()

    def queued_writer():
        database.execute_sql("SELECT count(*) FROM t").fetchone()  # a request reads first
        with db.write_transaction():
            database.execute_sql("INSERT INTO t VALUES (2)")
        database.close()

    threads = [threading.Thread(target=long_writer)]
    threads[0].start()
    assert holding.wait(30)
    queue = db.writer_queue(database)
    threads += [threading.Thread(target=queued_writer) for _ in range(3)]
    for thread in threads[1:]:
        thread.start()
    try:
        assert wait_until(lambda: len(queue._threads._waiting) == 3)
        try:
            (count,) = database.execute_sql("SELECT count(*) FROM t").fetchone()
        except MaxConnectionsExceeded:
            pytest.fail("the waiting writers held every pooled connection")
        assert count == 0  # the long write has not committed
        database.close()
    finally:
        release.set()
        for thread in threads:
            thread.join()
    with database.connection_context():
        assert database.execute_sql("SELECT count(*) FROM t").fetchone() == (4,)
    database.close_all()
