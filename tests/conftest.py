import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True, scope="session")
def _runs_in_a_temporary_folder(tmp_path_factory):
    """The window's training runs go to a folder of the test session, never the user's cache."""
    os.environ["CONVSCOPE_RUNS_DIR"] = str(tmp_path_factory.mktemp("runs"))
    yield
