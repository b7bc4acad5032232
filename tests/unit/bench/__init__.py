"""Tests of the benchmark harness (bench/): its arithmetic and its load generator."""
