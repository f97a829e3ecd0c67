"""Train the reader (`ragqa train reader`): seeded, checkpointed, resumable.

Each step reads a batch of groups (a question and up to four candidate sentences). The loss is
listwise: a softmax over the candidates' scores and a fixed 0 for "no answer", so a score above
0 means "this sentence answers", and a group without a positive teaches the model to keep every
score below 0. A checkpoint (trainable weights, optimiser, step) is written every
`checkpoint_every` steps into the work folder; a run started again with the same work folder
continues from the last one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.reader.data import (
    Group,
    SpanQuestion,
    abstention_groups,
    gloss_question,
    load_cedict,
    load_cmrc_train,
    load_drcd,
    sentence_units,
    split_by_paragraph,
    training_groups,
)
from index.reader.model import (
    DELTA,
    InputShape,
    ReaderManifest,
    ReaderMismatchError,
    apply_delta,
    build_network,
    encode_pairs,
    file_sha256,
    trainable_names,
)

if TYPE_CHECKING:
    import torch
    from tokenizers import Tokenizer

DATA_SETS = [
    "CMRC 2018 train (Cui et al. 2019; ExpMRC release), CC BY-SA 4.0",
    "DRCD dev + test (Shao et al. 2018), CC BY-SA 3.0, converted with OpenCC t2s",
    "CC-CEDICT 2025-02-19 (MDBG), CC BY-SA 4.0, for glossed English questions",
]


@dataclass(frozen=True)
class TrainConfig:
    """Every choice of a training run (the manifest records them)."""

    data_dir: Path
    work_dir: Path
    out_dir: Path
    base: Path
    layers: int = 4
    frozen_layers: int = 1
    batch_groups: int = 8
    epochs: float = 1.0
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    held_out_share: float = 0.05
    seed: int = 20261207
    checkpoint_every: int = 100
    threads: int = 2
    max_questions: int | None = None
    held_out_questions: int = 600
    """How many held-out questions the final figures and the threshold are measured on."""
    start_from: Path | None = None
    """A trained reader (delta + manifest) to start from instead of the base alone."""
    abstention: bool = False
    """The abstention pass: `abstention_groups` (near misses and nonsense) on a sample of
    training questions other than the first run's seeded sample."""
    command: str = "ragqa train reader"
    """The command(s) that reproduce this run, for the manifest."""


