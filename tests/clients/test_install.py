"""`pip install "./clients/python[langchain]"` into a fresh virtual environment: it installs
from the package registry without torch, FAISS or a model, and from there a real request to
the running server returns the passages the service gives."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ragqa_client import Client

pytestmark = pytest.mark.slow

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "clients" / "python"
INSTALL_TIMEOUT_S = 600  # a guard against a hanging download, not a measurement
QUERY = "白银炉能耗降低了多少"
HEAVY = ("torch", "faiss", "sentence_transformers", "transformers", "onnxruntime")
"""What the service needs and the client must not pull in (nor the service's own packages)."""
PROJECT = ("ragqa", "index", "service", "corpus")

PROBE = """
import importlib.util, json, sys
import ragqa_client
from ragqa_client import Client
from ragqa_client.langchain import RagqaRetriever

url, query = sys.argv[1], sys.argv[2]
with Client(url) as client:
    found = client.search(query, top_k=3)
docs = RagqaRetriever(base_url=url, k=3).invoke(query)
names = %r
print(json.dumps({
    "file": ragqa_client.__file__,
    "importable": [m for m in names if importlib.util.find_spec(m) is not None],
    "loaded": sorted({m.split(".")[0] for m in sys.modules} & set(names)),
    "passages": [p.model_dump(exclude_unset=True) for p in found.passages],
    "documents": [[d.page_content, d.metadata] for d in docs],
}))
"""


def _run(command: list[str], cwd: Path, timeout: float) -> str:
    """Run outside this test session's environment: no PYTHONPATH, no active venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{command[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_client_installs_into_a_fresh_venv_without_torch_or_faiss(
    client_server: str, tmp_path: Path
) -> None:
    # A copy, so the build leaves nothing in the checkout (setuptools writes build/ there).
    source = tmp_path / "ragqa-client"
    shutil.copytree(
        PACKAGE_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, 120)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "install", "--quiet", f"{source}[langchain]"], tmp_path, INSTALL_TIMEOUT_S)

    installed = {
        p["name"].lower() for p in json.loads(_run([*pip, "list", "--format=json"], tmp_path, 120))
    }
    assert {"ragqa-client", "httpx", "pydantic", "langchain-core"} <= installed
    assert (
        installed & {"torch", "faiss-cpu", "faiss-gpu", "sentence-transformers", "ragqa"} == set()
    )

    probe = tmp_path / "probe.py"
    probe.write_text(PROBE % (HEAVY + PROJECT,), encoding="utf-8")
    seen = json.loads(_run([python, str(probe), client_server, QUERY], tmp_path, 120))
    assert Path(seen["file"]).is_relative_to(venv)  # the installed copy, not the checkout's
    assert seen["importable"] == []
    assert seen["loaded"] == []

    with Client(client_server) as client:
        expected = client.search(QUERY, top_k=3).passages
    assert seen["passages"] == [p.model_dump(exclude_unset=True) for p in expected]
    assert len(seen["passages"]) == 3
    assert [text for text, _ in seen["documents"]] == [p.text for p in expected]
    assert [meta["doc_id"] for _, meta in seen["documents"]] == [p.doc_id for p in expected]
