"""The IAM proof tests' shared parts: the rendered policies (rendered once per session) and, at the
end, every decision: each allowed and each forbidden request, and the counts."""

from __future__ import annotations

from typing import Any

import pytest

from tools.iam import render
from tools.iam.proof import DECISIONS, write_report


@pytest.fixture(scope="session")
def rendered() -> dict[str, render.Rendered]:
    return render.render()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if DECISIONS:
        terminalreporter.section("IAM proof: every request and its decision")
        write_report(terminalreporter.write_line)
