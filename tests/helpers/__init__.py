"""Helpers shared by the test directories, imported as ``helpers`` (setup.cfg puts tests/ on
the path)."""
