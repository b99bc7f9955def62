"""Fuzz tests run with a fixed profile: derandomized (the same examples on every
run, so CI is deterministic), no example database on disk, no deadline (the
machine is shared), and few enough examples to stay fast."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "atlantis-fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("atlantis-fuzz")
