"""The int8 encoder: an ONNX export of the converted e5-small, quantised for the CPU.

`scripts/setup` makes it once into the model cache (about a minute on 2 cores); these tests
reuse that folder and make one more from scratch in a temporary directory. A missing or damaged
ONNX file is an error naming the file and the command that re-creates it; only
``encoder="auto"`` (RAGQA_ENCODER=auto) falls back to the fp32 PyTorch encoder, and says so.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.encode import provision
from index.encode.embedder import (
    DEFAULT_MODEL,
    Embedder,
    load_embedder,
    resolve_encoder,
)
from index.encode.int8 import INT8_ONNX, QUANTIZATION, int8_problem
from index.encode.provision import (
    INT8_FOLDER,
    MARKER,
    MODEL_FOLDER,
    default_int8_dir,
    provision_int8,
    provision_model,
)
from index.errors import ModelUnavailableError

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "e5-small-reference.npz"
REPO = Path(__file__).resolve().parents[2]
INT8_FILES = [
    "1_Pooling",
    "2_Normalize",
    "LICENSE",
    "README.md",
    "config.json",
    "config_sentence_transformers.json",
    "modules.json",
    "onnx",
    "provision.json",
    "sentence_bert_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
]


@pytest.fixture(scope="session")
def fp32_dir() -> Path:
    return provision_model(quiet=True)


@pytest.fixture(scope="session")
def int8_dir(fp32_dir: Path) -> Path:
    return provision_int8(quiet=True)


@pytest.fixture(scope="session")
def fp32(fp32_dir: Path) -> Embedder:
    return load_embedder(DEFAULT_MODEL, encoder="fp32")


@pytest.fixture(scope="session")
def int8(int8_dir: Path) -> Embedder:
    return load_embedder(DEFAULT_MODEL, encoder="int8")


def _reference_vectors(embedder: Embedder) -> np.ndarray:
    ref = np.load(REFERENCE, allow_pickle=False)
    texts = [str(t) for t in ref["texts"]]
    is_query = ref["is_query"].astype(bool)
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    out[is_query] = embedder.encode_queries([t for t, q in zip(texts, is_query, strict=True) if q])
    out[~is_query] = embedder.encode_passages(
        [t for t, q in zip(texts, is_query, strict=True) if not q]
    )
    return out


@pytest.mark.slow
def test_int8_vectors_match_fp32_on_the_76_reference_texts(int8: Embedder, fp32: Embedder) -> None:
    assert (int8.encoder, fp32.encoder) == ("int8", "fp32")
    got, want = _reference_vectors(int8), _reference_vectors(fp32)
    assert got.shape == want.shape == (76, 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(got * want, axis=1)
    print(f"\nint8 vs fp32 over 76 texts: min {cosines.min():.5f} mean {cosines.mean():.5f}")
    assert cosines.min() >= 0.99


def test_int8_batches_give_the_vectors_of_single_texts(int8: Embedder) -> None:
    texts = ["短", "一段很长很长的中文文本，" * 20, "medium length English passage here", "中"]
    batched = int8.encode_passages(texts, batch_size=4)
    alone = np.vstack([int8.encode_passages([t]) for t in texts])
    # Activations are quantised per call, so padding changes them a little; never the meaning.
    assert np.sum(batched * alone, axis=1).min() > 0.995
    assert int8.encode_queries([]).shape == (0, 384)


@pytest.mark.slow
def test_intra_op_threads_of_a_multi_threaded_encoder_do_not_spin(int8_dir: Path) -> None:
    from index.encode.onnx_encoder import SPINNING, OnnxEncoder

    two = OnnxEncoder(int8_dir, threads=2).session.get_session_options()
    assert (two.intra_op_num_threads, two.get_session_config_entry(SPINNING)) == (2, "0")
    one = OnnxEncoder(int8_dir, threads=1).session.get_session_options()
    assert one.intra_op_num_threads == 1  # no pool threads, nothing to spin


def test_limit_threads_sets_torch_blas_and_openmp_alike() -> None:
    # In its own process: the limits are process-wide and would outlive this test.
    code = (
        "from index.encode.embedder import limit_threads; limit_threads(1); import json, torch; "
        "from threadpoolctl import threadpool_info; "
        "print(json.dumps([torch.get_num_threads(), "
        "sorted({(p['user_api'], p['num_threads']) for p in threadpool_info()})]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    threads, pools = json.loads(out.stdout.splitlines()[-1])
    assert (threads, pools) == (1, [["blas", 1], ["openmp", 1]])


def test_default_encoder_is_int8_with_the_same_model_name(int8: Embedder) -> None:
    assert load_embedder.__kwdefaults__["encoder"] == "int8"
    assert int8.name == DEFAULT_MODEL and int8.dim == 384
    assert int8.model.max_seq_length == 512
    assert resolve_encoder("auto") == "int8"


def test_int8_folder_holds_the_onnx_file_tokenizer_and_its_record(
    int8_dir: Path, fp32_dir: Path
) -> None:
    assert int8_dir == default_int8_dir() == fp32_dir.with_name(INT8_FOLDER)
    assert sorted(p.name for p in int8_dir.iterdir()) == INT8_FILES
    assert [p.name for p in (int8_dir / "onnx").iterdir()] == ["model_qint8_avx512_vnni.onnx"]
    marker = json.loads((int8_dir / MARKER).read_text("utf-8"))
    fp32_marker = json.loads((fp32_dir / MARKER).read_text("utf-8"))
    assert marker["source_sha256"] == fp32_marker["source_sha256"]
    assert marker["quantization"] == QUANTIZATION
    assert marker["quantization"]["per_channel"] is True
    assert len(marker["onnx_sha256"]) == 64
    size = (int8_dir / INT8_ONNX).stat().st_size
    assert 100 << 20 < size < 130 << 20  # a quarter of the 470 MB fp32 weights
    assert int8_problem(int8_dir) is None


def test_second_int8_provisioning_does_not_rewrite(int8_dir: Path) -> None:
    files = [p for p in int8_dir.rglob("*") if p.is_file()]
    before = {p: p.stat().st_mtime_ns for p in files}
    assert provision_int8(quiet=True) == int8_dir
    assert {p: p.stat().st_mtime_ns for p in files} == before


@pytest.mark.slow
def test_int8_provisioning_replaces_leftovers_and_a_damaged_file(
    fp32_dir: Path, int8_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / INT8_FOLDER
    stale = tmp_path / f".{target.name}.tmp-crashed"
    stale.mkdir()
    (stale / "model_fp32.onnx").write_bytes(b"half")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    shutil.copytree(int8_dir, target)  # a complete folder whose ONNX file then got damaged
    damaged = bytearray((target / INT8_ONNX).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (target / INT8_ONNX).write_bytes(bytes(damaged))
    assert "is damaged" in str(int8_problem(target))

    assert provision_int8(target, source_dir=fp32_dir, quiet=True) == target
    assert sorted(p.name for p in target.iterdir()) == INT8_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == [INT8_FOLDER]
    assert int8_problem(target) is None
    before = (target / INT8_ONNX).stat().st_mtime_ns
    assert provision_int8(target, source_dir=fp32_dir, quiet=True) == target
    assert (target / INT8_ONNX).stat().st_mtime_ns == before


@pytest.fixture
def cache(tmp_path: Path, fp32_dir: Path, int8_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model cache whose fp32 folder is the real one and whose int8 folder is a copy a test
    may damage (only the ONNX file is copied; the rest are symlinks)."""
    root = tmp_path / "models"
    root.mkdir()
    (root / MODEL_FOLDER).symlink_to(fp32_dir)
    copy = root / INT8_FOLDER
    copy.mkdir()
    for path in int8_dir.iterdir():
        if path.name != "onnx":
            (copy / path.name).symlink_to(path)
    (copy / "onnx").mkdir()
    shutil.copyfile(int8_dir / INT8_ONNX, copy / INT8_ONNX)
    monkeypatch.setattr(provision, "MODEL_CACHE", root)
    return copy


