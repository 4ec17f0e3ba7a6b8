"""Fixtures of the model tests: one torch thread, and the public state-dict key lists."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run faster on one thread than on two contended ones; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
