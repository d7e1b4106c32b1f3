"""Benchmarks of chunyun: apart from the tests, run by hand (see docs/)."""
