"""The top floor: the project's URLconf, its home page and the demo loader.

It may import every app below it and nothing imports it (see tests/test_floors.py).
"""
