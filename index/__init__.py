"""Chunking, embedding, FAISS + BM25 indexing and hybrid retrieval with extractive answers."""
