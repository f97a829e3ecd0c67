"""Searching: the structures a query reads, behind one view.

`view` (`IndexView`: the only reader of the arrays, FAISS and BM25 for the pipeline), `dense`
(FAISS, flat or per segment), `bm25` (bm25s and per-segment term statistics), `segmented`
(the live segments side by side as one view), `filters` (the catalog of collections and
metadata, and the allowed-rows mask), `backend` (where vectors and BM25 live: FAISS in the
process or `milvus`, behind one factory).
"""
