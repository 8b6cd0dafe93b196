"""Printable verification letters: one A4 page per member, as a PDF.

fpdf2 writes the PDF (pure Python, no system libraries). The letter gives the
member's name, the code and where to type it; the organisers add the postal
address when they print (window envelopes take the name block at the top left).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from fpdf import FPDF

from .services.verification import Letter


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1; other characters print as "?" rather than
    # failing the whole batch of letters.
    return text.encode("latin-1", "replace").decode("latin-1")


def letters_pdf(
    letters: Sequence[Letter], *, organisation: str, verify_url: str
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(_("Verification letters")))
    pdf.set_margins(25, 25, 25)
    for letter in letters:
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 7, _latin1(letter.user.public_name))
        pdf.ln(30)
        pdf.set_font("Helvetica", style="B", size=16)
        pdf.multi_cell(
            0, 9, _latin1(_("Your code to vote in %(org)s") % {"org": organisation})
        )
        pdf.ln(4)
        pdf.set_font("Helvetica", size=12)
        body = _(
            "Before members vote, %(org)s checks that each one is a real person on its "
            "register. Sign in, go to %(url)s and type this code:"
        ) % {"org": organisation, "url": verify_url}
        pdf.multi_cell(0, 7, _latin1(body))
        pdf.ln(6)
        pdf.set_font("Courier", style="B", size=24)
        pdf.cell(0, 14, letter.code, align="C")
        pdf.ln(20)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(
            0,
            6,
            _latin1(
                _(
                    "The code works once, for you only. Five wrong tries lock it: then "
                    "ask your organisers for a new letter."
                )
            ),
        )
    return bytes(pdf.output())
