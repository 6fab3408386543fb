"""What the billing tests share: `billbot` run in-process on a database."""
from __future__ import annotations

import pytest

from bot.cli import main


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `billbot ARGS` on a database URL: (exit code, stdout, stderr)."""
    def run(url: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DATABASE_URL", url)
        rc = main(list(argv))
        out = capsys.readouterr()
        return rc, out.out, out.err

    return run
