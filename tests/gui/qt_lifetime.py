"""Finds Qt objects that only Python's cyclic collector would free: the ones that could die on a worker thread.

A Qt object must be destroyed on the thread it lives on. Reference counting frees an object where its last
reference is dropped (the GUI thread, for widgets); the cyclic collector frees a cycle on whichever thread runs
the collection. `qt_objects_a_worker_collection_would_free()` runs a collection on a worker thread as
`gc.DEBUG_SAVEALL` (the unreachable objects are kept in `gc.garbage` instead of being freed), reports the Qt
objects among them, and then frees them here, on the calling (GUI) thread. So a cycle is reported, never
destroyed on the wrong thread (which could crash the test run rather than fail one test).
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject


def qt_objects_in_garbage(start: int = 0) -> list[str]:
    """Describe the QObjects in `gc.garbage[start:]` (class and object name)."""
    found = []
    for obj in gc.garbage[start:]:
        if isinstance(obj, QObject):
            try:
                name = obj.objectName()
            except RuntimeError:  # its C++ side is already gone: nothing Qt left to destroy
                continue
            found.append(f"{type(obj).__module__}.{type(obj).__qualname__}" + (f" ({name!r})" if name else ""))
    return found


_SAVEALL = threading.Lock()  # the debug flags are the process's: one saveall collection at a time


def saveall_collection() -> list[str]:
    """Collect on the current thread, keeping the unreachable objects in gc.garbage; the Qt objects found."""
    with _SAVEALL:
        start = len(gc.garbage)
        flags = gc.get_debug() & ~gc.DEBUG_SAVEALL
        gc.set_debug(flags | gc.DEBUG_SAVEALL)
        try:
            gc.collect()
        finally:
            gc.set_debug(flags)
        return qt_objects_in_garbage(start)


def release_garbage() -> None:
    """Free what saveall collections kept, on the calling thread (call it on the GUI thread)."""
    with _SAVEALL:
        garbage = gc.garbage[:]
        gc.garbage.clear()
        del garbage  # cycles stay cycles without the list: collect them here, on this thread
        gc.collect()


def qt_objects_a_worker_collection_would_free() -> list[str]:
    """Run a collection on a fresh worker thread (saveall), free its garbage on this thread, and return the Qt
    objects that collection would have destroyed on the worker."""
    found: list[str] = []
    worker = threading.Thread(target=lambda: found.extend(saveall_collection()), name="collecting worker")
    worker.start()
    worker.join()
    release_garbage()
    return found
