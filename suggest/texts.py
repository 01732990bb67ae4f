"""What an approved version is matched on: its texts, and the weight of the wordings learned from customers."""
from __future__ import annotations

from kb.models import EntryVersion

# Two customers' questions look more alike to e5 than a question and PR's text do, related or not (unrelated pairs:
# .85 against .83 on he_service_dev), so at full weight a learned Hebrew wording pulled other questions to its entry:
# P@1 .414 -> .329 after accepting half of each entry's questions. At 0.95: .407, recall@5 .743 -> .764, while
# banking77 still gains (5 per intent accepted: .758 -> .840; at full weight .866). bench/learning.py measures it.
LEARNED_WEIGHT = 0.95


def version_texts(version: EntryVersion, include_answer: bool = True) -> list[str]:
    """Return the texts a version is matched on: its question, its alternate phrasings, the customers' wordings PR
    accepted for its entry, and question with answer.

    The answer is encoded together with its question rather than alone: measured on the shared English sets,
    that lifted P@1 (covidfaq .658 -> .668, banking77 .721 -> .744) without costing StackFAQ anything.
    """
    texts = [version.question, *(version.alternates or []), *learned_texts(version)]
    if include_answer:
        texts.append(f"{version.question}\n{version.answer}")
    return texts


def learned_texts(version: EntryVersion) -> list[str]:
    """Return the customers' wordings accepted for a version's entry that PR has not also written into it."""
    written = {version.question, *(version.alternates or [])}
    return [p.text for p in version.entry.learned_phrasings if p.text not in written]
