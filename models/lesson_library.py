"""The built-in lessons (resources/lessons/*.json), in the order a course teaches them."""

from __future__ import annotations

import os
from pathlib import Path

from models.lesson import Lesson, LessonError, load
from models.safe_text import shorten

LESSON_DIR = Path(__file__).resolve().parent.parent / "resources" / "lessons"
LESSON_KEYS = ("vertical-edge", "step-edge", "sobel-step-edge", "horizontal-edge", "same-padding", "stride-2",
               "stride-unused", "rgb", "max-pool-4x4", "avg-pool-4x4", "max-pool-5x5")


def lesson_path(key: str) -> Path:
    if key not in LESSON_KEYS:
        raise LessonError(f"unknown lesson {key!r}; built-in lessons: {', '.join(LESSON_KEYS)}")
    return LESSON_DIR / f"{key}.json"


def open_lesson(name_or_path: str | os.PathLike) -> Lesson:
    """A built-in lesson by name, or a lesson file by path (a name that is also a file: the file wins)."""
    text = os.fspath(name_or_path)
    exists = os.path.exists(text)  # os.path: False, never an error, for a name too long or holding a NUL
    if text in LESSON_KEYS and not exists:
        return load(lesson_path(text))
    if not exists and not text.endswith(".json") and os.sep not in text:
        raise LessonError(f"{shorten(text, 100)}: no such file, and not a built-in lesson ({', '.join(LESSON_KEYS)})")
    return load(text)
