"""The language of one conversation (one sender key)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from billing.db.base import Base
from billing.languages.enums import LanguageSource


class ConversationLanguage(Base):
    """What billbot writes in to one sender; `source` says why (LanguageSource). A switch the
    patient made before verifying is also applied to their record once verified."""

    __tablename__ = "conversation_languages"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(120), unique=True)
    lang: Mapped[str] = mapped_column(String(8))
    source: Mapped[LanguageSource] = mapped_column(String(16))
    updated_at: Mapped[datetime]
