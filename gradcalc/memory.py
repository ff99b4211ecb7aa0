"""Freed array memory kept for the next array, instead of handed back to the system and faulted in again.

An evaluation over arrays makes a temporary array per operation and frees it soon after. With
glibc's starting thresholds, a request of 128 KiB or more gets a mapping of its own, unmapped when
freed (M_MMAP_THRESHOLD), and a free that leaves more than 128 KiB at the top of the heap hands it
back to the system (M_TRIM_THRESHOLD): either way the next temporary's pages are new, and each
4 KiB of them costs a page fault (~90-200 a call at 1e4 elements, 1,500 at 1e5, 3,000 at 1e6).

glibc moves both thresholds itself: freeing a mapped block of up to 32 MiB raises the mmap
threshold to that block's size and the trim threshold to twice it. A process that has freed one
large array already runs that way; gradcalc starts there by freeing one unused 16 MiB block the
first time it is given an array (`python bench/malloc.py` measures the difference). From then on
glibc keeps adapting by its own rule, and where the user has set its thresholds (MALLOC_TRIM_THRESHOLD_,
MALLOC_MMAP_THRESHOLD_, MALLOC_TOP_PAD_, MALLOC_MMAP_MAX_ or the same glibc.malloc tunables) glibc
does not adapt, so this changes nothing. Other allocators see one allocation and its free.
"""

WARM_BLOCK = 16 << 20  # bytes: mapped, freed unused; glibc then maps only blocks of 16 MiB and up

_done = False


def keep_freed_memory() -> None:
    """Once per process: allocate and free one 16 MiB block, so that glibc raises its thresholds
    as freeing any array of that size would (its pages are never touched: no page faults)."""
    global _done
    if _done:
        return
    _done = True
    import numpy

    numpy.empty(WARM_BLOCK // 8)  # freed at once; numpy's cache keeps only blocks under 1 KiB
