"""Where Rasa lives (.venv-rasa, models/) and which files a trained model depends on.

A model is named for a hash of every training input, so an unchanged input reuses the model.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from clinic.settings import ROOT

RASA_VENV = ROOT / ".venv-rasa"
RASA_BIN = RASA_VENV / "bin" / "rasa"
RASA_PYTHON = RASA_VENV / "bin" / "python"
MODELS_DIR = ROOT / "models"

CONFIG_FILE = ROOT / "nlu" / "config.yml"
DOMAIN_FILE = ROOT / "nlu" / "domain.yml"
REQUIREMENTS_FILE = ROOT / "nlu" / "requirements-rasa.txt"
NLU_DATA_DIR = ROOT / "data" / "nlu"
DIALOGUE_DATA_DIR = ROOT / "data" / "dialogue"
# Independent evaluation sets (data/eval/README.md): never training inputs.
EVAL_DIR = ROOT / "data" / "eval"
EVAL_FILES = {"dev": EVAL_DIR / "heldout_en.yml", "test": EVAL_DIR / "test_en.yml",
              "test2": EVAL_DIR / "test2_en.yml", "test3": EVAL_DIR / "test3_en.yml"}
EVAL_FILES_ES = {"dev": EVAL_DIR / "heldout_es.yml", "test2": EVAL_DIR / "test2_es.yml",
                 "test3": EVAL_DIR / "test3_es.yml"}
EVALUATE_SCRIPT = ROOT / "nlu" / "evaluate.py"
# One model per language (Rasa's advice): English is the default, each other language has its
# own pipeline (nlu/config_<lang>.yml) and training data (data/nlu_<lang>/); the domain and
# the dialogue are shared, so a conversation can move between the models mid-way.
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"

# Quiet, offline and reproducible: no telemetry, no hub downloads, no GPU, fixed hash seed.
RUNTIME_DIR = ROOT / "nlu" / "runtime"
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "CUDA_VISIBLE_DEVICES": "",
    "PYTHONHASHSEED": "0",
    "PYTHONWARNINGS": "ignore",
    "RASA_TELEMETRY_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "LOG_LEVEL": "WARNING",
}


def rasa_environ(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for any process that runs in .venv-rasa."""
    env = dict(os.environ if base is None else base)
    env.update(QUIET_ENV)
    # nlu/runtime/sitecustomize.py: Rasa's per-turn schema check, cached (see that module)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(RUNTIME_DIR), env.get("PYTHONPATH")) if p)
    env.pop("DATABASE_URL", None)  # Rasa never touches the patient database
    return env


def yaml_files(directory: Path) -> list[Path]:
    """The YAML files under directory, sorted so that hashing them gives a stable digest."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def config_file(lang: str = DEFAULT_LANGUAGE) -> Path:
    """The Rasa configuration of a language's model: nlu/config.yml, nlu/config_es.yml."""
    return CONFIG_FILE if lang == DEFAULT_LANGUAGE else ROOT / "nlu" / f"config_{lang}.yml"


def nlu_data_dir(lang: str = DEFAULT_LANGUAGE) -> Path:
    """The NLU training data of a language's model: data/nlu/, data/nlu_es/."""
    return NLU_DATA_DIR if lang == DEFAULT_LANGUAGE else ROOT / "data" / f"nlu_{lang}"


def training_inputs(nlu_only: bool = False, lang: str = DEFAULT_LANGUAGE) -> list[Path]:
    """Every file the model is trained from; the held-out split is deliberately not among them."""
    files = [config_file(lang), REQUIREMENTS_FILE, *yaml_files(nlu_data_dir(lang)),
             *sorted((RUNTIME_DIR / "billbot_nlu").glob("*.py"))]  # our own components
    if not nlu_only:
        files += [DOMAIN_FILE, *yaml_files(DIALOGUE_DATA_DIR)]
    return files


def inputs_hash(paths: list[Path], root: Path = ROOT) -> str:
    """A short sha256 over each file's path (relative to root) and bytes, in a stable order."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.resolve().relative_to(root.resolve()).as_posix()):
        rel = path.resolve().relative_to(root.resolve()).as_posix()
        data = path.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def model_name(digest: str, nlu_only: bool = False, lang: str = DEFAULT_LANGUAGE) -> str:
    """Model name derived from the training inputs'
    digest, so unchanged inputs reuse a trained model."""
    prefix = "billbot-" if lang == DEFAULT_LANGUAGE else f"billbot-{lang}-"
    return f"{prefix}{'nlu-' if nlu_only else ''}{digest}"


def model_path(name: str, models_dir: Path = MODELS_DIR) -> Path:
    """Path of the model archive with this name in models_dir."""
    return models_dir / f"{name}.tar.gz"


def current_link_name(nlu_only: bool = False, lang: str = DEFAULT_LANGUAGE) -> str:
    """models/current is the full (dialogue) model; an NLU-only model never replaces it.
    Another language's links carry its code: models/current-es, models/current-es-nlu."""
    name = "current" if lang == DEFAULT_LANGUAGE else f"current-{lang}"
    return f"{name}-nlu" if nlu_only else name


def current_model(models_dir: Path = MODELS_DIR, nlu_only: bool = False,
                  lang: str = DEFAULT_LANGUAGE) -> Path | None:
    """The model models/current (or current-nlu) points to, or None when there is none."""
    link = models_dir / current_link_name(nlu_only, lang)
    if not link.exists():
        return None
    return link.resolve()
