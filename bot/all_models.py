"""Imports every module that defines tables, so migrations and tests see the whole schema."""
from billing.db import models  # noqa: F401
from billing.db.base import Base  # noqa: F401
from billing.disputes import models as dispute_models  # noqa: F401
from billing.escalations import models as escalation_models  # noqa: F401
from billing.insurance_changes import models as insurance_change_models  # noqa: F401
from billing.languages import models as language_models  # noqa: F401
from billing.payment_plans import models as payment_plan_models  # noqa: F401
from billing.payments import models as payment_models  # noqa: F401
from billing.refunds import models as refund_models  # noqa: F401
from bot import messaging_models  # noqa: F401
from bot.console import console_models  # noqa: F401
from bot.reminders import reminders_models  # noqa: F401
from bot.statements import statement_models  # noqa: F401
