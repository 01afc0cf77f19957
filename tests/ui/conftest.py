"""Fixtures for the window tests: make_window and the app-look reset live in tests/conftest.py."""
