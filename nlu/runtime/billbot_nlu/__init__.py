"""billbot's own Rasa components (on .venv-rasa's PYTHONPATH through nlu/runtime)."""
