"""Statement pages behind signed, expiring links (clinic.statement_links): the HTML page and
the same statement as a PDF (bot.statements), the amounts of both from the one rule."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from billing.accounts import load_snapshot
from billing.core.balances import compute_balance
from billing.core.explanation import explain
from billing.db.models import Patient
from billing.languages import service as languages
from bot.routers.deps import ClockDep, PipelineDep, SettingsDep
from bot.routers.errors import StatementNotFound
from bot.routers.pages import NO_STORE, templates
from bot.statements.content import statement_content
from bot.statements.pdf import statement_pdf
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
             "generated": clock.now().strftime("%Y-%m-%d %H:%M UTC"),
             "pdf_link": f"/statements/{token}/pdf"},
            headers=NO_STORE,
        )


@router.get("/statements/{token}/pdf", response_class=Response)
async def statement_pdf_download(token: str, settings: SettingsDep, clock: ClockDep,
                                 pipeline: PipelineDep) -> Response:
    """The statement as a PDF, dated today in the clinic's zone; 404 like the page."""
    patient_id = read_token(settings, token, clock.now())
    if patient_id is None:
        raise StatementNotFound(token[:8])
    today = clock.today(settings.clinic_timezone)

    def render(engine):
        with Session(engine) as s:
            return statement_pdf(statement_content(s, patient_id, settings, today))

    pdf = await pipeline.db(render)
    return Response(pdf, media_type="application/pdf", headers={
        **NO_STORE, "Content-Disposition": "inline; filename=statement.pdf"})
