"""The statement as a PDF, laid out like the paper statements patients know, drawn with
ReportLab (platypus): the clinic and the statement's key facts at the top, the patient's
address where a #10 double-window envelope shows it, then the summary, each visit itemised
and explained, the aging, the amount due, the plan options, the financial assistance notice
and how to pay (with a QR code of the payment link).

Why ReportLab: it is pure PyPI (no system libraries, so CI and a fresh machine need nothing
from apt, where WeasyPrint needs Pango), it draws at exact positions (the envelope window),
it has a QR code built in, and it is fast enough for a statement run over every account:
WeasyPrint lays out HTML and CSS at several times the cost per page.

Every word is the catalogue's (clinic.wording, statement.*), in the patient's language.
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from billing.core.aging import BUCKETS
from billing.core.money import fmt, total
from bot.statements.content import StatementContent
from clinic.wording import day, text

PAGE_W, PAGE_H = LETTER
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.6 * inch, 0.5 * inch, 0.7 * inch
FRAME_W = PAGE_W - 2 * MARGIN_X
# A #10 double-window envelope, the letter folded in three: the return address shows through
# the upper window, the recipient's through the lower one, 7/8" from the left edge and about
# 2" below the top of the sheet (USPS and the usual mail-house templates).
RECIPIENT_X, RECIPIENT_TOP, RECIPIENT_W = 0.875 * inch, 2.05 * inch, 3.6 * inch
HEAD_H = 3.15 * inch  # the letterhead, down to below the recipient's window

INK = colors.HexColor("#1f2a37")
MUTED = colors.HexColor("#5b6573")
RULE = colors.HexColor("#c9ced6")
SHADE = colors.HexColor("#eef2f6")
NOTICE = colors.HexColor("#fff7e0")

_base = ParagraphStyle("base", fontName="Helvetica", fontSize=9, leading=11.5, textColor=INK)
STYLES = {
    "body": _base,
    "small": ParagraphStyle("small", parent=_base, fontSize=8, leading=10),
    "explain": ParagraphStyle("explain", parent=_base, fontSize=7.5, leading=9.5,
                              textColor=MUTED, fontName="Helvetica-Oblique"),
    "h2": ParagraphStyle("h2", parent=_base, fontName="Helvetica-Bold", fontSize=11,
                         leading=14, spaceBefore=8, spaceAfter=3),
    "cell": ParagraphStyle("cell", parent=_base, fontSize=8, leading=10),
    "head": ParagraphStyle("head", parent=_base, fontSize=7.5, leading=9,
                           fontName="Helvetica-Bold"),
    "num": ParagraphStyle("num", parent=_base, fontSize=8, leading=10, alignment=2),
    "numhead": ParagraphStyle("numhead", parent=_base, fontSize=7, leading=8.5,
                              fontName="Helvetica-Bold", alignment=2),
    "notice": ParagraphStyle("notice", parent=_base, fontSize=9, leading=12),
    "noticehead": ParagraphStyle("noticehead", parent=_base, fontName="Helvetica-Bold",
                                 fontSize=12, leading=15),
}


def _p(value: str, style: str = "body") -> Paragraph:
    return Paragraph(escape(value), STYLES[style])


@dataclass
class BatchLayout:
    """Where each statement of a document starts (1-based page) and how many pages it has."""

    starts: list[int] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    current: StatementContent | None = None


class LetterHead(Flowable):
    """The top of a statement's first page, drawn at fixed places on the sheet: it is always
    the first thing in the frame, so its own coordinates are the page's."""

    def __init__(self, content: StatementContent, layout: BatchLayout):
        super().__init__()
        self.content, self.layout = content, layout
        self.width, self.height = FRAME_W, HEAD_H

    def wrap(self, avail_w, avail_h):
        return self.width, self.height

    def draw(self) -> None:
        c, s, lang = self.canv, self.content, self.content.lang
        self.layout.current = s
        self.layout.starts.append(c.getPageNumber())
        top = self.height  # y of the frame's top edge, in this flowable's coordinates
        # The clinic, as the return address.
        c.setFillColor(INK)
        c.setFont("Helvetica-Bold", 14)
        c.drawString(0, top - 14, s.clinic.name)
        c.setFont("Helvetica", 9)
        y = top - 28
        for line in [*s.clinic.address_lines, s.clinic.phone]:
            c.drawString(0, y, line)
            y -= 11
        # The statement's key facts, top right.
        box_w, box_x = 2.9 * inch, self.width - 2.9 * inch
        facts = [
            (text("statement.date", lang), day(s.statement_date, lang)),
            (text("statement.account", lang), s.account_number),
            (text("statement.patient", lang), s.patient_name),
            (text("statement.amount_due", lang), fmt(s.due_now)),
            (text("statement.pay_by", lang), _pay_by(s)),
        ]
        c.setFont("Helvetica-Bold", 13)
        c.drawRightString(self.width, top - 14, text("statement.title", lang).upper())
        row_h = 15
        box_top = top - 24
        c.setStrokeColor(RULE)
        c.setFillColor(SHADE)
        c.rect(box_x, box_top - row_h * len(facts) - 4, box_w, row_h * len(facts) + 4,
               fill=1, stroke=1)
        for i, (label, value) in enumerate(facts):
            yy = box_top - (i + 1) * row_h + 3
            strong = i == 3
            c.setFillColor(MUTED)
            c.setFont("Helvetica", 8)
            c.drawString(box_x + 6, yy, label)
            c.setFillColor(INK)
            c.setFont("Helvetica-Bold", 11 if strong else 9)
            c.drawRightString(self.width - 6, yy, value)
        # The recipient, where the envelope's window shows it.
        if s.address is not None:
            x = RECIPIENT_X - MARGIN_X
            y = top - (RECIPIENT_TOP - MARGIN_TOP) - 11
            c.setFillColor(colors.black)
            c.setFont("Helvetica", 10.5)
            for line in s.address.lines():
                c.drawString(x, y, line.upper()[:44])
                y -= 13
        c.setStrokeColor(RULE)
        c.line(0, 4, self.width, 4)


