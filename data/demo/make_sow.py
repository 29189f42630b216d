"""Build data/demo/sow.docx, the demo deal's Statement of Work.

This documents how the committed sow.docx was made; it is not run by `make`.
Run it from the repository root with the project's venv when the text changes:

    .venv/bin/python data/demo/make_sow.py

Section numbers are written into the heading text ("2.1 Project management"),
as many real SOWs do, rather than produced by Word list numbering, so any
reader of the .docx sees them.

Deliberate gaps and contradictions against the calls (see README.md): the SOW
covers status reports, the dedicated PM, dispatch mapping/redesign and go-live
support; it says nothing about data migration, a driver app, Spanish materials
or the board's "re-assess & reinvigorate processes"; it contradicts the calls on
billing integration (out of scope), training (up to 10 supervisors, not 20) and
the go-live date (May 2027, not end of March); it agrees with "we will not
touch your payroll system".
"""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

OUT = Path(__file__).resolve().parent / "sow.docx"
DATE = dt.datetime(2026, 11, 12, 9, 0, 0)


def table(doc: Document, header: list[str], rows: list[list[str]]) -> None:
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(t.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = t.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


def bullets(doc: Document, items: list[str]) -> None:
    for item in items:
        doc.add_paragraph(item, style="List Bullet")


def build(out: Path = OUT) -> Path:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)

    cp = doc.core_properties
    cp.title = "Statement of Work – Meridian Freight operations modernisation"
    cp.subject = "Dispatch modernisation for Sacramento, Fresno and Stockton depots"
    cp.author = "Dana Whitfield"
    cp.last_modified_by = "Dana Whitfield"
    cp.keywords = "Meridian Freight; Northwind Consulting; SOW"
    cp.created = DATE
    cp.modified = DATE
    cp.revision = 1

    doc.add_heading("Statement of Work", level=0)
    p = doc.add_paragraph()
    p.add_run("Meridian Freight – operations modernisation").bold = True
    doc.add_paragraph(
        "Prepared by Northwind Consulting for Meridian Freight\n"
        "Date: 12 November 2026 · Version 1.0 (draft for review)\n"
        "Northwind contacts: Dana Whitfield (account lead), Raj Patel (solutions architect)\n"
        "Meridian contacts: Maria Gonzalez (COO, sponsor), Tom Becker (IT director)"
    )

    doc.add_heading("1 Background", level=1)
    doc.add_paragraph(
        "Meridian Freight operates three depots, in Sacramento, Fresno and Stockton. "
        "Each depot plans and dispatches its loads in its own way, using separate tools, "
        "and orders are re-keyed between systems. Dispatchers spend up to half a day "
        "planning the next day's routes, and Meridian has no single, real-time view of "
        "its trucks."
    )
    doc.add_paragraph(
        "Meridian has asked Northwind Consulting to modernise dispatch across the three "
        "depots: to design one common dispatch workflow, put it on a single dispatch "
        "platform with real-time truck visibility, and prepare depot supervisors to run it."
    )

    doc.add_heading("2 Scope of services", level=1)
    doc.add_paragraph("Northwind will provide the following services.")

    doc.add_heading("2.1 Project management", level=2)
    bullets(
        doc,
        [
            "Northwind will assign a dedicated project manager to Meridian for the full "
            "duration of the engagement.",
            "Northwind will send a written status report every Friday covering progress, "
            "risks, decisions needed and the plan for the following week.",
            "A steering meeting with Meridian's sponsor will be held once a month.",
        ],
    )

    doc.add_heading("2.2 Dispatch process mapping", level=2)
    doc.add_paragraph(
        "Northwind will run on-site workshops at the Sacramento, Fresno and Stockton "
        "depots with dispatchers and supervisors to document how dispatch works today: "
        "order intake, load planning, route planning, driver assignment and proof of "
        "delivery. The result is a current-state dispatch map for each depot, with the "
        "main delays and hand-offs marked."
    )

    doc.add_heading("2.3 Dispatch workflow redesign", level=2)
    doc.add_paragraph(
        "Working with the depot supervisors, Northwind will design a single future-state "
        "dispatch workflow for all three depots, including roles and responsibilities, "
        "daily planning cut-off times and exception handling. The design will be "
        "reviewed and signed off by Meridian's sponsor."
    )

    doc.add_heading("2.4 Dispatch platform configuration", level=2)
    bullets(
        doc,
        [
            "Configure Northwind's dispatch platform for the three depots according to the "
            "signed-off workflow.",
            "Connect the platform to Meridian's order management system so that orders are "
            "entered once.",
            "Provide a real-time view of every truck across the three depots.",
            "Build standard dispatch reports: routes planned, on-time delivery and empty miles.",
        ],
    )

    doc.add_heading("2.5 Training", level=2)
    doc.add_paragraph(
        "Northwind will deliver train-the-trainer sessions for up to 10 depot "
        "supervisors nominated by Meridian, together with user guides and quick-reference "
        "cards for dispatchers. The trained supervisors will then train their own "
        "dispatch teams."
    )

    doc.add_heading("2.6 Go-live support", level=2)
    doc.add_paragraph(
        "Northwind will provide two weeks of on-site go-live support at each depot, "
        "followed by two weeks of remote support, to resolve issues and help dispatchers "
        "and supervisors through the first planning cycles."
    )

    doc.add_heading("3 Deliverables", level=1)
    table(
        doc,
        ["#", "Deliverable", "Section"],
        [
            ["D1", "Current-state dispatch map, one per depot", "2.2"],
            ["D2", "Future-state dispatch workflow design (signed off)", "2.3"],
            ["D3", "Configured dispatch platform, live at three depots", "2.4"],
            ["D4", "Training sessions, user guides and quick-reference cards", "2.5"],
            ["D5", "Weekly status reports", "2.1"],
            ["D6", "Go-live support and hand-over report", "2.6"],
        ],
    )

    doc.add_heading("4 Timeline", level=1)
    doc.add_paragraph(
        "The engagement starts on 7 December 2026. Indicative phases are shown below; "
        "the project manager will maintain the detailed plan."
    )
    table(
        doc,
        ["Phase", "Dates"],
        [
            ["Mobilisation and process mapping", "December 2026 – January 2027"],
            ["Workflow design and sign-off", "January – February 2027"],
            ["Platform configuration and testing", "February – April 2027"],
            ["Supervisor training", "April 2027"],
            ["Go-live, all three depots", "May 2027"],
            ["Go-live support and hand-over", "May – June 2027"],
        ],
    )
    doc.add_paragraph(
        "Go-live for the Sacramento, Fresno and Stockton depots is planned for May 2027."
    )

    doc.add_heading("5 Out of scope", level=1)
    doc.add_paragraph("The following are not part of this Statement of Work:")
    bullets(
        doc,
        [
            "Integration with Meridian's billing system (Ledgerline) or any other finance system.",
            "Changes to payroll systems or payroll processes.",
            "Warehouse management functionality.",
            "Depots other than Sacramento, Fresno and Stockton.",
            "Purchase of hardware or network equipment.",
        ],
    )
    doc.add_paragraph("Any of these can be scoped separately through a change request.")

    doc.add_heading("6 Assumptions and customer responsibilities", level=1)
    bullets(
        doc,
        [
            "Meridian will name a project sponsor (Maria Gonzalez) and an IT lead (Tom Becker).",
            "Meridian will make dispatchers and supervisors available for workshops and training.",
            "Meridian will provide access to its order management system and a test environment.",
            "Meridian is responsible for recruiting and hiring any additional dispatch staff.",
            "Meridian will provide working Wi-Fi and network access at each depot.",
            "Meridian will review deliverables and give decisions within five business days.",
        ],
    )

    doc.add_heading("7 Fees", level=1)
    doc.add_paragraph(
        "Services are provided for a fixed fee of USD 285,000, invoiced by milestone:"
    )
    table(
        doc,
        ["Milestone", "Share", "Amount (USD)"],
        [
            ["Signature of this SOW", "20%", "57,000"],
            ["Future-state workflow sign-off (D2)", "30%", "85,500"],
            ["Go-live at all three depots", "40%", "114,000"],
            ["End of go-live support (D6)", "10%", "28,500"],
            ["Total", "100%", "285,000"],
        ],
    )
    doc.add_paragraph(
        "Travel and expenses are charged at cost and are estimated at USD 18,000. "
        "Payment terms are 30 days from invoice."
    )

    doc.add_paragraph()
    sig = doc.add_paragraph(
        "For Northwind Consulting: ____________________    "
        "For Meridian Freight: ____________________"
    )
    sig.alignment = WD_ALIGN_PARAGRAPH.LEFT

    doc.save(out)
    _pin_zip_times(out)
    return out


def _pin_zip_times(path: Path) -> None:
    """Rewrite the .docx (a zip) with fixed entry times, so rebuilding gives the same bytes."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=DATE.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
