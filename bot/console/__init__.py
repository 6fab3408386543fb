"""The representatives' console: escalated conversations, account actions, a supervisor dashboard.

The gateway mounts it with mount_console(app, settings, engine).
"""
from __future__ import annotations


def mount_console(app, settings, engine) -> None:
    """Serve the console under /console on the gateway's FastAPI app."""
    from bot.console.views import install

    install(app, settings, engine)
