"""Test support shared by the suites of every package (importable as `support`: tests/ is on
sys.path through tests/conftest.py)."""
