"""billbot train / billbot nlu-eval: train the Rasa model (cached by a hash of its inputs) and
measure its intent classification on any Rasa-format NLU file."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot import rasa_env
from bot.nlu_metrics import Prediction, format_report, nlu_report


def register(sub) -> None:
    """Add the `train` and `nlu-eval` subcommands: train the Rasa model and score its intents."""
    train = sub.add_parser("train", help="train the Rasa model (reuses it when inputs are unchanged)")
    train.add_argument("--nlu-only", action="store_true", help="train the NLU part only")
    train.add_argument("--force", action="store_true", help="retrain from scratch, bypassing both caches")
    train.add_argument("--lang", choices=(*rasa_env.LANGUAGES, "all"), default="all",
                       help="the language whose model to train (default: every language)")
    train.set_defaults(func=_train)

    ev = sub.add_parser("nlu-eval", help="evaluate the model's intents on a Rasa NLU file")
    ev.add_argument("file", type=Path, help="Rasa YAML NLU file, e.g. data/eval/test_en.yml")
    ev.add_argument("--model", type=Path, help="model archive (default: models/current, else models/current-nlu)")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.add_argument("--show-errors", action="store_true", help="list the misclassified examples")
    ev.add_argument("--lang", choices=rasa_env.LANGUAGES, default=rasa_env.DEFAULT_LANGUAGE,
                    help="whose current model to use without --model (default: en)")
    ev.set_defaults(func=_nlu_eval)


def _fail(message: str, code: int = 1) -> int:
    print(f"billbot: {message}", file=sys.stderr)
    return code


def _shown(path: Path) -> str:
    return str(path.relative_to(rasa_env.ROOT)) if path.is_relative_to(rasa_env.ROOT) else str(path)


def _point_current(target: Path, models_dir: Path, nlu_only: bool,
                   lang: str = rasa_env.DEFAULT_LANGUAGE) -> None:
    link = rasa_env.current_link_name(nlu_only, lang)
    tmp = models_dir / f".{link}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    os.replace(tmp, models_dir / link)


def _rasa_train_args(nlu_only: bool, out: Path, name: str,
                     lang: str = rasa_env.DEFAULT_LANGUAGE) -> list[str]:
    common = ["--config", str(rasa_env.config_file(lang)), "--out", str(out),
              "--fixed-model-name", name]
    nlu_data = str(rasa_env.nlu_data_dir(lang))
    if nlu_only:
        return [str(rasa_env.RASA_BIN), "train", "nlu", "--nlu", nlu_data, *common]
    return [
        str(rasa_env.RASA_BIN), "train", "--domain", str(rasa_env.DOMAIN_FILE),
        "--data", nlu_data, str(rasa_env.DIALOGUE_DATA_DIR), *common,
    ]


def train_model(nlu_only: bool = False, force: bool = False,
                lang: str = rasa_env.DEFAULT_LANGUAGE) -> Path:
    """Train (or reuse) one language's model for the current inputs; point models/current
    (NLU only: models/current-nlu; Spanish: models/current-es) at it."""
    if not rasa_env.RASA_BIN.exists():
        raise RuntimeError(f"{rasa_env.RASA_BIN} not found: run `make setup` first")
    if not nlu_only and not rasa_env.DOMAIN_FILE.exists():
        raise RuntimeError(f"{rasa_env.DOMAIN_FILE} not found: write the domain or use --nlu-only")
    models_dir = rasa_env.MODELS_DIR
    models_dir.mkdir(parents=True, exist_ok=True)
    name = rasa_env.model_name(
        rasa_env.inputs_hash(rasa_env.training_inputs(nlu_only, lang)), nlu_only, lang)
    target = rasa_env.model_path(name, models_dir)
    # One training at a time on this machine; a second caller waits and then reuses the result.
    with open(models_dir / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and not force:
            _point_current(target, models_dir, nlu_only, lang)
            print(f"model up to date: {_shown(target)}")
            return target
        started = time.monotonic()
        env = rasa_env.rasa_environ()
        env.setdefault("RASA_CACHE_DIRECTORY", str(models_dir / ".rasa-cache"))
        if force:
            env["RASA_MAX_CACHE_SIZE"] = "0"  # Rasa's cache would hand back the trained components
        with tempfile.TemporaryDirectory(dir=models_dir, prefix=".training-") as tmp:
            cmd = _rasa_train_args(nlu_only, Path(tmp), name, lang)
            result = subprocess.run(cmd, check=False, cwd=rasa_env.ROOT, env=env)
            built = rasa_env.model_path(name, Path(tmp))
            if result.returncode != 0 or not built.exists():
                raise RuntimeError(f"rasa train failed (exit {result.returncode})")
            os.replace(built, target)
        _point_current(target, models_dir, nlu_only, lang)
        print(f"trained {_shown(target)} in {time.monotonic() - started:.0f}s")
        return target


def _train(args) -> int:
    langs = rasa_env.LANGUAGES if args.lang == "all" else (args.lang,)
    try:
        for lang in langs:
            train_model(nlu_only=args.nlu_only, force=args.force, lang=lang)
    except RuntimeError as exc:
        return _fail(str(exc))
    return 0


def predict(model: Path, data: Path) -> list[Prediction]:
    """Parse every example of an NLU file with the model (in .venv-rasa)."""
    with tempfile.TemporaryDirectory(prefix="billbot-nlu-eval-") as tmp:
        out = Path(tmp) / "predictions.json"
        cmd = [
            str(rasa_env.RASA_PYTHON), str(rasa_env.EVALUATE_SCRIPT),
            "--model", str(model), "--data", str(data), "--out", str(out),
        ]
        result = subprocess.run(
            cmd, check=False, cwd=rasa_env.ROOT, env=rasa_env.rasa_environ(),
            capture_output=True, text=True,
        )
        if result.returncode != 0 or not out.exists():
            tail = "\n".join(result.stderr.strip().splitlines()[-5:])
            raise RuntimeError(f"evaluation failed (exit {result.returncode}):\n{tail}")
        rows = json.loads(out.read_text(encoding="utf-8"))
    return [
        Prediction(
            text=r["text"],
            gold=r["gold"],
            predicted=r["predicted"] or "",
            confidence=r["confidence"],
            gold_entities=frozenset(tuple(e) for e in r["gold_entities"]),
            predicted_entities=frozenset(tuple(e) for e in r["predicted_entities"]),
        )
        for r in rows
    ]


def _nlu_eval(args) -> int:
    if not args.file.is_file():
        return _fail(f"{args.file}: no such file", 2)
    model = (args.model or rasa_env.current_model(lang=args.lang)
             or rasa_env.current_model(nlu_only=True, lang=args.lang))
    if model is None:
        return _fail("no trained model: run `billbot train` or pass --model")
    if not Path(model).is_file():
        return _fail(f"{model}: no such model", 2)
    try:
        predictions = predict(Path(model), args.file)
        report = nlu_report(predictions)
    except (RuntimeError, ValueError) as exc:
        return _fail(f"{args.file}: {exc}")
    if args.json:
        print(json.dumps({
            "model": str(model), "file": str(args.file), "accuracy": report.accuracy,
            "accuracy_95ci": list(report.accuracy_interval),
            "macro_f1": report.macro_f1, "total": report.total, "fallbacks": report.fallbacks,
            "entities": vars(report.entities),
            "per_intent": [vars(s) for s in report.per_intent],
        }, indent=2))
    else:
        print(f"model {model}\nfile  {args.file}\n")
        print(format_report(report))
    if args.show_errors:
        print("\nmisclassified:")
        for p in predictions:
            if p.gold != p.predicted:
                print(f"  [{p.gold} -> {p.predicted} {p.confidence:.2f}] {p.text}")
    return 0
