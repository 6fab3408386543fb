"""The blend rule of nlu/runtime/billbot_nlu/intent_encoder.py, run in Rasa's environment (the
component imports Rasa and TensorFlow, which the app's environment does not have)."""
import json
import subprocess

from bot import rasa_env
from tests.environment import needs

SCRIPT = r"""
import json, sys
import numpy as np
from billbot_nlu.intent_encoder import FineTunedIntentClassifier as C

def ranking(labels, probabilities, diet, weight):
    component = object.__new__(C)
    component._labels = labels
    component._config = {**C.get_default_config(), "blend": weight}
    return component._blend(np.array(probabilities), diet)

labels = ["check_balance", "dispute_charge", "faq/deductible", "faq/eob"]
diet = [{"name": "check_balance", "confidence": 0.9}, {"name": "faq", "confidence": 0.1}]
print(json.dumps({
    "blended": ranking(labels, [0.1, 0.1, 0.4, 0.4], diet, 0.7),
    "alone": ranking(labels, [0.1, 0.1, 0.4, 0.4], [], 0.7),
    "diet_only": ranking(labels, [0.1, 0.1, 0.4, 0.4], diet, 0.0),
}))
"""


def test_the_blend_sums_a_topic_into_its_retrieval_intent_and_weights_diet():
    needs(rasa_env.RASA_PYTHON.exists(), ".venv-rasa is not installed")
    done = subprocess.run([str(rasa_env.RASA_PYTHON), "-c", SCRIPT], capture_output=True,
                          text=True, env=rasa_env.rasa_environ(), cwd=rasa_env.ROOT, check=True,
                          timeout=300)
    out = {k: [(n, round(s, 6)) for n, s in v] for k, v in json.loads(done.stdout).items()}
    # faq: 0.7 * (0.4 + 0.4) + 0.3 * 0.1 = 0.59; check_balance: 0.7 * 0.1 + 0.3 * 0.9 = 0.34
    assert out["blended"][:3] == [("faq", 0.59), ("check_balance", 0.34), ("dispute_charge", 0.07)]
    # with no ranking before it, its own probabilities, faq topics summed
    assert out["alone"][:3] == [("faq", 0.8), ("check_balance", 0.1), ("dispute_charge", 0.1)]
    # blend 0: DIET's ranking unchanged
    assert out["diet_only"][:2] == [("check_balance", 0.9), ("faq", 0.1)]
