"""Languages through the gateway's pages (in-process gateway, real courses service over HTTP, SQLite and
PostgreSQL): Accept-Language negotiation, the switcher and the account's language across logins, and
the content fallback chain with its notice, default and configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deploy.seed import COURSE_EN_ID, COURSE_RU_ID, seed_gateway
from tests.conftest import Databases, seed_courses_service, serve, service_settings, thread_server

pytestmark = pytest.mark.asyncio(loop_scope="session")
Web = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest_asyncio.fixture
async def web(databases: Databases, gateway_url: str, key_dir: Path) -> AsyncIterator[Web]:
    """`async with web(**gateway_settings) as client`: a gateway (own fresh database) in front of one
    courses service with the demo courses (English, and its Russian translation)."""
    from gateway.app import build_app as gateway_app
    from services.courses.app import build_app as courses_app

    courses = courses_app(
        service_settings("courses", databases.fresh("courses", seed_courses_service), gateway_url=gateway_url)
    )
    with thread_server(courses) as courses_url:

        @asynccontextmanager
        async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
            gateway = gateway_app(
                service_settings(
                    "gateway",
                    databases.fresh("gateway", seed_gateway),
                    signing_key_dir=key_dir,
                    courses_url=courses_url,
                    rate_limit_per_ip=10_000,
                    cookie_secure=False,
                    **overrides,
                )
            )
            async with serve(gateway) as client:
                yield client

        yield make


async def login(client: httpx.AsyncClient, username: str) -> None:
    response = await client.post(
        "/login", data={"username": username, "password": f"{username}-demo", "next": "/courses"}
    )
    assert response.status_code == 303, response.text


def html_lang(page: httpx.Response) -> str:
    return page.text.split('<html lang="', 1)[1].split('"', 1)[0]


def note(page: httpx.Response) -> str | None:
    """The fallback notice on a course page (its lang attribute and text), or None."""
    if 'role="note"' not in page.text:
        return None
    return page.text.split('role="note" ', 1)[1].split("<a ", 1)[0].split("</p>", 1)[0].strip()


async def test_accept_language_chooses_the_page_language(web: Web) -> None:
    async with web() as client:
        russian = await client.get("/login", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.8"})
        assert russian.status_code == 200 and html_lang(russian) == "ru"
        assert russian.headers["content-language"] == "ru" and "Accept-Language" in russian.headers["vary"]
        assert "Пароль" in russian.text and "Имя пользователя или эл. почта" in russian.text
        assert "Password" not in russian.text

        catalogue = await client.get("/courses", headers={"accept-language": "ru"})
        assert html_lang(catalogue) == "ru" and "<h1>Курсы</h1>" in catalogue.text
        assert (
            f"/courses/{COURSE_RU_ID}" in catalogue.text and f"/courses/{COURSE_EN_ID}" not in catalogue.text
        )

        # Quality values count; a language we do not ship is skipped; scripts are matched.
        kazakh = await client.get("/login", headers={"accept-language": "de-DE, ru;q=0.4, kk-KZ;q=0.8"})
        assert html_lang(kazakh) == "kk" and "Құпиясөз" in kazakh.text
        cyrillic = await client.get("/login", headers={"accept-language": "uz-Cyrl-UZ"})
        assert html_lang(cyrillic) == "uz-Cyrl" and cyrillic.headers["content-language"] == "uz-Cyrl"
        other = await client.get("/login", headers={"accept-language": "fr-FR,fr;q=0.9"})
        assert html_lang(other) == "en" and "Password" in other.text
        assert html_lang(await client.get("/login")) == "en"
        assert not client.cookies  # negotiation remembers nothing


async def test_the_switcher_is_a_form_on_every_page(web: Web) -> None:
    async with web() as client:
        for path in ("/login", "/courses", f"/courses/{COURSE_EN_ID}", "/courses/no-such-course"):
            page = await client.get(path, headers={"accept-language": "ru"})
            form = page.text.split('<form method="post" action="/lang"', 1)[1].split("</form>", 1)[0]
            assert f'name="next" value="{path}"' in form, path
            assert '<strong lang="ru" aria-current="true">Русский</strong>' in form
            assert '<button name="lang" value="kk" lang="kk">Қазақша</button>' in form
            assert form.count("<button") == 7, path  # every other language is one press away


async def test_anonymous_choice_is_remembered_on_the_device(web: Web) -> None:
    async with web() as client:
        switched = await client.post("/lang", data={"lang": "kk", "next": "/courses?q=phone"})
        assert switched.status_code == 303 and switched.headers["location"] == "/courses?q=phone"
        assert client.cookies["ustaz_lang"] == "kk"
        page = await client.get("/courses", headers={"accept-language": "ru"})  # the choice beats the header
        assert html_lang(page) == "kk" and "<h1>Курстар</h1>" in page.text


async def test_a_teachers_choice_persists_across_logout_and_login(web: Web) -> None:
    async with web() as client:
        await login(client, "teacher")  # seeded with Russian
        assert html_lang(await client.get("/courses")) == "ru"

        switched = await client.post("/lang", data={"lang": "kk", "next": "/courses"})
        assert switched.status_code == 303
        page = await client.get("/courses")
        assert html_lang(page) == "kk" and "Шығу" in page.text  # "Log out"

        assert (await client.post("/logout")).status_code == 303
        login_page = await client.get("/login")
        assert html_lang(login_page) == "kk"  # this device still speaks Kazakh

        client.cookies.clear()  # another phone: nothing but the account remembers the choice
        assert html_lang(await client.get("/login")) == "en"
        await login(client, "teacher")
        page = await client.get("/courses")
        assert html_lang(page) == "kk" and "Шығу" in page.text and client.cookies["ustaz_lang"] == "kk"

        # The account's language wins at login over what the device showed before.
        client.cookies.clear()
        await client.post("/lang", data={"lang": "en"})
        await login(client, "teacher")
        assert html_lang(await client.get("/courses")) == "kk"

        # Switching again while signed in (the access token still says kk) is saved too.
        await client.post("/lang", data={"lang": "ky"})
        client.cookies.clear()
        await login(client, "teacher")
        assert html_lang(await client.get("/courses")) == "ky"


async def test_an_unknown_language_is_refused_and_changes_nothing(web: Web) -> None:
    async with web() as client:
        await login(client, "teacher")
        for bad in ({"lang": "xx"}, {"lang": ""}, {"lang": "kk\r\nSet-Cookie: a=b"}, {}):
            refused = await client.post("/lang", data=bad, headers={"accept-language": "ru"})
            assert refused.status_code == 400 and "Неизвестный язык" in refused.text, bad
            assert client.cookies["ustaz_lang"] == "ru" and "set-cookie" not in refused.headers
        client.cookies.clear()
        await login(client, "teacher")
        assert client.cookies["ustaz_lang"] == "ru"  # the account is unchanged
        # Only paths on this site are followed back.
        for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
            switched = await client.post("/lang", data={"lang": "ru", "next": target})
            assert switched.status_code == 303 and switched.headers["location"] == "/", target


async def test_content_falls_back_along_the_chain_with_a_notice(web: Web) -> None:
    async with web() as client:
        await client.post("/lang", data={"lang": "kk"})  # default chain kk -> ru -> en
        catalogue = await client.get("/courses")
        assert (
            f"/courses/{COURSE_RU_ID}" in catalogue.text and f"/courses/{COURSE_EN_ID}" not in catalogue.text
        )

        russian = await client.get(f"/courses/{COURSE_RU_ID}")
        assert html_lang(russian) == "kk"  # the page's own words are Kazakh; the content is marked Russian
        assert '<h1 lang="ru">' in russian.text
        # In Kazakh, with the language names from CLDR in Kazakh.
        assert note(russian) == (
            'lang="kk">Курстың орыс тілі нұсқасы көрсетілді: қазақ тілі аудармасы әлі жоқ.'
        )

        await client.post("/lang", data={"lang": "ru"})
        english = await client.get(f"/courses/{COURSE_EN_ID}")
        assert note(english) == (
            'lang="ru">Показано на языке «английский»: перевода на язык «русский» пока нет.'
        )
        assert f'<a href="/courses/{COURSE_RU_ID}" lang="ru">Русский</a>' in english.text  # the better one
        assert note(await client.get(f"/courses/{COURSE_RU_ID}")) is None

        await client.post("/lang", data={"lang": "en"})
        assert note(await client.get(f"/courses/{COURSE_EN_ID}")) is None
        assert note(await client.get(f"/courses/{COURSE_RU_ID}")) == (
            'lang="en">Shown in Russian: not yet translated into English.'
        )


async def test_the_fallback_chain_is_a_setting(web: Web) -> None:
    async with web(content_fallback="kk:en,ru") as client:
        await client.post("/lang", data={"lang": "kk"})
        catalogue = await client.get("/courses")
        assert (
            f"/courses/{COURSE_EN_ID}" in catalogue.text and f"/courses/{COURSE_RU_ID}" not in catalogue.text
        )
        assert note(await client.get(f"/courses/{COURSE_EN_ID}")) == (
            'lang="kk">Курстың ағылшын тілі нұсқасы көрсетілді: қазақ тілі аудармасы әлі жоқ.'
        )
        await client.post("/lang", data={"lang": "ru"})  # languages the setting does not name keep theirs
        assert f"/courses/{COURSE_RU_ID}" in (await client.get("/courses")).text

    with pytest.raises(ValueError, match="content fallback"):
        service_settings("gateway", "sqlite://", content_fallback="kk:xx")
