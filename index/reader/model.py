"""The reader network and the form it ships in.

The network is the lower `layers` transformer layers of the provisioned multilingual-e5-small
encoder (its embeddings and those layers, as BERT) and a linear head on the mean of the token
states of ``<s> question </s></s> sentence </s>``. Only the upper layers and the head are
trained, so what ships is a *delta*: those tensors in fp16 (a few MB per layer) with a
manifest naming the base model file it applies to; `index.reader.export` rebuilds the full
model from the base at set-up and exports it to int8 ONNX.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import ModelUnavailableError

if TYPE_CHECKING:
    import torch
    from tokenizers import Tokenizer

MANIFEST = "manifest.json"
DELTA = "delta.safetensors"
FORMAT_VERSION = 1


class ReaderMismatchError(ModelUnavailableError):
    """The shipped reader does not fit the base model (or is damaged); the message names why."""


@dataclass(frozen=True)
class InputShape:
    """How a (question, sentence) pair becomes token ids."""

    max_question_tokens: int = 32
    max_tokens: int = 96


@dataclass(frozen=True)
class ReaderManifest:
    """What the shipped delta is and where it came from."""

    base_model: str
    """The base model's name (the provisioned encoder folder)."""
    base_sha256: str
    """sha256 of the base model's weights file the delta applies to."""
    layers: int
    """How many of the base's transformer layers the reader keeps."""
    trained: list[str]
    """The parameter names the delta holds (all others come from the base)."""
    shape: InputShape
    data: list[str]
    """The data sets trained on, with their licences."""
    command: str
    commit: str
    seed: int
    steps: int
    held_out: dict[str, float] = field(default_factory=dict)
    """Figures on the training run's own held-out paragraphs."""
    format_version: int = FORMAT_VERSION

    def write(self, folder: Path) -> None:
        """Write the manifest as JSON into `folder`."""
        (folder / MANIFEST).write_text(
            json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    @classmethod
    def read(cls, folder: Path) -> ReaderManifest:
        """Read and check a manifest; a missing or malformed one is refused by name."""
        path = folder / MANIFEST
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReaderMismatchError(f"{path}: cannot be read ({exc})") from exc
        if raw.get("format_version") != FORMAT_VERSION:
            raise ReaderMismatchError(
                f"{path}: format_version {raw.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        try:
            raw["shape"] = InputShape(**raw["shape"])
            return cls(**raw)
        except (KeyError, TypeError) as exc:
            raise ReaderMismatchError(f"{path}: malformed manifest ({exc})") from exc


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _token(tokenizer: Tokenizer, token: str) -> int:
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ReaderMismatchError(f"the reader's tokenizer has no {token} token")
    return int(found)


def encode_pairs(
    tokenizer: Tokenizer, question: str, sentences: list[str], shape: InputShape
) -> tuple[list[list[int]], int, int]:
    """Token ids of ``<s> q </s></s> s </s>`` for each sentence; (ids, cls id, pad id)."""
    cls_id, sep_id, pad_id = (_token(tokenizer, t) for t in ("<s>", "</s>", "<pad>"))
    q_ids = tokenizer.encode(question, add_special_tokens=False).ids[: shape.max_question_tokens]
    room = shape.max_tokens - len(q_ids) - 4
    encoded = tokenizer.encode_batch(sentences, add_special_tokens=False)
    rows = [[cls_id, *q_ids, sep_id, sep_id, *e.ids[:room], sep_id] for e in encoded]
    return rows, cls_id, pad_id


def build_network(base: Path, layers: int) -> torch.nn.Module:
    """The reader: the base encoder cut to `layers` layers, with a fresh linear head."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(str(base))
    config.num_hidden_layers = layers
    config.add_pooling_layer = False

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel(config, add_pooling_layer=False)
            self.head = torch.nn.Linear(config.hidden_size, 1)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
            # mean over the tokens, as the encoder was trained to pool (its first token's
            # state was never trained to summarise)
            weights = attention_mask.unsqueeze(-1).to(hidden.last_hidden_state.dtype)
            pooled = (hidden.last_hidden_state * weights).sum(1) / weights.sum(1)
            return self.head(pooled).squeeze(-1)

    network = Reader()
    state = load_file(str(base / "model.safetensors"))
    prefix = next((p for p in ("bert.", "") if any(k.startswith(p) for k in state)), "")
    own = network.encoder.state_dict()
    loaded = {
        k[len(prefix) :]: v
        for k, v in state.items()
        if k.startswith(prefix) and k[len(prefix) :] in own
    }
    missing = [k for k in own if k not in loaded]
    if missing:
        raise ReaderMismatchError(f"{base}: base weights lack {missing[:3]}")
    network.encoder.load_state_dict(loaded)
    return network


def trainable_names(network: torch.nn.Module, frozen_layers: int) -> list[str]:
    """The parameters trained: the layers above `frozen_layers` and the head."""
    names = []
    for name, _ in network.named_parameters():
        layer = name.startswith("encoder.encoder.layer.") and int(name.split(".")[3])
        if name.startswith("head.") or (layer is not False and layer >= frozen_layers):
            names.append(name)
    return names


def apply_delta(network: torch.nn.Module, folder: Path, manifest: ReaderManifest) -> None:
    """Load the shipped delta into `network`, refusing a delta that does not fit it by name."""
    from safetensors.torch import load_file

    path = folder / DELTA
    try:
        delta = load_file(str(path))
    except Exception as exc:
        raise ReaderMismatchError(f"{path}: cannot be read ({exc})") from exc
    own = dict(network.named_parameters())
    if sorted(delta) != sorted(manifest.trained):
        extra = sorted(set(delta) ^ set(manifest.trained))[:3]
        raise ReaderMismatchError(f"{path}: tensors differ from the manifest's list: {extra}")
    for name, tensor in delta.items():
        if name not in own:
            raise ReaderMismatchError(f"{path}: {name} is not a parameter of the reader")
        if tuple(own[name].shape) != tuple(tensor.shape):
            raise ReaderMismatchError(
                f"{path}: {name} has shape {tuple(tensor.shape)}, "
                f"the reader expects {tuple(own[name].shape)}"
            )
    import torch

    with torch.no_grad():
        for name, tensor in delta.items():
            own[name].copy_(tensor.float())


def check_base(base: Path, manifest: ReaderManifest) -> None:
    """Refuse a delta trained on another base model, naming both."""
    actual = file_sha256(base / "model.safetensors")
    if actual != manifest.base_sha256:
        raise ReaderMismatchError(
            f"the reader was trained on base weights {manifest.base_sha256[:12]}, "
            f"but {base / 'model.safetensors'} is {actual[:12]}; run `ragqa train reader`"
        )
