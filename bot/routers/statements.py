"""Statement pages behind signed, expiring links (clinic.statement_links)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from billing.accounts import load_snapshot
from billing.core.balances import compute_balance
from billing.core.explanation import explain
from billing.db.models import Patient
from billing.languages import service as languages
from bot.routers.deps import ClockDep, PipelineDep, SettingsDep
from bot.routers.errors import StatementNotFound
from bot.routers.pages import NO_STORE, templates
from clinic import wording
from clinic.statement_links import read_token

router = APIRouter(tags=["statements"])


@router.get("/statements/{token}", response_class=HTMLResponse)
async def statement_page(request: Request, token: str, settings: SettingsDep,
                         clock: ClockDep, pipeline: PipelineDep) -> HTMLResponse:
    """The account's statement; 404 for a link that is not valid or an account gone."""
    patient_id = read_token(settings, token, clock.now())
    if patient_id is None:
        raise StatementNotFound(token[:8])

    def load(engine):
        with Session(engine) as s:
            snap = load_snapshot(s, patient_id)
            patient = s.get(Patient, patient_id)
            lang = patient.language if patient is not None else None
        return snap, compute_balance(snap.items), lang

    snapshot, balance, lang = await pipeline.db(load)
    # In the patient's language: the page's words, the explanations and the dates.
    with wording.speaking(languages.supported(lang)) as chosen:
        return templates.TemplateResponse(
            request, "statement.html",
            {"s": settings, "snap": snapshot, "bal": balance, "lang": chosen,
             "explained": explain(balance, snapshot.items),
             "generated": clock.now().strftime("%Y-%m-%d %H:%M UTC")},
            headers=NO_STORE,
        )
