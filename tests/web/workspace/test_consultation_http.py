"""An opinion asked of the CNSS from a MEF letter, over HTTP: the CNSS's clerk finds the consultation in
its queue and assigns it, its agent answers, and the answer shows on the MEF's letter; with the checks of
the new action (roles, only on consultations, a tampered consulted party)."""

from __future__ import annotations

import re

from ..conftest import new_cin, wait_until
from .conftest import sign_in
from .test_roles_http import act, citizen_letter

CNSS = "MA/GOV/CNSS/bureau-ordre"
NUMBER = re.compile(r'href="/workspace/mail/([^"]+)"')


def test_an_opinion_asked_of_the_cnss_is_answered_there_and_shows_on_the_mef_letter(new_client):
    subject = "Demande de pension " + new_cin()
    number = citizen_letter(new_client, subject)
    clerk, agent = new_client(), new_client()
    sign_in(clerk, "mef.clerc")
    sign_in(agent, "mef.agent")
    assert act(clerk, number, "assign", service="rh").status_code == 303
    page = agent.get(f"/workspace/mail/{number}")
    assert f'<option value="{CNSS}">' in page.text
    asked = act(agent, number, "request-opinion", service=CNSS, question="Le demandeur est-il affilié ?")
    assert asked.status_code == 303, asked.text

    cnss_clerk, cnss_agent = new_client(), new_client()
    sign_in(cnss_clerk, "cnss.clerc")
    sign_in(cnss_agent, "cnss.agent")

    def in_cnss_queue() -> str | None:
        row = next(
            (line for line in cnss_clerk.get("/workspace/mail").text.split("<tr") if subject in line), None
        )
        match = NUMBER.search(row) if row else None
        return match.group(1) if match else None

    consultation = wait_until(in_cnss_queue, what="the consultation at the CNSS")
    shown = cnss_clerk.get(f"/workspace/mail/{consultation}")
    assert "Consultation d'une autre administration" in shown.text and number in shown.text
    assert act(cnss_clerk, consultation, "answer-consultation", opinion="x").status_code == 403  # a clerk
    assert act(cnss_clerk, consultation, "assign", service="prestations").status_code == 303
    assert 'do/answer-consultation"' in cnss_agent.get(f"/workspace/mail/{consultation}").text
    answered = act(cnss_agent, consultation, "answer-consultation", opinion="Affilié depuis 2019, à jour.")
    assert answered.status_code == 303, answered.text

    def opinion_shown() -> bool:
        return "Affilié depuis 2019, à jour." in agent.get(f"/workspace/mail/{number}").text

    wait_until(opinion_shown, what="the CNSS's opinion on the MEF letter")
    text = agent.get(f"/workspace/mail/{number}").text
    assert "cnss.agent (Meryem Idrissi), MA/GOV/CNSS/bureau-ordre" in text
    assert "Caisse Nationale de Sécurité Sociale</bdi> (par le bus)" in text
    assert "Affecté" in text  # the letter is back with its service


def test_the_consulted_party_must_be_a_service_or_a_known_office(new_client):
    number = citizen_letter(new_client, "Demande sans avis " + new_cin())
    clerk, agent = new_client(), new_client()
    sign_in(clerk, "mef.clerc")
    sign_in(agent, "mef.agent")
    act(clerk, number, "assign", service="rh")
    for consulted in ("MA/GOV/PORTAIL/guichet", "MA/GOV/XX/ailleurs", "MA/GOV/MEF/bureau-ordre", "inconnu"):
        response = act(agent, number, "request-opinion", service=consulted, question="?")
        assert response.status_code == 400, consulted
    assert "En attente d&#39;avis" not in agent.get(f"/workspace/mail/{number}").text
    # answering is for consultations only, even for an agent of the letter's service
    assert act(agent, number, "answer-consultation", opinion="x").status_code == 403
    cnss_agent = new_client()
    sign_in(cnss_agent, "cnss.agent")
    assert cnss_agent.get(f"/workspace/mail/{number}").status_code == 404  # another administration's letter
