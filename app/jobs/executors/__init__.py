"""The executors of outbox jobs, together: :mod:`.runner` runs one job (both executors call it),
:mod:`.threads` polls in the web process (in-process runner; Redis dispatcher), and
:mod:`.redis_queue` hands jobs to RQ and runs the worker process."""
