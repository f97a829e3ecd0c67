"""Offline evaluation: question sets, metrics, retriever comparisons, reports, regression gate."""