def test_missing_onnx_file_is_an_error_naming_it_and_the_command(cache: Path) -> None:
    (cache / INT8_ONNX).unlink()
    with pytest.raises(ModelUnavailableError) as caught:
        load_embedder(DEFAULT_MODEL, encoder="int8")
    message = str(caught.value)
    assert f"the int8 encoder file {cache / INT8_ONNX} is missing" in message
    assert "run `python -m index.encode.provision`" in message
    assert "RAGQA_ENCODER=fp32" in message


@pytest.mark.parametrize("damage", ["flipped byte", "truncated"])
def test_damaged_onnx_file_is_an_error_naming_it(cache: Path, damage: str) -> None:
    path = cache / INT8_ONNX
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 3 :]
    path.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailableError, match="damaged") as caught:
        load_embedder(DEFAULT_MODEL, encoder="int8")
    assert str(path) in str(caught.value)
    assert "python -m index.encode.provision" in str(caught.value)


def test_auto_falls_back_to_fp32_only_when_asked_and_says_why(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (cache / INT8_ONNX).unlink()
    assert resolve_encoder("auto") == "fp32"
    with caplog.at_level(logging.WARNING, logger="ragqa.embedder"):
        embedder = load_embedder(DEFAULT_MODEL, encoder="auto")
    assert embedder.encoder == "fp32"
    assert f"{cache / INT8_ONNX} is missing" in caplog.text
    assert "using the fp32 PyTorch encoder instead" in caplog.text
    with pytest.raises(ModelUnavailableError):
        load_embedder(DEFAULT_MODEL)  # the default (int8) never falls back


def test_unknown_encoder_is_refused() -> None:
    with pytest.raises(ValueError, match="choose from int8, fp32, auto"):
        load_embedder(DEFAULT_MODEL, encoder="int4")


def test_a_folder_without_an_int8_export_says_to_use_fp32(fp32_dir: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="RAGQA_ENCODER=fp32") as caught:
        load_embedder(str(fp32_dir), encoder="int8")
    assert str(fp32_dir / INT8_ONNX) in str(caught.value)
    assert load_embedder(str(fp32_dir), encoder="auto").encoder == "fp32"
