import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


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
