"""One router per resource: ask, search, documents, admin, operations, widget."""
