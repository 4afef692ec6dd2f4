import os
from pathlib import Path

import pytest

# The offscreen platform's own screen is 800x800, smaller than any laptop the window is sized for: the tests
# run on a 1920x1080 screen (and a 1366x768 one beside it, for the small-screen checks), described to Qt's
# offscreen plugin by a file. A display platform named by the caller (xcb under Xvfb) is left alone.
SCREENS = Path(__file__).with_name("offscreen_screens.json")
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={SCREENS}"


@pytest.fixture(autouse=True, scope="session")
def _runs_in_a_temporary_folder(tmp_path_factory):
    """The window's training runs go to a folder of the test session, never the user's cache."""
    os.environ["CONVSCOPE_RUNS_DIR"] = str(tmp_path_factory.mktemp("runs"))
    yield


def pytest_addoption(parser):
    parser.addoption(
        "--gc-on-job-threads", action="store_true",
        help="GUI tests: every thread started during a test first runs a garbage collection (saveall), and a "
             "test fails if that collection found Qt objects, which it would have destroyed off the GUI thread "
             "(tests/gui/qt_lifetime.py; docs/reliability.md#threads-and-object-lifetime)")
