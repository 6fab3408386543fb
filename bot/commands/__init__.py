"""Subcommands of the billbot CLI; each module has register(subparsers)."""


def report_subcommands(sub):
    """The subparsers of `billbot report`, made once; each report module adds its own."""
    report = sub.choices.get("report")
    if report is None:
        report = sub.add_parser("report", help="reports")
        report.reports = report.add_subparsers(dest="report_command", required=True)
    return report.reports
