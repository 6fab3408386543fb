"""billbot's rasa-sdk actions: each reads who is verified from the database, calls the billing
core and formats a reply with actions.templates. Served by `python -m rasa_sdk --actions actions`."""
