"""The benchmarks time with the library's own helpers (one way to time code in the project)."""
from transformer_lib.timing import (  # noqa: F401
    compare,
    loglog_slope,
    machine_info,
    median_time,
    peak_memory_bytes,
    synchronize,
)
