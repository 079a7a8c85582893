"""Test doubles and protocol clients shared by tests and benchmarks (not used at run time)."""
