"""worker.py's loop survives Redis failing while RQ's worker is being made (RQ names the worker in
Redis in its constructor): it waits for Redis and makes a new one instead of exiting."""
from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError

from app.jobs.executors import redis_queue


class _NoDispatcher:
    def __init__(self, *_args):
        pass

    def start(self):
        pass

    def stop(self):
        pass


def test_a_redis_error_while_making_the_rq_worker_is_waited_out(app, monkeypatch):
    made: list[str] = []
    waits: list[bool] = []

    class FlakyWorker:
        stop_requested = False

        def __init__(self, queues, connection):
            made.append("attempt")
            if len(made) == 1:
                raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        def work(self, **_kwargs):
            made.append("worked")
            self.stop_requested = True  # as SIGTERM would

    monkeypatch.setattr(redis_queue, "AppWorker", FlakyWorker)
    monkeypatch.setattr(redis_queue, "Dispatcher", _NoDispatcher)
    monkeypatch.setattr(redis_queue, "redis_from_config", lambda _config: object())
    monkeypatch.setattr(redis_queue, "wait_for_redis", lambda _conn, _stop: waits.append(True) or True)
    monkeypatch.setattr(redis_queue, "_on_stop_signal", lambda _stop: None)
    redis_queue.run_worker(app)
    assert made == ["attempt", "attempt", "worked"]
    assert waits == [True]
