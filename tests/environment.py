"""What a test needs from the machine. Outside CI a missing piece skips the test, with the
reason; in CI, which installs and starts everything (.ci/run, `make test`), it fails it."""
from __future__ import annotations

import os

import pytest


def needs(present: bool, reason: str) -> None:
    """Skip (outside CI) or fail (in CI) the calling test unless present."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)
