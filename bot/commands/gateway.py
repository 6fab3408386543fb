"""billbot gateway: the gateway alone under uvicorn (SMS, Telegram and web chat, the console,
/health and /metrics), without Rasa, the action server or the scheduled jobs."""
from __future__ import annotations


def register(sub) -> None:
    """Add the `gateway` subcommand, which serves the SMS, Telegram and web chat endpoints."""
    p = sub.add_parser("gateway", help="run the message gateway (SMS, Telegram, web chat)")
    p.add_argument("--host", help="bind address (default GATEWAY_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default GATEWAY_PORT, 8000)")
    p.add_argument("--telegram-polling", action="store_true",
                   help="poll Telegram for updates instead of receiving its webhook (local use)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    import uvicorn

    from bot.app import create_app
    from bot.logging import configure_logging
    from clinic.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    app = create_app(settings, telegram_polling=args.telegram_polling)
    uvicorn.run(app, host=args.host or settings.gateway_host,
                port=args.port or settings.gateway_port, log_config=None,
                proxy_headers=False)
    return 0
