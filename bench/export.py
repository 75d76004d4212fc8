"""4. Export: the time to make a full draft's PDF and its FHIR bundle (median of many), in a
fresh process; the first PDF (the fonts parsed and registered) is reported apart."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from bench.harness import in_child, median, percentile
from bench.report import Row, Section

ANSWER = ("Jeg er sta og glad i folk, og jeg liker å lage mat til familien min. Når jeg har "
          "gode dager går jeg tur i skogen med hunden. «Æ, ø, å» og samisk: áčđŋšŧž. ")


def full_document() -> Any:
    """A relative's whole draft: every question answered at length, one not shared."""
    from dialogs.draft import (
        Answer,
        Basis,
        Conversation,
        DraftPlan,
        Language,
        Relation,
        RequestKind,
        Role,
        Service,
        SubmissionInfo,
    )
    from dialogs.steps import QUESTION_STEPS
    from storage.exports import from_conversation

    draft = DraftPlan(
        role=Role.RELATIVE, person_name="Kari", relation=Relation.PARENT,
        basis=Basis.PARENT_OF_CHILD_UNDER_16, request=RequestKind.PLAN_AND_COORDINATOR,
        answers={step: Answer(ANSWER * (2 + number % 3), shared=number != 3)
                 for number, step in enumerate(QUESTION_STEPS)},
        services=[Service.GP, Service.SCHOOL, Service.SPECIALIST], services_answered=True,
        wishes_coordinator=True, coordinator_wish="Helsesykepleieren på skolen",
        contact_name="Ola Nordmann", phone="+4791234567", reach_time="morning",
        municipality_number="4601",
    )
    conv = Conversation(language=Language.BOKMAL, draft=draft,
                        submission=SubmissionInfo("VB992ENN", datetime(2026, 1, 31, 12, tzinfo=UTC),
                                                  "sent"))
    return from_conversation(conv)


def measure(pdf_runs: int, fhir_runs: int) -> dict[str, Any]:
    from storage.exports import bundle, to_pdf

    document = full_document()
    started = time.perf_counter()
    first = to_pdf(document)
    first_seconds = time.perf_counter() - started
    pdf: list[float] = []
    for _ in range(pdf_runs):
        started = time.perf_counter()
        to_pdf(document)
        pdf.append(time.perf_counter() - started)
    unit_pdf: list[float] = []
    for _ in range(max(5, pdf_runs // 4)):
        started = time.perf_counter()
        to_pdf(document.for_unit())
        unit_pdf.append(time.perf_counter() - started)
    fhir: list[float] = []
    size = 0
    for _ in range(fhir_runs):
        started = time.perf_counter()
        text = json.dumps(bundle(document), ensure_ascii=False)
        fhir.append(time.perf_counter() - started)
        size = len(text.encode())
    return {"pdf_first_ms": 1000 * first_seconds, "pdf_bytes": len(first),
            "pdf_ms": [1000 * s for s in pdf], "unit_pdf_ms": [1000 * s for s in unit_pdf],
            "fhir_ms": [1000 * s for s in fhir], "fhir_bytes": size}


def run(*, pdf_runs: int, fhir_runs: int) -> Section:
    got = in_child("export", "measure", pdf_runs=pdf_runs, fhir_runs=fhir_runs)
    pdf, fhir = median(got["pdf_ms"]), median(got["fhir_ms"])
    rows = [
        Row("PDF of a full draft (citizen's copy), median", f"{pdf:.1f} ms", "≤ 50 ms",
            pdf <= 50),
        Row("PDF p90 / the unit's copy median",
            f"{percentile(got['pdf_ms'], 90):.1f} / {median(got['unit_pdf_ms']):.1f} ms"),
        Row("first PDF in a fresh process (fonts loaded)", f"{got['pdf_first_ms']:.0f} ms"),
        Row("FHIR bundle (Questionnaire + Response) as JSON, median", f"{fhir:.2f} ms"),
    ]
    notes = [f"Median of {pdf_runs} PDFs ({got['pdf_bytes'] / 1024:.0f} KB each) and "
             f"{fhir_runs} FHIR bundles ({got['fhir_bytes'] / 1024:.1f} KB each); the draft is "
             "a relative's, all six answers at length, with Norwegian and Sami letters."]
    return Section("4. Export (PDF and FHIR per full draft)", rows, notes, data=got)
