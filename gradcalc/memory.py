"""Freed array memory kept for the next array, instead of handed back to the system and faulted in again.

An evaluation over arrays makes a temporary array per operation and frees it soon after. With
glibc's starting settings, a free that leaves more than 128 KiB at the top of the heap hands it
back to the system (M_TRIM_THRESHOLD), and a request of 128 KiB or more gets a fresh mapping
(M_MMAP_THRESHOLD); either way the next temporary's pages are new and each 4 KiB of them costs a
page fault. Measured with `python bench/malloc.py`: about 200 faults per evaluation of 10,000
elements, which made it 4-5x slower than its arithmetic; hand-written numpy suffers the same.

glibc raises both thresholds by itself, as far as 32 MiB and 64 MiB, once a process frees a large
mapped block (numpy code that has handled one large array already runs that way). This sets them
there from the first array, once per process: freed blocks of up to 32 MiB are reused, and at most
64 MiB of free heap is kept before it goes back to the system. Arrays larger than 32 MiB keep
their own mappings. Values and gradients do not change.

Nothing is done off glibc, on 32-bit builds, or when the user has set glibc's own malloc settings
(MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_, MALLOC_TOP_PAD_, MALLOC_MMAP_MAX_, or
the same as glibc.malloc tunables in GLIBC_TUNABLES): theirs win.
"""

import os
import sys

MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit, where its own raising stops
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # glibc's own rule when it raises the mmap threshold
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
# glibc's environment variables and tunables for the same settings (the tunables' names end in these)
_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_USER_TUNABLES = ("trim_threshold", "mmap_threshold", "top_pad", "mmap_max")

_done = False


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (once per process); True if they were set by this call."""
    global _done
    if _done:
        return False
    _done = True
    if not glibc() or sys.maxsize <= 2**32 or user_chose_malloc(os.environ):
        return False
    import ctypes

    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # the mmap threshold first: setting either one stops glibc's own raising of both
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def glibc() -> bool:
    """Whether this process runs on glibc (musl, macOS and Windows have other allocators)."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # no such name on this platform
        return False


def user_chose_malloc(environ) -> bool:
    """Whether the environment sets glibc's malloc itself, which gradcalc then leaves alone."""
    tunables = environ.get("GLIBC_TUNABLES", "")
    return any(name in environ for name in _USER_SETTINGS) or any(
        f"glibc.malloc.{name}" in tunables for name in _USER_TUNABLES)
