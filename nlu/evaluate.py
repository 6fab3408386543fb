"""Runs inside .venv-rasa: parse every example of a Rasa NLU file with a trained model and
write one JSON list of predictions (text, gold and predicted intent, entity spans) to --out
(a file, since Rasa and TensorFlow may print on stdout).

Usage: .venv-rasa/bin/python nlu/evaluate.py --model models/current --data data/eval/test_en.yml \
    --out /tmp/predictions.json
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys


def _spans(entities) -> list[list]:
    return [[e["entity"], e["start"], e["end"]] for e in entities or [] if "start" in e]


def _full_intent(parsed: dict) -> str | None:
    """The intent, with the ResponseSelector's answer key for a retrieval intent (faq/eob)."""
    name = (parsed.get("intent") or {}).get("name")
    selected = (parsed.get("response_selector") or {}).get(name) or {}
    key = (selected.get("response") or {}).get("intent_response_key")
    return key or name


async def _predict(model: str, data: str) -> list[dict]:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    examples = load_data(data).intent_examples
    if not examples:
        raise SystemExit(f"{data}: no intent examples")
    agent = Agent.load(model)
    out = []
    for example in examples:
        text = example.get("text")
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        out.append({
            "text": text,
            "gold": example.get_full_intent(),
            "predicted": _full_intent(parsed),
            "confidence": float(intent.get("confidence") or 0.0),
            # the classifier's own top intents, before the FallbackClassifier (threshold sweeps)
            "ranking": [[r.get("name"), float(r.get("confidence") or 0.0)]
                        for r in parsed.get("intent_ranking") or []
                        if r.get("name") != "nlu_fallback"][:3],
            "gold_entities": _spans(example.get("entities")),
            "predicted_entities": _spans(parsed.get("entities")),
        })
    return out


def main() -> int:
    """Evaluate a trained model on an NLU file and print the figures (billbot nlu-eval)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    predictions = asyncio.run(_predict(args.model, args.data))
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(predictions, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
