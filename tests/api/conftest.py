"""Fixtures of the HTTP contract tests; the server fixture lives in api_server.py (a unique module name,
so test modules can import its types without clashing with other folders' conftest modules)."""

from api_server import server

__all__ = ["server"]
