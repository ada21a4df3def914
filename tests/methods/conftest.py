"""Method tests: one intra-op thread.

The test machine's cores are shared by many processes; with torch's default of one OpenMP thread per core,
threads spin-wait for each other and small CPU forward/backward passes run 5-20x slower than on one thread.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