def _batch_tensors(
    tokenizer: Tokenizer, batch: list[Group], shape: InputShape
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch

    rows: list[list[int]] = []
    width = max(len(g.candidates) for g in batch)
    mask = torch.zeros(len(batch), width, dtype=torch.bool)
    pad_id = 1
    for i, group in enumerate(batch):
        ids, _, pad_id = encode_pairs(tokenizer, group.question, list(group.candidates), shape)
        rows += ids
        mask[i, : len(ids)] = True
    input_ids, attention = _padded(rows, pad_id)
    labels = torch.tensor([g.label + 1 for g in batch])  # 0 = "no answer"
    return input_ids, attention, mask, labels


def _padded(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows padded to the longest: (input ids, attention mask)."""
    import torch

    length = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), length), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = torch.tensor(row)
        attention[i, : len(row)] = 1
    return input_ids, attention


def _length_batches(groups: list[Group], size: int, seed: int) -> list[list[Group]]:
    """Batches of groups of similar length (less padding), in a seeded random order."""
    batches: list[list[Group]] = []
    block = size * 50
    for at in range(0, len(groups), block):
        chunk = sorted(groups[at : at + block], key=lambda g: max(len(c) for c in g.candidates))
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    random.Random(seed).shuffle(batches)
    return batches


def _group_logits(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    import torch

    logits = torch.full(mask.shape, -1e4, dtype=scores.dtype)
    logits[mask] = scores
    null = torch.zeros(mask.shape[0], 1, dtype=scores.dtype)
    return torch.cat([null, logits], dim=1)


def score_sentences(
    network: torch.nn.Module,
    tokenizer: Tokenizer,
    question: str,
    sentences: list[str],
    shape: InputShape,
) -> list[float]:
    """The reader's score of each sentence (above 0: it answers the question)."""
    import torch

    ids, _, pad_id = encode_pairs(tokenizer, question, sentences, shape)
    input_ids, attention = _padded(ids, pad_id)
    with torch.no_grad():
        return [float(x) for x in network(input_ids, attention)]


def held_out_figures(
    network: torch.nn.Module,
    tokenizer: Tokenizer,
    questions: list[SpanQuestion],
    shape: InputShape,
    glosses: dict[str, str] | None = None,
) -> tuple[dict[str, float], list[float]]:
    """Right sentence first within the paragraph, and each question's best score."""
    network.eval()
    right = total = 0
    best_scores: list[float] = []
    rng = random.Random(0)
    for question in questions:
        units = sentence_units(question)
        if units is None:
            continue
        texts, gold = units
        text = question.question
        if glosses is not None:
            text = gloss_question(text, glosses, rng)
        scores = score_sentences(network, tokenizer, text, texts, shape)
        best = max(range(len(scores)), key=scores.__getitem__)
        right += best == gold
        best_scores.append(scores[best])
        total += 1
    network.train()
    return {"sentence_first": right / max(total, 1), "n": total}, best_scores


def unanswerable_scores(
    network: torch.nn.Module,
    tokenizer: Tokenizer,
    questions: list[SpanQuestion],
    shape: InputShape,
) -> list[float]:
    """Each question's best score over the sentences of another held-out paragraph that does
    not hold its answer: what the reader says when the corpus does not answer."""
    network.eval()
    out: list[float] = []
    for i, question in enumerate(questions):
        other = questions[(i + 7) % len(questions)]
        if other.paragraph_id == question.paragraph_id or question.answer in other.context:
            continue
        units = sentence_units(other)
        if units is None:
            continue
        out.append(max(score_sentences(network, tokenizer, question.question, units[0], shape)))
    network.train()
    return out


def nonsense_scores(
    network: torch.nn.Module,
    tokenizer: Tokenizer,
    questions: list[SpanQuestion],
    shape: InputShape,
    glosses: dict[str, str],
    count: int = 200,
) -> list[float]:
    """The best score of `count` nonsense questions (`nonsense_question`, seeded) over the
    sentences of held-out paragraphs."""
    from index.reader.data import nonsense_question, nonsense_vocabulary
    from index.text.sentences import split_sentences

    network.eval()
    rng = random.Random(1)
    english, headwords = nonsense_vocabulary(glosses)
    out: list[float] = []
    for question in questions[:count]:
        spans = split_sentences(question.context)
        texts = [question.context[s.char_start : s.char_end] for s in spans]
        asked = nonsense_question(english, headwords, question.context, rng)
        out.append(max(score_sentences(network, tokenizer, asked, texts, shape)))
    network.train()
    return out


def calibrate(
    answerable: list[float], unanswerable: list[float], max_null: float = 0.03
) -> tuple[float, float]:
    """The threshold that answers `null` for at most `max_null` of the answerable held-out
    questions, and the share of unanswerable ones it then refuses."""
    ranked = sorted(answerable)
    threshold = ranked[int(len(ranked) * max_null)] if ranked else 0.0
    refused = sum(s < threshold for s in unanswerable) / max(len(unanswerable), 1)
    return threshold, refused


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def train(config: TrainConfig, log: object = sys.stderr) -> ReaderManifest:
    """Run (or resume) a training run and write the delta and manifest into `out_dir`."""
    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer

    def say(message: str) -> None:
        print(message, file=log, flush=True)  # type: ignore[call-overload]

    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    shape = InputShape()
    tokenizer = Tokenizer.from_file(str(config.base / "tokenizer.json"))
    cmrc = load_cmrc_train(config.data_dir)
    drcd = load_drcd(config.data_dir)
    say(
        f"data: CMRC train {len(cmrc.questions)} questions ({cmrc.bad_offsets} bad offsets "
        f"skipped), DRCD {len(drcd.questions)} ({drcd.bad_offsets} skipped)"
    )
    train_q, held_q = split_by_paragraph(
        cmrc.questions + drcd.questions, config.held_out_share, config.seed
    )
    glosses = load_cedict(config.data_dir)
    if config.abstention:
        # another seeded sample than the first run's, so that its questions are new to it
        sample_seed = config.seed + 1
        if config.max_questions is not None:
            train_q = random.Random(sample_seed).sample(train_q, config.max_questions)
        groups = abstention_groups(train_q, glosses, seed=sample_seed)
    else:
        if config.max_questions is not None:
            train_q = random.Random(config.seed).sample(train_q, config.max_questions)
        groups = training_groups(train_q, glosses, seed=config.seed)
    batches = _length_batches(groups, config.batch_groups, config.seed)
    steps_per_epoch = len(batches)
    total_steps = int(steps_per_epoch * config.epochs)
    say(f"train: {len(train_q)} questions -> {len(groups)} groups, {total_steps} steps")

    network = build_network(config.base, config.layers)
    names = set(trainable_names(network, config.frozen_layers))
    if config.start_from is not None:
        started_from = ReaderManifest.read(config.start_from)
        if started_from.layers != config.layers or set(started_from.trained) != names:
            raise ReaderMismatchError(
                f"{config.start_from}: a reader of {started_from.layers} layers training "
                f"{len(started_from.trained)} tensors cannot start a run of {config.layers} "
                f"layers with {config.frozen_layers} frozen"
            )
        apply_delta(network, config.start_from, started_from)
        parent = file_sha256(config.start_from / DELTA)[:12]
        say(f"starting from {config.start_from} (delta sha256 {parent}...)")
    for name, parameter in network.named_parameters():
        parameter.requires_grad = name in names
    head = [p for n, p in network.named_parameters() if n.startswith("head.")]
    body = [p for n, p in network.named_parameters() if n in names and not n.startswith("head.")]
    optimiser = torch.optim.AdamW(
        [
            {"params": body, "lr": config.learning_rate},
            {"params": head, "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    warmup = max(total_steps // 20, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min(
            (step + 1) / warmup, max(0.0, (total_steps - step) / (total_steps - warmup))
        ),
    )
    config.work_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = config.work_dir / "checkpoint.pt"
    step = 0
    if checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=True)
        own = dict(network.named_parameters())
        with torch.no_grad():
            for name, tensor in saved["weights"].items():
                own[name].copy_(tensor)
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        step = int(saved["step"])
        say(f"resumed at step {step}")

    network.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    running = 0.0
    tick = time.perf_counter()
    while step < total_steps:
        batch = batches[step % steps_per_epoch]
        input_ids, attention, mask, labels = _batch_tensors(tokenizer, batch, shape)
        scores = network(input_ids, attention)
        loss = loss_fn(_group_logits(scores, mask), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in network.parameters() if p.requires_grad], 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        running += float(loss.detach())
        step += 1
        if step % 20 == 0:
            rate = 20 * config.batch_groups / (time.perf_counter() - tick)
            say(f"step {step}/{total_steps} loss {running / 20:.4f} ({rate:.1f} groups/s)")
            running = 0.0
            tick = time.perf_counter()
        if step % config.checkpoint_every == 0 or step == total_steps:
            weights = {n: p.detach().clone() for n, p in network.named_parameters() if n in names}
            tmp = checkpoint.with_suffix(".tmp")
            torch.save(
                {
                    "weights": weights,
                    "optimiser": optimiser.state_dict(),
                    "schedule": schedule.state_dict(),
                    "step": step,
                },
                tmp,
            )
            os.replace(tmp, checkpoint)

    sample = random.Random(config.seed).sample(held_q, min(len(held_q), config.held_out_questions))
    zh, zh_best = held_out_figures(network, tokenizer, sample, shape)
    en, _ = held_out_figures(network, tokenizer, sample[: len(sample) // 2], shape, glosses)
    threshold, refused = calibrate(zh_best, unanswerable_scores(network, tokenizer, sample, shape))
    _, nonsense = calibrate(zh_best, nonsense_scores(network, tokenizer, sample, shape, glosses))
    say(
        f"held out ({len(sample)} questions, whole paragraphs): right sentence first "
        f"zh {zh['sentence_first']:.3f}, glossed en {en['sentence_first']:.3f}; threshold "
        f"{threshold:.3f} (3% answerable null) refuses {refused:.3f} of unanswerable, "
        f"{nonsense:.3f} of nonsense"
    )
    config.out_dir.mkdir(parents=True, exist_ok=True)
    delta = {
        n: p.detach().to(torch.float16).contiguous()
        for n, p in network.named_parameters()
        if n in names
    }
    tmp_delta = config.out_dir / (DELTA + ".tmp")
    save_file(delta, str(tmp_delta))
    os.replace(tmp_delta, config.out_dir / DELTA)
    manifest = ReaderManifest(
        base_model=config.base.name,
        base_sha256=file_sha256(config.base / "model.safetensors"),
        layers=config.layers,
        trained=sorted(names),
        shape=shape,
        data=DATA_SETS,
        command=config.command,
        commit=_commit(),
        seed=config.seed,
        steps=total_steps,
        held_out={
            "zh_sentence_first": round(zh["sentence_first"], 4),
            "glossed_en_sentence_first": round(en["sentence_first"], 4),
            "threshold": round(threshold, 4),
            "unanswerable_refused": round(refused, 4),
            "nonsense_refused": round(nonsense, 4),
        },
    )
    manifest.write(config.out_dir)
    say(f"trained in {time.perf_counter() - started:.0f} s; wrote {config.out_dir}")
    (config.work_dir / "done.json").write_text(json.dumps(manifest.held_out), encoding="utf-8")
    return manifest
