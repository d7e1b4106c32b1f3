"""Tests of the scenarios package: generator and bundled folders."""
