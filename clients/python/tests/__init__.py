"""Tests of cloche_client against a real `cloche serve` (see tests.server)."""
