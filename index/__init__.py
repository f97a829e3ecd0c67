"""Documents → chunks → vectors + BM25 → an index directory; retrieval and extractive answers.

Rooms, by what changes together: `text/` (tokens, sentences, passages), `encode/` (the model
and its vectors), `search/` (FAISS, BM25, the view a query reads, the backends), `store/`
(index directories, the document store and its segments, building them), `rank/` (the
pipeline, stage by stage, and its fitted numbers). At the top: `engine` (load, ask, search,
retrieve), `contents` (documents, collections and the scope of a query), `opening`
(`open_library(settings)`), `settings`, `errors`, `types` and the `cli`.
"""
