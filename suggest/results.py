"""What the suggest use case takes and gives: a typed request, suggestions, an escalation, and the outcome."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from kb import content
from kb.errors import ValidationFailed

MAX_QUESTION = 4000
MAX_K = 10


class Outcome(StrEnum):
    ANSWER = "answer"
    NO_MATCH = "no_match"
    ESCALATE = "escalate"


@dataclass(frozen=True)
class Sla:
    first_response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class Route:
    department: str
    contacts: list[dict[str, Any]]
    sla: Sla | None


@dataclass(frozen=True)
class Suggestion:
    entry_id: int
    version: int
    question: str
    answer: str
    channel: str
    score: float
    confidence: str
    approved_by: str | None
    approved_at: str | None
    review_by: str | None
    category: str | None
    route: Route | None
    placeholders: list[str]
    probability: float | None = None  # measured P(right answer), where a confidence model applies
    department_id: int | None = None  # where an answered question is owed; never sent to clients

    def as_json(self) -> dict[str, Any]:
        """Return the suggestion as the API sends it."""
        body = asdict(self)
        del body["department_id"]
        return body


@dataclass(frozen=True)
class Escalation:
    kind: str
    rule_id: int | None
    department: str | None
    contacts: list[dict[str, Any]]
    holding_statement: str
    sla: Sla
    crisis_id: int | None = None
    crisis: str | None = None
    kinds: list[str] = field(default_factory=list)  # every red flag in the message, most severe first
    department_id: int | None = None  # who owes the answer; never sent to clients
    notify_department_ids: list[int] = field(default_factory=list)  # everyone concerned; never sent to clients

    def as_json(self) -> dict[str, Any]:
        """Return the escalation as the API sends it (crisis fields only for a crisis)."""
        body = asdict(self)
        del body["department_id"], body["notify_department_ids"]
        body["kinds"] = self.kinds or [self.kind]
        if self.crisis_id is None:
            del body["crisis_id"], body["crisis"]
        return body


@dataclass(frozen=True)
class SuggestRequest:
    question: str
    channel: str | None = None
    lang: str | None = None
    k: int = 3
    include_low: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any], *, default_k: int = 3) -> SuggestRequest:
        """Read a request body (already parsed JSON) and return it checked and cleaned, or raise ValidationFailed."""
        k = content.field(data, "k", (int,))
        return cls(
            question=content.field(data, "question", (str,), required=True),
            channel=content.field(data, "channel", (str,)),
            lang=content.field(data, "lang", (str,)),
            k=default_k if k is None else k,
            include_low=bool(content.field(data, "include_low", (bool,))),
        ).validated()

    def validated(self) -> SuggestRequest:
        """Check the values and return the request cleaned, or raise ValidationFailed."""
        if not isinstance(self.question, str):
            raise ValidationFailed("question must be a non-empty string")
        # PostgreSQL text cannot hold NUL; a red-flag message carrying one must still be recorded and escalated.
        question = self.question.replace("\x00", "")
        if not question.strip():
            raise ValidationFailed("question must be a non-empty string")
        if len(question) > MAX_QUESTION:
            raise ValidationFailed(f"question is longer than {MAX_QUESTION} characters")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= MAX_K:
            raise ValidationFailed(f"k must be a whole number from 1 to {MAX_K}")
        channel = content.normalise_channel(self.channel)
        lang = self.lang
        if lang is not None:
            if not isinstance(lang, str) or not (2 <= len(lang) <= 8) or not lang.replace("-", "").isalpha():
                raise ValidationFailed("lang must be a language code such as he or en")
            lang = lang.lower().split("-")[0]
        return SuggestRequest(question.strip(), channel, lang, self.k, self.include_low)


@dataclass
class SuggestResult:
    outcome: Outcome
    lang: str
    suggestions: list[Suggestion] = field(default_factory=list)
    escalation: Escalation | None = None
    inquiry_id: int | None = None
    took_ms: float = 0.0
    ranking: list[int] = field(default_factory=list)  # entry ids best first, whatever the outcome
    encode_ms: float = 0.0
    crisis_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the API's response body."""
        return {
            "outcome": self.outcome.value,
            "suggestions": [s.as_json() for s in self.suggestions],
            "escalation": self.escalation.as_json() if self.escalation else None,
            "inquiry_id": self.inquiry_id,
            "lang": self.lang,
            "took_ms": round(self.took_ms, 2),
        }
