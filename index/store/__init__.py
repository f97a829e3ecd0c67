"""Storing: index directories, the document store and its segments, and building them.

`files` (an index directory of plain files: manifest, arrays, checksums; read and written
whole), `build` (corpus → index directory, incremental, one at a time per directory with
`buildlock`), `docstore` (the documents by collection: SQLite or any SQLAlchemy URL; its
rows as values and the collection-name rule are `records`), `segments` (one immutable segment
per committed batch), `ingest` (documents to a segment's rows and vectors), `writes` (what a
write takes and reports), `merge` (which segments are rewritten into one), `library` (the
store plus its segments: the one writer, merges, the view every engine reads),
`corpus_import` (the built corpus as the `default` collection).
"""
