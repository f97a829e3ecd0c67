"""Text: how cleaned documents are cut and read, with exact character offsets.

`tokenize` (jieba words, NFKC, numbers), `sentences` (sentence spans, long ones cut at clause
marks), `chunking` (passages: the recursive splitter with its offsets), `searchable` (whether a
text holds anything to search for). Pure functions; the build's pipeline hash covers them.
"""
