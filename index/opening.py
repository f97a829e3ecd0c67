"""Opening the library a `Settings` describes: the one way every front door and CLI does it.

The service and the MCP server open it to serve (the corpus index imported into collection
`default`, merges in the background); the document and index commands open it to write and
exit (`sync=False`: no import, merges in the foreground).
"""

from __future__ import annotations

from typing import Any

from index.rank.fitted import Fitted
from index.reader.runtime import Reader
from index.settings import Settings
from index.store.files import IndexManifest
from index.store.library import Library
from index.text.chunking import ChunkingParams


def open_library(settings: Settings, *, sync: bool = True, fitted: Fitted | None = None) -> Library:
    """The library in `settings.data_path()` (with a PostgreSQL store, only a cache of the
    segments the store holds: see `index.store.library`). With `sync` (serving), the corpus
    index is imported into `default` and checked against the model and encoder; without (a
    command that writes and exits), it is opened as it is, with merges in the foreground.

    The fitted bundle (`fitted`, else `index/rank/params.json`) is loaded once, checked
    against the corpus index (and, by the library, against its own configuration) and passed
    to the library, its engines and the backend."""
    from index.encode.embedder import load_embedder, resolve_encoder
    from index.rank.glossary import glossary_of
    from index.search.backend import open_backend

    fitted = fitted if fitted is not None else Fitted.load()
    reader = open_reader(settings)

    if not sync:
        encoder = resolve_encoder(settings.encoder, settings.model)
        embedder = load_embedder(settings.model, encoder=encoder)
        return Library.open(
            settings.data_path(),
            embedder,
            url=settings.store_url,
            background_merge=False,
            backend=open_backend(settings.backend, embedder.dim, settings.milvus(), fitted),
            glossary=glossary_of(settings.glossary),
            fitted=fitted,
            reader=reader,
            **library_options(corpus_manifest(settings)),
        )

    from index.errors import IndexMismatchError, IndexNotFoundError
    from index.store.files import read_index

    index = None
    if settings.import_corpus:
        try:
            index = read_index(settings.index_dir)
        except IndexNotFoundError:
            index = None
    encoder = resolve_encoder(settings.encoder, settings.model)
    if index is not None:
        if index.manifest.model != settings.model:
            raise IndexMismatchError(
                f"the index at {settings.index_dir} was built with model "
                f"{index.manifest.model!r}, not {settings.model!r}: rebuild it "
                f"(`ragqa build --model {settings.model}`)"
            )
        if index.manifest.encoder != encoder:
            raise IndexMismatchError(
                f"the index at {settings.index_dir} holds {index.manifest.encoder} vectors and "
                f"cannot be queried with {encoder} query vectors: rebuild it "
                f"(`ragqa build --encoder {encoder}`) or set "
                f"RAGQA_ENCODER={index.manifest.encoder}"
            )
    if index is not None:
        fitted.check(index.manifest, encoder, settings.index_dir)
    embedder = load_embedder(settings.model, encoder=encoder)
    backend = open_backend(settings.backend, embedder.dim, settings.milvus(), fitted)
    library = Library.open(
        settings.data_path(),
        embedder,
        url=settings.store_url,
        backend=backend,
        glossary=glossary_of(settings.glossary),
        fitted=fitted,
        reader=reader,
        **library_options(index.manifest if index is not None else None),
    )
    if index is not None:
        library.sync_corpus(index)
    elif settings.import_corpus and not library.store.segments():
        read_index(settings.index_dir)  # raises IndexNotFoundError, naming the directory
    return library


def open_reader(settings: Settings) -> Reader | None:
    """The trained reader `settings.reader` asks for, provisioned beside the encoder."""
    from index.encode.provision import default_model_dir
    from index.reader.runtime import reader_of

    return reader_of(settings.reader, default_model_dir().parent, settings.reader_threads)


def library_options(manifest: IndexManifest | None) -> dict[str, Any]:
    """How the library chunks and embeds new documents: as the corpus index was built (its
    manifest), so uploads and the imported corpus are cut alike; the defaults without one."""
    if manifest is None:
        return {}
    return {
        "chunking": ChunkingParams.from_manifest(manifest.chunking),
        "embed_titles": manifest.embed_titles,
    }


def corpus_manifest(settings: Settings) -> IndexManifest | None:
    """The manifest of the corpus index the library imports, if there is one."""
    from index.errors import IndexNotFoundError
    from index.store.files import read_manifest

    if not settings.import_corpus:
        return None
    try:
        return read_manifest(settings.index_dir)
    except IndexNotFoundError:
        return None
