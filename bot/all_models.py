"""Imports every module that defines tables, so migrations and tests see the whole schema."""
from billing.db import models  # noqa: F401
from billing.db.base import Base  # noqa: F401
from bot import messaging_models  # noqa: F401
from bot.console import console_models  # noqa: F401
from bot.reminders import reminders_models  # noqa: F401
