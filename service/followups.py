"""The question `/v1/ask` and `/v1/ask/stream` retrieve with: a follow-up rewritten with the
conversation's earlier questions (`context`) into a standalone one (`index.rank.followup`),
so the widget's conversation reads "那么金昌呢？" as the chat does."""

from __future__ import annotations

from collections.abc import Sequence

from index.rank.followup import standalone
from service.schemas import clean_question


def standalone_question(question: str, context: Sequence[str] | None) -> str:
    """`question`, rewritten when it is a follow-up of `context` (oldest first); a rewrite
    that is not a valid question (too long) falls back to the question as asked."""
    if not context:
        return question
    rewrite = standalone(context, question)
    try:
        return clean_question(rewrite.question) if rewrite.rewritten else question
    except ValueError:
        return question
