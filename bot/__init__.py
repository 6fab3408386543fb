"""billbot's edges: channels, the message gateway, the console, reminders and the CLI."""
