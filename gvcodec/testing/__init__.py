"""Test helpers that ship with the package (the pretend accelerator of tests/test_devices.py)."""
