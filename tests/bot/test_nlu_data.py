"""The NLU training data and held-out split: intent names and sizes, entity names, no leakage."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from bot import rasa_env
from clinic.faq import TOPICS
from tests.environment import needs

BILLING_INTENTS = [
    "check_balance", "dispute_charge", "refund_status", "payment_plan", "make_payment",
    "insurance_coverage", "request_statement", "financial_assistance", "update_insurance",
    "request_human",
]
OTHER_INTENTS = [
    "greet", "goodbye", "thanks", "affirm", "deny", "help", "out_of_scope", "bot_challenge",
    "inform", "stop_autopay",
]
FAQ_INTENTS = [f"faq/{topic}" for topic in TOPICS]
ALL_INTENTS = BILLING_INTENTS + ["explain_bill"] + OTHER_INTENTS + FAQ_INTENTS
ENTITIES = {
    "dob", "account_number", "amount", "income", "months", "household_size", "service", "payer",
    "member_id",
}
ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def _examples(paths: list[Path]) -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                lines = item["examples"].splitlines()
                by_intent[item["intent"]] += [ln[2:].strip() for ln in lines if ln.startswith("- ")]
    return by_intent


def _plain(example: str) -> str:
    """What the model sees, normalised the way its featurizers do (case, punctuation, spaces),
    and without accents: patients write "cuanto debo" and "cuánto debo" for the same text."""
    text = ANNOTATION.sub(lambda m: m.group(1), example).lower()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


TRAIN = _examples(rasa_env.yaml_files(rasa_env.NLU_DATA_DIR))
HELD_OUT = {name: _examples([path]) for name, path in rasa_env.EVAL_FILES.items()}


def test_training_uses_exactly_the_intents_of_docs_intents_md():
    assert set(TRAIN) == set(ALL_INTENTS)
    documented = (rasa_env.ROOT / "docs" / "intents.md").read_text(encoding="utf-8")
    for intent in ALL_INTENTS:
        assert intent in documented


@pytest.mark.parametrize("name", sorted(rasa_env.EVAL_FILES))
def test_each_independent_set_covers_the_billing_intents_and_has_400_messages(name):
    assert set(BILLING_INTENTS + ["explain_bill"] + FAQ_INTENTS) <= set(HELD_OUT[name])
    assert set(HELD_OUT[name]) <= set(ALL_INTENTS)
    assert sum(len(v) for v in HELD_OUT[name].values()) >= 400


@pytest.mark.parametrize("intent", BILLING_INTENTS + ["explain_bill"])
def test_each_billing_intent_has_at_least_80_training_examples(intent):
    assert len(set(TRAIN[intent])) >= 80


@pytest.mark.parametrize("intent", OTHER_INTENTS)
def test_each_conversation_intent_has_at_least_20_training_examples(intent):
    assert len(set(TRAIN[intent])) >= 20


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_each_faq_topic_has_at_least_15_training_examples(intent):
    assert len(set(TRAIN[intent])) >= 15


@pytest.mark.parametrize("name", sorted(rasa_env.EVAL_FILES))
def test_independent_sets_share_no_message_with_training_data(name):
    trained = {_plain(e) for examples in TRAIN.values() for e in examples}
    leaked = sorted({_plain(e) for ex in HELD_OUT[name].values() for e in ex} & trained)
    assert leaked == []


def test_no_text_is_trained_under_two_intents():
    owners: dict[str, set[str]] = defaultdict(set)
    for intent, examples in TRAIN.items():
        for e in examples:
            owners[_plain(e)].add(intent)
    assert {t: i for t, i in owners.items() if len(i) > 1} == {}


def test_no_example_is_repeated_within_an_intent():
    for intent, examples in TRAIN.items():
        repeated = [t for t, n in Counter(examples).items() if n > 1]
        assert repeated == [], intent


def test_entities_are_within_the_issue_list():
    used = {
        name
        for source in (TRAIN, *HELD_OUT.values())
        for examples in source.values()
        for e in examples
        for _, name in ANNOTATION.findall(e)
    }
    assert used <= ENTITIES
    assert {"dob", "account_number", "income", "household_size", "months"} <= used


def _regexes() -> dict[str, list[re.Pattern]]:
    out: dict[str, list[re.Pattern]] = defaultdict(list)
    for item in yaml.safe_load((rasa_env.NLU_DATA_DIR / "patterns.yml").read_text())["nlu"]:
        if "regex" in item:
            for ln in item["examples"].splitlines():
                if ln.startswith("- "):
                    out[item["regex"]].append(re.compile(ln[2:].strip(), re.IGNORECASE))
    return out


@pytest.mark.parametrize("text", [
    "03/14/1985", "3-14-85", "March 14 1985", "14 march 1985", "1985-03-14", "mar 14 85",
    "my dob is 7.4.1970", "born Sept 9th, 2001", "the 3rd of may 1981", "Nov. 2, 1949",
])
def test_dob_regex_matches_dates_written_every_way(text):
    assert any(p.search(text) for p in _regexes()["dob"])


@pytest.mark.parametrize("text,expected", [
    ("A1000", "A1000"), ("account a1043 please", "a1043"), ("its A-2051", "A-2051"),
])
def test_account_number_regex_matches_account_numbers(text, expected):
    found = [m.group(0) for p in _regexes()["account_number"] for m in p.finditer(text)]
    assert found == [expected]


def test_account_number_regex_ignores_words_and_short_numbers():
    for text in ["aaaa", "a12", "area 1000", "balance"]:
        assert not any(p.search(text) for p in _regexes()["account_number"]), text


# Training inputs: what the model hash covers, and the cached-model path of `billbot train`.

def test_independent_sets_are_not_training_inputs():
    for nlu_only in (True, False):
        inputs = rasa_env.training_inputs(nlu_only)
        assert not set(rasa_env.EVAL_FILES.values()) & set(inputs)
        assert rasa_env.CONFIG_FILE in inputs and rasa_env.REQUIREMENTS_FILE in inputs
    assert rasa_env.DOMAIN_FILE in rasa_env.training_inputs(nlu_only=False)


def test_inputs_hash_is_stable_and_changes_with_any_byte_or_name(tmp_path):
    (tmp_path / "a.yml").write_text("x: 1\n")
    (tmp_path / "b.yml").write_text("y: 2\n")
    files = [tmp_path / "a.yml", tmp_path / "b.yml"]
    first = rasa_env.inputs_hash(files, root=tmp_path)
    assert rasa_env.inputs_hash(list(reversed(files)), root=tmp_path) == first
    (tmp_path / "b.yml").write_text("y: 3\n")
    changed = rasa_env.inputs_hash(files, root=tmp_path)
    assert changed != first
    (tmp_path / "b.yml").rename(tmp_path / "c.yml")
    assert rasa_env.inputs_hash([tmp_path / "a.yml", tmp_path / "c.yml"], root=tmp_path) != changed


def test_train_reuses_the_model_of_unchanged_inputs(tmp_path, monkeypatch, capsys):
    from bot.commands.nlu import train_model

    needs(rasa_env.RASA_BIN.exists(), ".venv-rasa is not installed")
    monkeypatch.setattr(rasa_env, "MODELS_DIR", tmp_path)
    digest = rasa_env.inputs_hash(rasa_env.training_inputs(nlu_only=True))
    cached = rasa_env.model_path(rasa_env.model_name(digest, nlu_only=True), tmp_path)
    cached.write_bytes(b"a model archive")
    assert train_model(nlu_only=True) == cached
    assert "model up to date: " in capsys.readouterr().out
    assert rasa_env.current_model(tmp_path, nlu_only=True) == cached.resolve()
    assert rasa_env.current_model(tmp_path) is None  # an NLU-only model never becomes current


def test_nlu_eval_refuses_a_missing_file(tmp_path, capsys):
    from bot.cli import main

    assert main(["nlu-eval", str(tmp_path / "nope.yml")]) == 2
    assert "nope.yml: no such file" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(rasa_env.EVAL_FILES_ES))
def test_the_spanish_sets_share_no_message_with_the_spanish_training_data(name):
    trained = {_plain(e) for examples in _examples(rasa_env.yaml_files(rasa_env.nlu_data_dir("es")))
               .values() for e in examples}
    held_out = _examples([rasa_env.EVAL_FILES_ES[name]])
    assert sorted({_plain(e) for ex in held_out.values() for e in ex} & trained) == []
