"""A small clinic for the end-to-end tests, written as the practice-management CSV export and
loaded through the real importer. Dates are relative to today, as the assistant reads the clock."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from billing.importer import import_sources, source_from_text

SINGLE_PHONE = "+12125550101"  # Maria Lopez, A1000: alone on her number
FAMILY_PHONE = "+12125550102"  # Jordan, and the twins Emma and Liam Smith
PLAN_PHONE = "+12125550103"  # Sam Lee, A1003: a large self-pay balance
LOW_INCOME_PHONE = "+12125550104"  # Rosa Diaz, A1007: a balance no plan fits on her income
ROSA = ("A1007", date(1988, 8, 30))
ONLINE_PAYER_PHONE = "+12125550105"  # Ana Ruiz, A1008: paid an old visit online, no claim id
ANA = ("A1008", date(1983, 6, 17))
SENDERS = [f"sms:{p}" for p in (SINGLE_PHONE, FAMILY_PHONE, PLAN_PHONE, LOW_INCOME_PHONE,
                                ONLINE_PAYER_PHONE)]
MARIA = ("A1000", date(1985, 3, 14))
PRIYA = ("A1002", date(1990, 11, 2))  # web only, a credit balance
SAM = ("A1003", date(1970, 1, 20))
TWINS_DOB = date(2012, 5, 9)
JORDAN_DOB = date(1979, 7, 2)


def _csv(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def clinic_sources(today: date):
    d = lambda days: (today - timedelta(days=days)).isoformat()
    due = (today + timedelta(days=20)).isoformat()
    patients = _csv(
        "account_number,first_name,last_name,date_of_birth,phone,email,telegram_chat_id,"
        "timezone,preferred_channel,sms_consent",
        [
            f"A1000,Maria,Lopez,1985-03-14,{SINGLE_PHONE},,,America/New_York,sms,yes",
            f"A1001,Jordan,Smith,{JORDAN_DOB},{FAMILY_PHONE},,,America/New_York,sms,yes",
            f"A1005,Emma,Smith,{TWINS_DOB},{FAMILY_PHONE},,,America/New_York,sms,yes",
            f"A1006,Liam,Smith,{TWINS_DOB},{FAMILY_PHONE},,,America/New_York,sms,yes",
            "A1002,Priya,Patel,1990-11-02,,priya@example.org,,America/Chicago,email,no",
            f"A1003,Sam,Lee,1970-01-20,{PLAN_PHONE},,,America/New_York,sms,yes",
            f"A1007,Rosa,Diaz,1988-08-30,{LOW_INCOME_PHONE},,,America/New_York,sms,yes",
            f"A1008,Ana,Ruiz,1983-06-17,{ONLINE_PAYER_PHONE},,,America/New_York,sms,yes",
        ],
    )
    coverages = _csv(
        "account_number,payer,member_id,plan_name,deductible,deductible_met,coinsurance_percent,"
        "copay,out_of_pocket_max,out_of_pocket_met,effective_date,termination_date",
        [f"A1000,Aetna,W123456789,Choice PPO,1500.00,800.00,20,25.00,5000.00,1200.00,{d(400)},"],
    )
    ledger = _csv(
        "account_number,entry_id,posted_date,service_date,type,amount,cpt_code,description,"
        "provider,claim_id,claim_status,method,due_date",
        [
            # Maria: an adjudicated visit she partly paid, a visit pending at the insurer, and
            # a lab billed twice on the same day (a duplicate for the dispute checks).
            (f"A1000,M-1,{d(60)},{d(60)},charge,220.00,99213,Office visit,Dr. Rivera,CL-1,"
            f"adjudicated,,{due}"),
            f"A1000,M-2,{d(40)},{d(60)},insurance_payment,120.00,,,,CL-1,,,",
            f"A1000,M-3,{d(40)},{d(60)},insurance_adjustment,40.00,,,,CL-1,,,",
            f"A1000,M-4,{d(30)},,patient_payment,20.00,,,,CL-1,,card,",
            (f"A1000,M-5,{d(10)},{d(10)},charge,350.00,99214,Office visit long,Dr. Rivera,CL-2,"
            f"pending,,"),
            f"A1000,M-6,{d(50)},{d(50)},charge,55.00,85025,Blood count,Lab,,self_pay,,{due}",
            f"A1000,M-7,{d(50)},{d(50)},charge,55.00,85025,Blood count,Lab,,self_pay,,{due}",
            # The Smiths: each twin owes a different amount.
            (f"A1005,E-1,{d(30)},{d(30)},charge,150.00,99212,Office visit short,Dr. Chen,,"
            f"self_pay,,{due}"),
            (f"A1006,L-1,{d(30)},{d(30)},charge,90.00,99212,Office visit short,Dr. Chen,,"
            f"self_pay,,{due}"),
            # Priya: overpaid, one refund already issued, $50.00 of credit left.
            (f"A1002,P-1,{d(90)},{d(90)},charge,100.00,99212,Office visit short,Dr. Chen,,"
            f"self_pay,,{d(60)}"),
            f"A1002,P-2,{d(80)},,patient_payment,175.00,,,,,,card,",
            f"A1002,P-3,{d(70)},,refund,25.00,,,,,,check,",
            # Sam: a large self-pay balance for a payment plan.
            (f"A1003,S-1,{d(20)},{d(20)},charge,2400.00,29881,Knee arthroscopy,Dr. Okafor,,"
            f"self_pay,,{due}"),
            (f"A1007,R-1,{d(25)},{d(25)},charge,1800.00,29881,Knee arthroscopy,Dr. Okafor,,"
             f"self_pay,,{due}"),
            # Ana: an old visit paid online without a claim id, paid twice by check (one
            # refunded), and a recent visit still owed: what she owes is the recent one's.
            (f"A1008,A-1,{d(200)},{d(200)},charge,120.00,99212,Office visit short,Dr. Chen,"
             f"CA-1,self_pay,,{d(170)}"),
            f"A1008,A-2,{d(180)},,patient_payment,120.00,,Online payment,,,,card,",
            f"A1008,A-3,{d(120)},,patient_payment,60.00,,Check 311,,,,check,",
            f"A1008,A-4,{d(120)},,patient_payment,60.00,,Check 311,,,,check,",
            f"A1008,A-5,{d(100)},,refund,60.00,,Paid twice,,,,check,",
            (f"A1008,A-6,{d(30)},{d(30)},charge,210.00,99213,Office visit,Dr. Chen,CA-2,"
             f"self_pay,,{due}"),
            (f"A1008,A-7,{d(140)},{d(140)},charge,60.00,36415,Blood draw,Lab,CA-3,"
             f"self_pay,,{d(110)}"),
        ],
    )
    refunds = _csv(
        "account_number,refund_id,amount,requested_date,status,issued_date,method",
        [f"A1002,RF-1,25.00,{d(75)},issued,{d(70)},check"],
    )
    return [
        source_from_text("patients.csv", patients),
        source_from_text("coverages.csv", coverages),
        source_from_text("ledger.csv", ledger),
        source_from_text("refunds.csv", refunds),
    ]


def load_clinic(session: Session, today: date) -> None:
    import_sources(session, clinic_sources(today))
    session.commit()
