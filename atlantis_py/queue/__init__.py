"""Durable jobs: the queue, worker threads and processes, wake-ups, housekeeping."""
