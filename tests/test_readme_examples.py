"""The example outputs in README.md and docs/front-doors.md are what the service says today:
`scripts/readme_examples.py --check` regenerates them on an index of the bundled corpus and
fails naming any that changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_docs_example_outputs_are_the_service_s_own(index_dir: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "readme_examples.py"),
            "--check",
            "--index",
            str(index_dir),
        ],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    assert run.stdout.strip().endswith("2 examples checked")
