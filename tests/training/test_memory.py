"""retain_freed_memory: freed arrays are reused without page faults (glibc only).

Each test changes the allocator of a child process, never the test run's own."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

SCRIPT = """
import resource, sys
import numpy as np
from minigan.training.memory import retain_freed_memory

if sys.argv[1] == "retain":
    assert retain_freed_memory()
for _ in range(2):  # the first arrays of this size may fault in either policy
    a = np.ones(48 << 18, np.float32)  # 48 MiB, beyond glibc's largest mmap threshold
    del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    a = np.ones(48 << 18, np.float32)
    del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(policy: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT, policy], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt policy of glibc")
def test_retained_memory_serves_new_arrays_without_page_faults():
    assert page_faults("default") >= 5  # each new 48 MiB array is fresh pages from the kernel
    assert page_faults("retain") <= 2


def test_retain_freed_memory_says_whether_it_took_effect():
    code = "from minigan.training.memory import retain_freed_memory; print(retain_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == str(platform.libc_ver()[0] == "glibc")