def _pay_by(s: StatementContent) -> str:
    if s.due_now <= 0:
        return "-"
    if s.balance.due_date is None or s.past_due:
        return text("statement.due_upon_receipt", s.lang)
    return day(s.balance.due_date, s.lang)


def _table(rows, widths, *, numeric_from: int, header: bool = True, extra=()) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), SHADE),
                  ("LINEBELOW", (0, 0), (-1, 0), 0.5, RULE)]
    t.setStyle(TableStyle(style + list(extra)))
    return t


def _summary(s: StatementContent) -> list:
    lang, b = s.lang, s.balance
    rows = [
        [_p(text("page.statement.balance", lang)), _p(fmt(b.total), "num")],
        [_p(text("page.statement.due_now", lang)), _p(fmt(b.due_now), "num")],
        [_p(text("page.statement.pending", lang)), _p(fmt(b.pending_insurance), "num")],
    ]
    if b.credit:
        rows.append([_p(text("page.statement.credit", lang)), _p(fmt(b.credit), "num")])
    return [_p(text("statement.summary", lang), "h2"),
            _table(rows, [2.0 * inch, 1.1 * inch], numeric_from=1, header=False,
                   extra=[("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE)])]


def _visits(s: StatementContent) -> list:
    lang, b = s.lang, s.balance
    num = 0.68 * inch
    widths = [0.72 * inch, FRAME_W - 0.72 * inch - 6 * num] + [num] * 6
    head = [_p(text("page.statement.col_date", lang), "head"),
            _p(text("page.statement.col_service", lang) + " / "
               + text("statement.col_provider", lang), "head")]
    head += [_p(text(k, lang), "numhead") for k in (
        "page.statement.col_charge", "page.statement.col_insurance_paid",
        "page.statement.col_adjustments", "page.statement.col_you_paid",
        "page.statement.col_you_owe", "statement.col_pending")]
    rows, extra = [head], []
    for v, why in zip(b.visits, s.explained, strict=True):
        service = escape(v.description)
        if v.provider:
            service += f"<br/><font color='#5b6573'>{escape(v.provider)}</font>"
        if v.claim_status is not None and v.claim_status.value == "pending":
            service += ("<br/><font color='#5b6573'>"
                        f"{escape(text('page.statement.claim_pending', lang))}</font>")
        rows.append([_p(day(v.service_date, lang) if v.service_date else "", "cell"),
                     Paragraph(service, STYLES["cell"])]
                    + [_p(fmt(a), "num") for a in (v.charge, v.insurance_paid, v.adjustments,
                                                    v.patient_paid, v.remaining,
                                                    v.pending_insurance)])
        rows.append(["", _p(why.text, "explain")] + [""] * 6)
        extra += [("SPAN", (1, len(rows) - 1), (-1, len(rows) - 1)),
                  ("LINEBELOW", (0, len(rows) - 1), (-1, len(rows) - 1), 0.25, RULE)]
    if not b.visits:
        rows.append(["", _p(text("page.statement.no_charges", lang), "cell")] + [""] * 6)
        extra.append(("SPAN", (1, 1), (-1, 1)))
    else:
        sums = [total(getattr(v, f) for v in b.visits) for f in (
            "charge", "insurance_paid", "adjustments", "patient_paid", "remaining",
            "pending_insurance")]
        rows.append([_p(text("statement.total_row", lang), "head"), ""]
                    + [Paragraph(f"<b>{escape(fmt(a))}</b>", STYLES["num"]) for a in sums])
        extra.append(("LINEABOVE", (0, -1), (-1, -1), 0.75, INK))
    out = [_p(text("statement.visits", lang), "h2"),
           _table(rows, widths, numeric_from=2, extra=extra)]
    if b.refunded_beyond_credit:
        out.append(_p(text("statement.refunded_beyond_credit", lang,
                           amount=fmt(b.refunded_beyond_credit)), "small"))
    return out


def _aging(s: StatementContent) -> list:
    lang = s.lang
    names = {"current": text("statement.aging.current", lang),
             "120+": text("statement.aging.over", lang)}
    head = [_p(names.get(n) or text("statement.aging.days", lang, range=n), "numhead")
            for n in BUCKETS] + [_p(text("statement.total_row", lang), "numhead")]
    values = [_p(fmt(s.aging.buckets[n]), "num") for n in BUCKETS]
    values.append(Paragraph(f"<b>{escape(fmt(s.aging.total))}</b>", STYLES["num"]))
    w = FRAME_W / 7
    return [KeepTogether([_p(text("statement.aging", lang), "h2"),
                          _table([head, values], [w] * 7, numeric_from=0)])]


def _amount_due(s: StatementContent) -> list:
    lang = s.lang
    if s.due_now <= 0:
        lines = [Paragraph(f"<b>{escape(text('statement.nothing_due', lang))}</b>",
                           STYLES["body"])]
    else:
        lines = [Paragraph(
            f"<font size='13'><b>{escape(text('statement.amount_due', lang))}: "
            f"{escape(fmt(s.due_now))}</b></font>", ParagraphStyle(
                "due", parent=STYLES["body"], leading=17)),
            Paragraph(f"{escape(text('statement.pay_by', lang))}: <b>{escape(_pay_by(s))}</b>",
                      STYLES["body"])]
        if s.past_due:
            lines.append(_p(text("statement.past_due", lang,
                                 date=day(s.balance.due_date, lang)), "small"))
    box = Table([[lines]], colWidths=[DUE_W])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, INK),
                             ("LEFTPADDING", (0, 0), (-1, -1), 8),
                             ("TOPPADDING", (0, 0), (-1, -1), 6),
                             ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return [Spacer(0, 22), box]


DUE_W = FRAME_W - 3.4 * inch


def _top(s: StatementContent) -> list:
    """The account summary beside the amount due, then the assistance notice: all on the
    first page, whatever follows."""
    row = Table([[_summary(s), _amount_due(s)]], colWidths=[3.4 * inch, DUE_W])
    row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [row, *_assistance(s)]


def _plans(s: StatementContent) -> list:
    lang, offer = s.lang, s.plans
    if s.due_now <= 0:
        return []
    out: list = [_p(text("statement.plans", lang), "h2")]
    if not offer.options:
        out.append(_p(text("statement.plans_too_small", lang, amount=fmt(offer.balance))))
        return [KeepTogether(out)]
    out.append(_p(text("statement.plans_intro", lang, amount=fmt(offer.balance),
                       clinic_phone=s.clinic.phone)))
    out.append(Spacer(0, 3))
    head = [_p(text(k, lang), "head") for k in ("statement.plan_col_option",)]
    head += [_p(text(k, lang), "numhead") for k in (
        "statement.plan_col_monthly", "statement.plan_col_payments",
        "statement.plan_col_first", "statement.plan_col_last")]
    rows = [head]
    for o in offer.options:
        rows.append([_p(text("statement.plan_months", lang, months=o.months), "cell"),
                     _p(fmt(o.monthly), "num"), _p(str(o.months), "num"),
                     _p(day(o.installments[0].due_date, lang), "num"),
                     _p(day(o.end_date, lang), "num")])
    out.append(_table(rows, [1.3 * inch] + [1.1 * inch] * 4, numeric_from=1))
    return [KeepTogether(out)]


def _assistance(s: StatementContent) -> list:
    lang, c = s.lang, s.clinic
    body = text("statement.assistance_body", lang, link=c.assistance_link,
                clinic_phone=c.phone, office_hours=c.office_hours,
                address=", ".join([c.name, *c.address_lines]))
    box = Table([[[_p(text("statement.assistance_title", lang), "noticehead"),
                   Spacer(0, 2), _p(body, "notice")]]], colWidths=[FRAME_W])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 2, INK),
                             ("BACKGROUND", (0, 0), (-1, -1), NOTICE),
                             ("LEFTPADDING", (0, 0), (-1, -1), 10),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                             ("TOPPADDING", (0, 0), (-1, -1), 7),
                             ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [Spacer(0, 8), KeepTogether([box])]


def qr_code(link: str, size: float = 1.0 * inch) -> Drawing:
    """A QR code of `link`, size points square."""
    widget = QrCodeWidget(link, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _how_to_pay(s: StatementContent) -> list:
    lang, c = s.lang, s.clinic
    lines: list = [_p(text("statement.how_to_pay", lang), "h2")]
    if c.payment_link:
        lines.append(_p(text("statement.pay_online", lang, link=c.payment_link)))
    lines.append(_p(text("statement.pay_methods", lang, methods=c.payment_methods)))
    lines.append(_p(text("statement.pay_mail", lang, clinic=c.name)))
    lines.append(_p(text("statement.questions", lang, clinic_phone=c.phone,
                         office_hours=c.office_hours)))
    if not c.payment_link:
        return [KeepTogether(lines)]
    scan = [qr_code(c.payment_link), _p(text("statement.pay_scan", lang), "small")]
    t = Table([[lines, scan]], colWidths=[FRAME_W - 1.5 * inch, 1.5 * inch])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(0, 4), KeepTogether([t])]


def story(s: StatementContent, layout: BatchLayout) -> list:
    """The flowables of one statement, its letterhead first."""
    return [LetterHead(s, layout), *_top(s), *_visits(s), *_aging(s), *_plans(s),
            *_how_to_pay(s)]


class _Document(BaseDocTemplate):
    def __init__(self, buffer, layout: BatchLayout, title: str):
        super().__init__(buffer, pagesize=LETTER, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                         topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=title,
                         author=title, invariant=1)
        self.layout = layout
        frame = Frame(MARGIN_X, MARGIN_BOTTOM, FRAME_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("page", [frame], onPageEnd=self._footer)])

    def _footer(self, canvas, doc) -> None:
        s = self.layout.current
        if s is None:
            return
        page = canvas.getPageNumber() - self.layout.starts[-1] + 1
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawCentredString(PAGE_W / 2, MARGIN_BOTTOM / 2, text(
            "statement.page", s.lang, clinic=s.clinic.name, account_number=s.account_number,
            page=page))


def render(statements: Iterable[StatementContent], title: str) -> tuple[bytes, BatchLayout]:
    """One PDF holding each statement from a new page: the bytes, and where each starts."""
    layout = BatchLayout()
    flowables: list = []
    for s in statements:
        if flowables:
            flowables.append(PageBreak())
        flowables += story(s, layout)
    buffer = io.BytesIO()
    doc = _Document(buffer, layout, title)
    doc.build(flowables)
    total_pages = doc.page
    ends = [*layout.starts[1:], total_pages + 1]
    layout.pages = [end - start for start, end in zip(layout.starts, ends, strict=True)]
    return buffer.getvalue(), layout


def statement_pdf(s: StatementContent) -> bytes:
    """The PDF of one statement."""
    return render([s], text("statement.title", s.lang) + f" - {s.clinic.name}")[0]
