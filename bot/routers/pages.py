"""What the gateway's HTML pages share: the templates, and the headers that keep a page
with patient data out of caches, referrers and search engines."""
from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from billing.core.money import fmt
from clinic import wording

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["money"] = fmt
templates.env.globals["t"] = wording.html  # the patient pages' words (clinic.wording)
templates.env.globals["day"] = wording.day  # a date as the page's language writes it

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex"}
