"""veneer's load benchmarks: the gateway measured side by side with its peers in one run.

``python -m bench`` (``make bench``) starts the sandbox, the gateway and the peers as real
processes on 127.0.0.1, drives bounded load at each of them, and writes ``bench/REPORT.md`` and
``bench/results/latest.json``. The targets are ratios against peers measured in the same run,
because absolute numbers on a shared two-core machine say little (../shared/DESIGN.md,
"Performance targets").
"""
