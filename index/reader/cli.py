"""`ragqa train reader`: reproduce the shipped reader from the training data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

WEIGHTS = Path(__file__).resolve().parent / "weights"

app = typer.Typer(help="Train the models this project ships.", no_args_is_help=True)


@app.command("reader")
def reader(
    data: Annotated[
        Path, typer.Option("--data", help="the training data folder (shared/data)")
    ] = Path("../shared/data"),
    work: Annotated[
        Path, typer.Option("--work", help="checkpoints; a run with the same folder resumes")
    ] = Path("var/reader-train"),
    out: Annotated[
        Path, typer.Option("--out", help="where the delta and manifest are written")
    ] = WEIGHTS,
    base: Annotated[
        Path | None, typer.Option("--base", help="the provisioned encoder folder")
    ] = None,
    epochs: Annotated[float, typer.Option(help="passes over the training groups")] = 1.0,
    max_questions: Annotated[
        int | None, typer.Option("--max-questions", help="train on a seeded sample (0: all)")
    ] = 8000,
    layers: Annotated[int, typer.Option(help="the base's lower layers the reader keeps")] = 12,
    frozen_layers: Annotated[
        int, typer.Option("--frozen-layers", help="of those, how many are not trained")
    ] = 6,
    threads: Annotated[int, typer.Option(help="torch threads")] = 2,
    seed: Annotated[int, typer.Option(help="the seed of every random choice")] = 20261207,
    start_from: Annotated[
        Path | None,
        typer.Option("--start-from", help="a trained reader's folder to start from"),
    ] = None,
    abstention: Annotated[
        bool,
        typer.Option(
            "--abstention",
            help="the abstention pass: near misses and nonsense taught as 'no answer' "
            "(with --start-from; see docs/reader.md)",
        ),
    ] = False,
) -> None:
    """Train the reader on CMRC 2018 train, DRCD and CC-CEDICT glosses (the defaults are the
    shipped reader's: about an hour on 2 cores); prints progress, the held-out figures and how
    long it took."""
    from index.encode.provision import default_model_dir
    from index.reader.train import TrainConfig, train

    if not (data / "cmrc2018-train").is_dir():
        typer.secho(f"error: {data} holds no cmrc2018-train/ (pass --data)", fg="red", err=True)
        raise typer.Exit(2)
    if abstention and start_from is None:
        typer.secho("error: --abstention needs --start-from (a trained reader)", fg="red", err=True)
        raise typer.Exit(2)
    if start_from is not None and not (start_from / "manifest.json").is_file():
        typer.secho(f"error: {start_from} holds no manifest.json", fg="red", err=True)
        raise typer.Exit(2)
    command = "ragqa train reader"
    if abstention:
        # the shipped reader: a first run, then this pass over it (docs/reader.md)
        command = (
            f"ragqa train reader --out {start_from} && ragqa train reader --start-from "
            f"{start_from} --abstention --max-questions {max_questions} --work {work}"
        )
    config = TrainConfig(
        data_dir=data,
        work_dir=work,
        out_dir=out,
        base=base or default_model_dir(),
        layers=layers,
        frozen_layers=frozen_layers,
        epochs=epochs,
        max_questions=max_questions or None,
        threads=threads,
        seed=seed,
        start_from=start_from,
        abstention=abstention,
        command=command,
        # the abstention pass goes on from trained weights: half the first run's rate
        learning_rate=5e-5 if abstention else TrainConfig.learning_rate,
        head_learning_rate=5e-4 if abstention else TrainConfig.head_learning_rate,
    )
    train(config)
