"""Intent and entity figures for an NLU evaluation, in pure Python: accuracy, per-intent
precision/recall/F1, macro F1, and exact-span entity precision/recall/F1.

Macro F1 averages over the intents present in the evaluated file. A prediction of a label that
is not among them (nlu_fallback, say) counts as a miss for the gold intent, not as a class.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class Prediction:
    text: str
    gold: str
    predicted: str
    confidence: float = 0.0
    gold_entities: frozenset[tuple[str, int, int]] = field(default_factory=frozenset)
    predicted_entities: frozenset[tuple[str, int, int]] = field(default_factory=frozenset)


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EntityScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class NluReport:
    total: int
    correct: int
    accuracy: float
    macro_f1: float
    per_intent: tuple[LabelScore, ...]
    fallbacks: int
    confusions: tuple[tuple[str, str, int], ...]
    entities: EntityScore

    @property
    def accuracy_interval(self) -> tuple[float, float]:
        """The 95% Wilson score interval of the accuracy."""
        return wilson_interval(self.correct, self.total)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% with z=1.96); sound near 0 and 1, unlike
    the normal approximation."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def intent_scores(pairs: list[tuple[str, str]]) -> tuple[LabelScore, ...]:
    """Per-intent scores for (gold, predicted) pairs, one per gold label, sorted by name."""
    gold_count = Counter(g for g, _ in pairs)
    pred_count = Counter(p for _, p in pairs)
    hits = Counter(g for g, p in pairs if g == p)
    scores = []
    for label in sorted(gold_count):
        precision = _ratio(hits[label], pred_count[label])
        recall = _ratio(hits[label], gold_count[label])
        scores.append(LabelScore(label, precision, recall, _f1(precision, recall), gold_count[label]))
    return tuple(scores)


def entity_score(predictions: list[Prediction]) -> EntityScore:
    """Exact match of (entity, start, end), micro-averaged over all examples."""
    tp = sum(len(p.gold_entities & p.predicted_entities) for p in predictions)
    n_pred = sum(len(p.predicted_entities) for p in predictions)
    n_gold = sum(len(p.gold_entities) for p in predictions)
    precision, recall = _ratio(tp, n_pred), _ratio(tp, n_gold)
    return EntityScore(precision, recall, _f1(precision, recall), n_gold)


def nlu_report(predictions: list[Prediction]) -> NluReport:
    """Score predictions against gold intents: accuracy,
    per-intent scores, fallbacks, confusions."""
    if not predictions:
        raise ValueError("no examples to evaluate")
    pairs = [(p.gold, p.predicted) for p in predictions]
    per_intent = intent_scores(pairs)
    correct = sum(1 for g, p in pairs if g == p)
    confusions = Counter((g, p) for g, p in pairs if g != p)
    return NluReport(
        total=len(pairs),
        correct=correct,
        accuracy=correct / len(pairs),
        macro_f1=sum(s.f1 for s in per_intent) / len(per_intent),
        per_intent=per_intent,
        fallbacks=sum(1 for _, p in pairs if p == FALLBACK_INTENT),
        confusions=tuple(
            (g, p, n) for (g, p), n in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
        entities=entity_score(predictions),
    )


def format_report(report: NluReport) -> str:
    """Render an NLU report as plain text: summary figures, then one line per intent."""
    width = max(len("intent"), *(len(s.label) for s in report.per_intent))
    lines = [
        (
            f"intent accuracy  {report.accuracy:.3f}  ({report.correct}/{report.total}), "
            f"95% CI {report.accuracy_interval[0]:.3f}-{report.accuracy_interval[1]:.3f}"
        ),
        f"intent macro F1  {report.macro_f1:.3f}",
        f"fallbacks        {report.fallbacks}",
        (
            f"entities (exact) P {report.entities.precision:.3f}  R {report.entities.recall:.3f}"
            f"  F1 {report.entities.f1:.3f}  ({report.entities.support} gold)"
        ),
        "",
        f"{'intent':<{width}}  precision  recall     f1  support",
    ]
    for s in report.per_intent:
        lines.append(
            f"{s.label:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}"
        )
    if report.confusions:
        lines += ["", "confusions (gold -> predicted: count)"]
        lines += [f"  {g} -> {p}: {n}" for g, p, n in report.confusions]
    return "\n".join(lines)
