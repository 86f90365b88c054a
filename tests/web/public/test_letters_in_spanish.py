"""A supporter writes a letter (and follows a search) on the Spanish site, end to end: the campaign page, a
refused form, the letter, the confirmation email through a real SMTP server (tests/factories/mail_server.py), the
confirmation page, the thanks. The interface and the supporter's emails are in Spanish; the campaign and the
letters to legislators stay in the language the organizer wrote them in."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import pytest

from archive.mail.delivery import deliver_due
from tests.factories.campaigns import HOUSE_16, SENATE_CENTRAL, add_campaign_site

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PAGE = "/campaigns/safe-streets"
CHOSEN = PAGE + "?town=Burlington&district=Chittenden-16"


@pytest.fixture
def site(mail_settings, sessions, runner, tmp_path, app_for):  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(mail_settings, min_fill_seconds=0)  # the test client is quicker than a person
    add_campaign_site(sessions, runner, tmp_path)
    return settings, app_for(settings)


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def letter_form(page: str) -> dict[str, object]:
    form = page.split('<form class="letter"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, object] = {"district": []}
    for name, value in re.findall(r'<input[^>]*? name="([^"]+)"[^>]*? value="([^"]*)"', form):
        if name == "district":
            fields["district"].append(unescape(value))  # type: ignore[union-attr]
        else:
            fields[name] = unescape(value)
    fields["body"] = unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S).group(1))
    return fields


def test_a_letter_written_on_the_spanish_site(site, smtp_server) -> None:  # type: ignore[no-untyped-def]
    settings, app = site
    client = app.test_client()
    # The visitor's browser asks for English; they choose Spanish with the switch, and it is remembered.
    assert client.get(f"/language/es?next={PAGE}").status_code == 303
    english = {"Accept-Language": "en-US,en"}

    # A split town: the lookup's words and the district's choice in Spanish, the names as the directory has them.
    split = html_of(client.get(PAGE + "?town=burlington", headers=english))
    assert "Burlington está dividido entre los distritos electorales (Cámara de Representantes)" in split
    assert "¿No sabe cuál es su distrito?" in split and "Usar este distrito" in split

    page = html_of(client.get(CHOSEN, headers=english))
    assert '<html lang="es">' in page
    assert '<h2 id="write">Escriba a sus legisladores</h2>' in page and "Enviar mi carta</button>" in page
    assert 'data-sending="Enviando…"' in page  # the script's word, from the page
    assert "<h1>Safe streets for everyone</h1>" in page  # the campaign as its organizer wrote it
    assert "A council member was heard on a hot mic." in page
    form = letter_form(page)

    # A form the site refuses: the reason in Spanish, beside the letter, which is kept.
    refused = client.post(PAGE + "/letters", data={**form, "name": "", "email": "rosa@example.org"}, headers=english)
    assert refused.status_code == 400
    assert "Su nombre: por favor, complete este campo" in html_of(refused)
    wrong = client.post(PAGE + "/letters", data={**form, "name": "Rosa Díaz", "email": "rosa@"}, headers=english)
    assert "Su correo electrónico: no parece una dirección de correo electrónico" in html_of(wrong)

    written = client.post(PAGE + "/letters", data={**form, "name": "Rosa Díaz", "email": "rosa@example.org"})
    assert written.status_code == 303
    sent_page = html_of(client.get(written.headers["Location"]))
    assert "<h1>Revise su correo electrónico</h1>" in sent_page and "todavía no se ha enviado" in sent_page

    # The confirmation email, through the SMTP server, in Spanish.
    assert deliver_due(settings, app.extensions["sessions"]).sent == 1
    (confirmation,) = smtp_server.mailbox("rosa@example.org").values()
    assert confirmation["Subject"] == "Por favor, confirme su carta: Safe streets for everyone"
    body = confirmation.get_content()
    assert body.startswith("Hola, Rosa Díaz:\n\nUsted escribió una carta para “Safe streets for everyone”")
    assert "presione “Enviar mi carta”" in body and f"durante {settings.confirm_hours} horas" in body
    assert "Representative Jill Krowinski" in body  # the legislators as the letter addresses them
    link = re.search(r"http://localhost(/campaigns/safe-streets/confirm/\S+)", body).group(1)

    shown = html_of(client.get(link))
    assert "<h1>Envíe su carta</h1>" in shown
    assert "Dear Representative Jill Krowinski," in shown  # the letter stays in the organizer's language
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown).group(1)
    thanks = client.post(link, data={"csrf_token": token})
    assert thanks.status_code == 303
    thanked = html_of(client.get(thanks.headers["Location"]))
    assert "<h1>Gracias: su carta está en camino</h1>" in thanked
    assert "<strong>1</strong> simpatizante · <strong>1</strong> carta confirmada" in thanked

    # The legislators get the letter as it was written, in English, whatever the supporter's interface.
    assert deliver_due(settings, app.extensions["sessions"]).sent == len(HOUSE_16) + len(SENATE_CENTRAL)
    (letter,) = smtp_server.mailbox("jkrowinski@leg.state.vt.us").values()
    assert letter["Subject"] == "Please act on the council's remark"
    text = letter.get_content()
    assert text.startswith("Dear Representative Jill Krowinski,\n\n") and "Rosa Díaz" in text
    assert not any(word in text for word in ("Hola", "Estimad", "carta"))


def test_an_english_visitor_gets_the_emails_in_english(site, smtp_server) -> None:  # type: ignore[no-untyped-def]
    settings, app = site
    client = app.test_client()
    form = letter_form(html_of(client.get(CHOSEN, headers={"Accept-Language": "en"})))
    client.post(PAGE + "/letters", data={**form, "name": "Ann Lee", "email": "ann@example.org"})
    assert deliver_due(settings, app.extensions["sessions"]).sent == 1
    (confirmation,) = smtp_server.mailbox("ann@example.org").values()
    assert confirmation["Subject"] == "Please confirm your letter: Safe streets for everyone"
    assert confirmation.get_content().startswith("Hello Ann Lee,")


def test_following_a_search_on_the_spanish_site(site, smtp_server) -> None:  # type: ignore[no-untyped-def]
    settings, app = site
    client = app.test_client()
    spanish = {"Accept-Language": "es"}
    page = html_of(client.get("/follow?kind=search&target=illegally", headers=spanish))
    assert "<h1>Seguir la búsqueda “illegally” por correo electrónico</h1>" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "kind": "search", "target": "illegally", "email": "lector@example.org"}
    asked = client.post("/follow", data=form, headers=spanish)
    assert asked.status_code == 200 and "<h1>Revise su correo electrónico</h1>" in html_of(asked)
    assert deliver_due(settings, app.extensions["sessions"]).sent == 1
    (confirmation,) = smtp_server.mailbox("lector@example.org").values()
    assert confirmation["Subject"] == "Por favor, confirme: seguir la búsqueda “illegally” por correo electrónico"
    assert "presione “Seguir”" in confirmation.get_content()
    link = re.search(r"http://localhost(/follow/confirm/\S+)", confirmation.get_content()).group(1)
    shown = html_of(client.get(link, headers=spanish))
    assert "<h1>Seguir la búsqueda “illegally” por correo electrónico</h1>" in shown
