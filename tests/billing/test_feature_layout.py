"""The feature layout holds: one definition each of the open escalation statuses, the
escalation writer and the ledger posting function; no status tuple spelled out again; no
ledger line written outside ledger_posting (the bulk importer excepted); features never
import bot/."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("billing", "bot", "actions", "clinic", "scripts")
FEATURES = ("disputes", "escalations", "insurance_changes", "payment_plans", "refunds",
            "payments")


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def _where(pattern: str) -> list[str]:
    rx = re.compile(pattern, re.MULTILINE)
    return sorted(name for name, text in _sources().items() if rx.search(text))


def test_one_definition_of_each_shared_rule():
    assert _where(r"^OPEN\s*=") == ["billing/escalations/enums.py"]
    assert _where(r"^\s*def escalate\(") == ["billing/escalations/service.py"]
    assert _where(r"^def post_line\(") == ["billing/ledger_posting.py"]
    assert _where(r"^(PRIORITY|ESCALATION_PRIORITY)\s*[:=]") == ["billing/escalations/enums.py"]


def test_the_open_statuses_are_not_spelled_out_again():
    assert _where(r"""["']queued["']\s*,\s*["']assigned["']""") == []


def test_ledger_lines_are_written_only_by_post_line_or_the_bulk_importer():
    assert _where(r"^(?!class ).*\bLedgerEntry\(") == ["billing/ledger_posting.py"]
    assert _where(r"LedgerEntry\.__table__\.insert\(|insert\(LedgerEntry\)") == [
        "billing/importer.py"]


def test_feature_rows_are_built_only_in_their_own_service():
    for feature, classes in {
        "disputes": ("Dispute", "DisputeItem"),
        "escalations": ("Escalation",),
        "insurance_changes": ("InsuranceChange",),
        "payment_plans": ("PaymentPlan", "PlanInstallment"),
        "refunds": ("Refund", "RefundEvent"),
    }.items():
        built = _where(r"^(?!class ).*\b(" + "|".join(classes) + r")\(")
        assert built == [f"billing/{feature}/service.py"], feature


def test_features_do_not_import_bot():
    for feature in FEATURES:
        for path in (ROOT / "billing" / feature).glob("*.py"):
            assert not re.search(r"^\s*(from|import) bot\b", path.read_text(), re.MULTILINE), path


def test_status_columns_are_typed_by_their_enum():
    from billing.disputes.models import Dispute
    from billing.escalations.models import Escalation
    from billing.insurance_changes.models import InsuranceChange
    from billing.payment_plans.models import PaymentPlan, PlanInstallment
    from billing.refunds.models import Refund, RefundEvent

    for model, enum in [(Dispute, "DisputeStatus"), (Escalation, "EscalationStatus"),
                        (InsuranceChange, "InsuranceChangeStatus"), (PaymentPlan, "PlanStatus"),
                        (PlanInstallment, "InstallmentStatus"), (Refund, "RefundStatus"),
                        (RefundEvent, "RefundStatus")]:
        assert model.__annotations__["status"] == f"Mapped[{enum}]", model
