"""Fixtures of the model tests: one torch thread, and the public state-dict key lists."""

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (tests/conftest.py)."""
    yield


@pytest.fixture(scope="session")
def public_keys(shared):
    """public_keys(name) -> [(key, shape)] in order, from shared/reference/<name> (skips when absent)."""

    def read(name: str) -> list[tuple[str, tuple[int, ...]]]:
        path = shared / "reference" / name
        if not path.is_file():
            pytest.skip(f"reference key list {path} is absent")
        rows = [line.split("\t") for line in path.read_text().splitlines()[1:] if line]
        return [(r[0], tuple(int(d) for d in r[1].split("x"))) for r in rows if r[0] != "TOTAL"]

    return read
