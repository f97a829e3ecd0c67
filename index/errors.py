"""Typed errors of the index layer; the service maps each to an HTTP status in one place."""

from __future__ import annotations


class IndexError_(Exception):
    """Base class for index problems a user can act on."""


class IndexNotFoundError(IndexError_):
    """No index directory (or no manifest) where one was expected."""


class IndexMismatchError(IndexError_):
    """The index was built with another model, format or parameters than the caller asks for."""


class IndexCorruptError(IndexError_):
    """A file of the index directory is missing, truncated or inconsistent with the manifest."""


class ModelUnavailableError(IndexError_):
    """The embedding model cannot be loaded (not provisioned, bad path, hub download refused)."""


MAX_ECHOED_ID_CHARS = 100
"""At most this much of an unknown id is repeated back in the error message."""


class DocumentNotFoundError(LookupError):
    """No document with the requested id: raise it with the id, it words the message."""

    def __init__(self, doc_id: str, alias_of: str | None = None) -> None:
        super().__init__(doc_id)
        self.doc_id = doc_id
        self.alias_of = alias_of
        """The document `doc_id` is a stored copy (an alias) of, if it is one."""

    def __str__(self) -> str:
        message = f"no document with id {shown_id(self.doc_id)}"
        if self.alias_of is None:
            return message
        return (
            f"{message}: it is an alias of document {shown_id(self.alias_of)} (a copy of it "
            "from another outlet, listed in that document's aliases)"
        )


def shown_id(doc_id: str) -> str:
    """`doc_id` quoted for a message, cut to MAX_ECHOED_ID_CHARS (a 60,000-character id is not
    sent back whole)."""
    if len(doc_id) <= MAX_ECHOED_ID_CHARS:
        return repr(doc_id)
    return f"{doc_id[:MAX_ECHOED_ID_CHARS]!r}… ({len(doc_id):,} characters)"


class CollectionNotFoundError(LookupError):
    """No collection with the requested name."""


class SourceNotFoundError(LookupError):
    """No web source with the requested id in the collection."""


class InvalidDocumentError(ValueError):
    """A document (or a file) that cannot be stored; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class BackendUnavailableError(IndexError_):
    """The index backend (a Milvus server, say) cannot be reached or failed to answer in time."""


class StoreUnavailableError(BackendUnavailableError):
    """The document store's database (a PostgreSQL server, say) cannot be reached or failed
    under a statement: retry later (a 503, as an unreachable index backend)."""


class BackendConfigError(IndexError_):
    """The backend settings are wrong (an unknown backend, a URI it cannot use): the message
    names the setting."""


class StoreConfigError(BackendConfigError):
    """The document store's URL names a database this installation cannot open (an unknown
    dialect, a driver that is not installed)."""


def domain_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a command reports as one line (the index layer's and missing paths)."""
    return (IndexError_, DocumentNotFoundError, FileNotFoundError, NotADirectoryError)
