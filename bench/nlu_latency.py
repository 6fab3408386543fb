"""NLU parse latency of the trained model: p50/p95 per message over data/eval/test_en.yml.

    .venv/bin/python bench/nlu_latency.py [--model models/current] [--repeat 3]

Runs in Rasa's own environment (.venv-rasa; re-executes itself there), loads the model once
and times Agent.parse_message for every example, after a warm-up pass.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def examples(path: Path) -> list[str]:
    """The example texts of a Rasa NLU YAML file, entity markup removed."""
    import re

    import yaml

    doc = yaml.safe_load(path.read_text())
    out = []
    for block in doc.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                text = re.sub(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}",
                              lambda m: m.group(1) or m.group(2), line[2:])
                out.append(text)
    return out


async def measure(model: Path, texts: list[str], repeat: int) -> list[float]:
    import logging

    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))
    for t in texts[:20]:  # warm-up
        await agent.parse_message(t)
    timings = []
    for _ in range(repeat):
        for t in texts:
            started = time.perf_counter()
            await agent.parse_message(t)
            timings.append(time.perf_counter() - started)
    return timings


def main() -> int:
    if Path(sys.prefix).resolve() != (ROOT / ".venv-rasa").resolve():
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
               "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "PYTHONPATH": str(ROOT / "nlu" / "runtime")}  # our own components
        os.execve(str(RASA_PYTHON), [str(RASA_PYTHON), __file__, *sys.argv[1:]], env)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "current")
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "eval" / "test_en.yml")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    texts = examples(args.data)
    timings = sorted(asyncio.run(measure(args.model.resolve(), texts, args.repeat)))
    p50 = statistics.median(timings) * 1000
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)] * 1000
    print(f"model {args.model.resolve().name}: {len(timings)} parses of {len(texts)} messages: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, mean {statistics.mean(timings) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
