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


class DocumentNotFoundError(LookupError):
    """No document with the requested id."""


class CollectionNotFoundError(LookupError):
    """No collection with the requested name."""


class InvalidDocumentError(ValueError):
    """A document (or a file) that cannot be stored; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
