"""billbot chat: talk to the assistant in a terminal, through the same pipeline as the web chat."""
from __future__ import annotations

import asyncio
import secrets
import sys


def register(sub) -> None:
    """Add the `chat` subcommand: talk to the assistant from the terminal."""
    p = sub.add_parser("chat", help="chat with the assistant in the terminal")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from billing.db.engine import make_engine
    from bot.logging import configure_logging
    from bot.pipeline import InboundMessage, Pipeline
    from bot.rasa_client import RasaClient
    from clinic.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    session = f"cli-{secrets.token_hex(6)}"

    async def loop() -> None:
        engine = make_engine(settings.database_url)
        pipeline = Pipeline(settings, engine,
                            RasaClient(settings.rasa_url, settings.rasa_timeout_s))
        print(f"{settings.clinic_name} billing assistant. Type your question; Ctrl-D to quit.")
        try:
            while True:
                try:
                    text = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    print()
                    return
                if not text.strip():
                    continue
                for reply in await pipeline.handle_now(InboundMessage("web", session, text)):
                    print(f"bot> {reply}")
        finally:
            await pipeline.aclose()
            engine.dispose()

    try:
        asyncio.run(loop())
    except KeyboardInterrupt:
        print(file=sys.stderr)
    return 0
