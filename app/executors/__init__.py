"""Executors run a runner's automatic stretch: inline (in-process, default) or on Celery workers."""
