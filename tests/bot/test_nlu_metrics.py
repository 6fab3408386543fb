"""NLU figures against confusion examples computed by hand."""
from __future__ import annotations

import pytest

from bot.nlu_metrics import Prediction, entity_score, format_report, intent_scores, nlu_report


def _preds(pairs):
    return [Prediction(text=f"t{i}", gold=g, predicted=p) for i, (g, p) in enumerate(pairs)]


# gold a: 3 examples, 2 right, 1 predicted b.  gold b: 2 examples, 1 right, 1 fallback.
# gold c: 1 example, predicted a.
PAIRS = [("a", "a"), ("a", "a"), ("a", "b"), ("b", "b"), ("b", "nlu_fallback"), ("c", "a")]


def test_per_intent_precision_recall_and_f1_match_the_hand_computed_confusion():
    scores = {s.label: s for s in intent_scores(PAIRS)}
    # a: predicted 3 times (2 right) -> P 2/3; 3 gold, 2 found -> R 2/3; F1 2/3.
    assert scores["a"].precision == pytest.approx(2 / 3)
    assert scores["a"].recall == pytest.approx(2 / 3)
    assert scores["a"].f1 == pytest.approx(2 / 3)
    # b: predicted 2 times (1 right) -> P 1/2; 2 gold, 1 found -> R 1/2; F1 1/2.
    assert (scores["b"].precision, scores["b"].recall, scores["b"].f1) == (0.5, 0.5, 0.5)
    # c: never predicted -> P 0 (no division by zero), R 0, F1 0.
    assert (scores["c"].precision, scores["c"].recall, scores["c"].f1) == (0.0, 0.0, 0.0)
    assert [s.support for s in intent_scores(PAIRS)] == [3, 2, 1]


def test_fallback_is_a_miss_for_the_gold_intent_not_a_class_of_its_own():
    report = nlu_report(_preds(PAIRS))
    assert [s.label for s in report.per_intent] == ["a", "b", "c"]
    assert report.fallbacks == 1
    assert report.correct == 3 and report.total == 6
    assert report.accuracy == pytest.approx(0.5)
    assert report.macro_f1 == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)


def test_a_perfect_model_scores_one_everywhere():
    report = nlu_report(_preds([("x", "x"), ("y", "y"), ("y", "y")]))
    assert report.accuracy == 1.0 and report.macro_f1 == 1.0
    assert report.confusions == ()


def test_confusions_are_counted_and_listed_most_frequent_first():
    report = nlu_report(_preds([("a", "b"), ("c", "a"), ("a", "b"), ("a", "a")]))
    assert report.confusions == (("a", "b", 2), ("c", "a", 1))


def test_an_empty_file_is_refused():
    with pytest.raises(ValueError):
        nlu_report([])


def test_entities_are_scored_by_exact_span():
    gold = frozenset({("dob", 0, 10), ("account_number", 11, 16)})
    preds = [
        # one right, one with the wrong end, one extra
        Prediction("t", "inform", "inform", gold_entities=gold,
                   predicted_entities=frozenset({("dob", 0, 10), ("account_number", 11, 15),
                                                 ("amount", 20, 23)})),
        Prediction("u", "inform", "inform", gold_entities=frozenset({("income", 0, 4)})),
    ]
    score = entity_score(preds)
    assert score.precision == pytest.approx(1 / 3)  # 1 of 3 predicted spans is right
    assert score.recall == pytest.approx(1 / 3)  # 1 of 3 gold spans is found
    assert score.f1 == pytest.approx(1 / 3)
    assert score.support == 3


def test_report_prints_accuracy_macro_f1_and_a_row_per_intent():
    text = format_report(nlu_report(_preds(PAIRS)))
    assert "intent accuracy  0.500  (3/6)" in text
    assert "intent macro F1  0.389" in text
    rows = [ln.split() for ln in text.splitlines() if ln[:2] in ("a ", "b ", "c ")]
    assert rows == [
        ["a", "0.667", "0.667", "0.667", "3"],
        ["b", "0.500", "0.500", "0.500", "2"],
        ["c", "0.000", "0.000", "0.000", "1"],
    ]
    assert "  b -> nlu_fallback: 1" in text


def test_accuracy_interval_is_the_wilson_score_interval():
    from bot.nlu_metrics import wilson_interval

    low, high = wilson_interval(81, 100)  # hand-computed: 0.7222 .. 0.8749
    assert (round(low, 4), round(high, 4)) == (0.7222, 0.8749)
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(10, 10)[0] < 1.0
    assert wilson_interval(0, 0) == (0.0, 0.0)
