"""Ranking and answering: what happens to a question, stage by stage (`pipeline`).

One module per stage, in order: `query` (0), `candidates` (1), `fusion` (2), `evidence` (3),
`answer` (4), `abstain` (5); the nouns they pass (`types`), the matching helpers they share
(`matching`), the English→Chinese bridges stage 0 and 4 use (`pinyin`: romanised names;
`glossary`: the optional user dictionary; `wordbridge`: English words to the Chinese words of
the top passages, by the encoder's word vectors), and the numbers that were fitted
(`params`, `fitted`, with `params.json` and `abstention.json` beside them).
"""
