"""The editor and review pages through the gateway (in-process) and a real courses service over HTTP, on
SQLite and PostgreSQL, driven as a browser without JavaScript drives them: each page's form is read
back from its HTML, a few fields changed, and posted with the button's `op`."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from PIL import Image

from deploy.seed import COURSE_EN_ID, demo_course
from tests.integration.test_courses_pages import login, web  # noqa: F401 (fixture)

pytestmark = pytest.mark.asyncio(loop_scope="session")
Web = tuple[httpx.AsyncClient, str]


class FormReader(HTMLParser):
    """The fields a browser would send for each form of a page (checked boxes only, selected options)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._text: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def _form(self) -> dict[str, Any]:
        return self.forms[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("file", "submit"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._form()["fields"].append(
                (a["name"], a.get("value", "on" if "checkbox" == a.get("type") else ""))
            )
        elif tag == "textarea" and a.get("name"):
            self._text = (a["name"], [])
        elif tag == "select" and a.get("name"):
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._form()["fields"].append((self._select, value))
                self._first_option = "\0"

    def handle_data(self, data: str) -> None:
        if self._text:
            self._text[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._text:
            text = "".join(self._text[1])
            self._form()["fields"].append((self._text[0], text[1:] if text.startswith("\n") else text))
            self._text = None
        elif tag == "select" and self._select:
            if self._first_option not in (None, "\0"):
                self._form()["fields"].append((self._select, self._first_option))
            self._select = None


def form_of(html: str, index: int = 0) -> list[tuple[str, str]]:
    reader = FormReader()
    reader.feed(html)
    fields: list[tuple[str, str]] = reader.forms[index + 1]["fields"]  # form 0: the language switcher
    return fields


def change(fields: list[tuple[str, str]], **values: Any) -> list[tuple[str, str]]:
    """Set fields (names with dots as __); a list sets a multi-valued field, None removes it."""
    out = list(fields)
    for key, value in values.items():
        name = key.replace("__", ".")
        out = [(n, v) for n, v in out if n != name]
        if value is None:
            continue
        out += [(name, str(v)) for v in (value if isinstance(value, list) else [value])]
    return out


async def press(
    client: httpx.AsyncClient, url: str, op: str, form_index: int = 0, files: Any = None, **values: Any
) -> httpx.Response:
    page = await client.get(url)
    assert page.status_code == 200, page.text
    fields = change(form_of(page.text, form_index), **values) + [("op", op)]
    return await client.post(url, data=body(fields), files=files)


def alert(response: httpx.Response) -> str:
    found = re.search(r'role="alert".*?</div>', response.text, re.S)
    return found.group(0) if found else response.text[-2000:]


def body(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as httpx sends them (a name sent once per value, in order)."""
    out: dict[str, list[str]] = {}
    for name, value in fields:
        out.setdefault(name, []).append(value)
    return out


def ids_in_order(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


async def new_course(client: httpx.AsyncClient, slug: str) -> str:
    created = await client.post(
        "/author/new", data={"title": "Phones in class", "slug": slug, "language": "en"}
    )
    assert created.status_code == 303
    return str(created.headers["location"])


async def test_the_outline_adds_renames_reorders_and_removes(web: Web) -> None:
    client, _ = web
    await login(client, "author")
    url = await new_course(client, "outline-course")
    added = await press(client, url, "add-module")
    assert added.status_code == 303, alert(added)
    assert added.headers["location"].endswith("?saved=1#m2")
    assert (await press(client, url, "add-quiz:m1")).status_code == 303
    assert (await press(client, url, "add-lesson:m2")).status_code == 303
    page = await client.get(url)
    assert ids_in_order(page.text, r'name="item\.(\w+)\.title"') == ["l1", "q1", "l2"]
    renamed = await press(
        client, url, "save", module__m2__title="Using the results", item__l2__title="Reading answers"
    )
    assert renamed.status_code == 303
    page = await client.get(url)
    assert 'value="Using the results"' in page.text and 'value="Reading answers"' in page.text
    # Up at the top of a module moves the item to the end of the previous one; modules move too.
    await press(client, url, "up:l2")
    page = await client.get(url)
    assert ids_in_order(page.text, r'name="item\.(\w+)\.title"') == ["l1", "q1", "l2"]
    assert re.search(r'data-module="m2">\s*<li class="muted">', page.text)  # m2 is empty now
    await press(client, url, "up:q1")
    await press(client, url, "down:m1")
    page = await client.get(url)
    assert ids_in_order(page.text, r'name="module\.(\w+)\.title"') == ["m2", "m1"]
    assert ids_in_order(page.text, r'name="item\.(\w+)\.title"') == ["q1", "l1", "l2"]
    await press(client, url, "move:q1:m2:0")  # what a drag and drop posts
    page = await client.get(url)
    assert ids_in_order(page.text, r'name="item\.(\w+)\.title"') == ["q1", "l1", "l2"]
    # Removing asks first; the question page carries the ETag of the save it made.
    confirm = await press(client, url, "remove:m1")
    assert confirm.status_code == 200 and "Remove “Module 1”?" in confirm.text
    assert (await client.get(url)).text.count('name="module.') == 2  # nothing removed yet
    removed = await client.post(url, data=body(form_of(confirm.text) + [("op", "remove-confirmed:m1")]))
    assert removed.status_code == 303
    page = await client.get(url)
    assert ids_in_order(page.text, r'name="item\.(\w+)\.title"') == ["q1"]
    # A number typed as words comes back as typed, beside its error; nothing is saved.
    bad = await press(client, url, "save", estimated_minutes="twenty", title="Changed title")
    assert bad.status_code == 422 and 'value="twenty"' in bad.text and 'value="Changed title"' in bad.text
    assert 'aria-invalid="true"' in bad.text and "whole number of minutes" in bad.text
    assert 'value="Changed title"' not in (await client.get(url)).text
    # An empty module or quiz cannot go to review; the errors link to what to fix.
    refused = await press(client, url, "submit")
    assert refused.status_code == 422 and "This quiz has no question yet." in refused.text
    assert "/items/q1#f-questions" in refused.text


async def test_a_lesson_keeps_its_text_on_errors_and_takes_tags_and_pictures(web: Web) -> None:
    client, _ = web
    await login(client, "author")
    url = await new_course(client, "lesson-course") + "/items/l1"
    text = "## One phone\n\nIntro\n\n![](https://example.org/p.png)\n\n<script>alert(1)</script>[x](javascript:alert(1))"
    bad = await press(client, url, "save", markdown=text)
    assert bad.status_code == 422 and "Line 5" in bad.text and "no alt text" in bad.text
    assert "## One phone" in bad.text and 'id="f-markdown" aria-invalid="true"' in bad.text
    good = await press(client, url, "save", markdown=text.replace("![]", "![A class]"))
    assert good.status_code == 303
    page = await client.get(url)
    preview = page.text.split('class="phone"', 1)[1]
    assert "<h2>One phone</h2>" in preview and "<script>alert" not in page.text
    assert 'href="javascript' not in page.text and "KB of text" in page.text

    # Competencies: a search shows boxes to tick; the tick saves the tag; unticking removes it.
    found = await press(client, url, "search", cq="II.KA")
    assert found.status_code == 200 and 'value="II.KA.1"' in found.text
    tagged = await client.post(
        url, data=body(form_of(found.text) + [("ind", "II.KA.1"), ("ind", "III.KA.2"), ("op", "save")])
    )
    assert tagged.status_code == 303
    page = await client.get(url)
    assert re.search(r'name="ind" value="II\.KA\.1" checked', page.text)
    assert re.search(r'name="ind" value="III\.KA\.2" checked', page.text)
    await press(client, url, "save", ind="III.KA.2")
    assert not re.search(r'name="ind" value="II\.KA\.1" checked', (await client.get(url)).text)

    # A picture: refused without a description (the text typed stays), refused when not a picture.
    out = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 120, 200)).save(out, "PNG")
    png = out.getvalue()
    no_alt = await press(
        client, url, "upload", files={"image": ("class.png", png, "image/png")}, markdown="Kept text"
    )
    assert no_alt.status_code == 422 and "Describe the image" in no_alt.text and "Kept text" in no_alt.text
    not_image = await press(client, url, "upload", files={"image": ("a.png", b"hello", "image/png")}, alt="x")
    assert not_image.status_code == 415 and "not a picture" in not_image.text
    uploaded = await press(
        client, url, "upload", files={"image": ("class.png", png, "image/png")}, alt="A class with one phone"
    )
    assert uploaded.status_code == 303, uploaded.text
    page = await client.get(url)
    src = re.search(r"!\[A class with one phone\]\((/api/v1/courses/images/[0-9a-f]{64}\.webp)\)", page.text)
    assert src and f'src="{src.group(1)}"' in page.text.split('class="phone"', 1)[1]
    assert re.search(r"2 pictures, \d+\.\d KB and some of unknown size", page.text)
    image = await client.get(src.group(1))
    assert (
        image.status_code == 200 and image.headers["cache-control"] == "public, max-age=31536000, immutable"
    )


async def test_a_quiz_is_written_in_forms_one_per_question_type(web: Web) -> None:
    client, _ = web
    await login(client, "author")
    course = await new_course(client, "quiz-course")
    await press(client, course, "add-quiz:m1")
    url = course + "/items/q1"
    # "Add" shows a blank question, not yet saved; its form comes back until it can be graded.
    added = await press(client, url, "add", add_kind="single")
    assert added.status_code == 200 and "It is saved when you press Save" in added.text
    assert 'name="q.n1.o0.text"' in added.text
    fields = change(
        form_of(added.text),
        q__n1__prompt="Which check needs no internet?",
        q__n1__o0__text="Answer cards",
        q__n1__o0__why="Paper works anywhere.",
        q__n1__o1__text="An online poll",
    )
    unmarked = await client.post(url, data=body(fields + [("op", "save")]))
    assert unmarked.status_code == 422 and "Mark the correct answer." in unmarked.text
    assert 'value="Answer cards"' in unmarked.text and 'value="Paper works anywhere."' in unmarked.text
    saved = await client.post(url, data=body(change(fields, q__n1__correct="0") + [("op", "save")]))
    assert saved.status_code == 303

    # One question of each other type; a number typed with a decimal comma, a bad one kept as typed.
    page = await press(client, url, "add", add_kind="numeric")
    numeric_id = re.findall(r'name="q\.(\w+)\.value"', page.text)[-1]
    fields = change(
        form_of(page.text),
        **{f"q__{numeric_id}__prompt": "21 of 30 is what percent?", f"q__{numeric_id}__value": "seventy"},
    )
    kept = await client.post(url, data=body(fields + [("op", "save")]))
    assert kept.status_code == 422 and 'value="seventy"' in kept.text and "Type a number" in kept.text
    fields = change(fields, **{f"q__{numeric_id}__value": "70,0", f"q__{numeric_id}__tolerance": "0,5"})
    assert (await client.post(url, data=body(fields + [("op", "save")]))).status_code == 303
    page = await press(client, url, "add", add_kind="short_text")
    short_id = re.findall(r'name="q\.(\w+)\.accepted"', page.text)[-1]
    fields = change(
        form_of(page.text),
        **{f"q__{short_id}__prompt": "Name a free tool", f"q__{short_id}__accepted": "paper\nCards "},
    )
    assert (await client.post(url, data=body(fields + [("op", "save")]))).status_code == 303
    page = await press(client, url, "add", add_kind="true_false")
    tf_id = re.findall(r'name="q\.(\w+)\.why\.true"', page.text)[-1]
    fields = change(
        form_of(page.text),
        **{
            f"q__{tf_id}__prompt": "A poll needs internet.",
            f"q__{tf_id}__correct": "false",
            f"q__{tf_id}__why__true": "Cards work offline.",
        },
    )
    assert (await client.post(url, data=body(fields + [("op", "save")]))).status_code == 303

    page = await client.get(url)
    assert ids_in_order(page.text, r'name="questions" value="(\w+)"') == ["n1", numeric_id, short_id, tf_id]
    assert 'value="70"' in page.text and 'value="0.5"' in page.text and "paper\nCards</textarea>" in page.text
    assert (await press(client, url, "down:n1")).status_code == 303
    page = await client.get(url)
    assert ids_in_order(page.text, r'name="questions" value="(\w+)"') == [numeric_id, "n1", short_id, tf_id]
    confirm = await press(client, url, f"remove:{short_id}")
    assert confirm.status_code == 200
    assert (
        await client.post(url, data=body(form_of(confirm.text) + [("op", f"remove-confirmed:{short_id}")]))
    ).status_code == 303
    page = await client.get(url)
    assert ids_in_order(page.text, r'name="questions" value="(\w+)"') == [numeric_id, "n1", tf_id]
    assert "Which check needs no internet?" in page.text.split('class="phone"', 1)[1]


async def test_two_authors_get_a_conflict_page_with_both_versions(web: Web) -> None:
    client, courses_url = web
    await login(client, "author")
    url = await new_course(client, "conflict-course") + "/items/l1"
    first = await client.get(url)
    second = await client.get(url)
    mine = change(form_of(first.text), markdown="My version of the lesson.")
    theirs = change(form_of(second.text), markdown="Their version of the lesson.")
    assert (await client.post(url, data=body(theirs + [("op", "save")]))).status_code == 303
    clash = await client.post(url, data=body(mine + [("op", "save")]))
    assert clash.status_code == 409 and "Someone else saved this draft" in clash.text
    assert "My version of the lesson." in clash.text and "Their version of the lesson." in clash.text
    assert "Their version" in (await client.get(url)).text  # nothing was overwritten
    kept = await client.post(url, data=body(form_of(clash.text) + [("op", "overwrite")]))
    assert kept.status_code == 303
    assert "My version of the lesson." in (await client.get(url)).text
    # The conflict page's form is itself stale once someone saves again.
    again = await client.post(url, data=body(form_of(clash.text) + [("op", "overwrite")]))
    assert again.status_code == 409


async def test_review_shows_keys_diff_and_comments_reach_the_author(web: Web) -> None:
    client, _ = web
    await login(client, "author")
    quiz = next(i for m in demo_course("en")["modules"] for i in m["items"] if i["type"] == "quiz")
    url = f"/author/courses/{COURSE_EN_ID}/items/l2"
    changed = await press(client, url, "save", markdown="## One device is enough\n\nA new line for grade 5.")
    assert changed.status_code == 303
    numeric = quiz["questions"][2]["id"]
    await press(
        client,
        f"/author/courses/{COURSE_EN_ID}/items/{quiz['id']}",
        "save",
        **{f"q__{numeric}__tolerance": "1"},
    )
    assert (await press(client, f"/author/courses/{COURSE_EN_ID}", "submit")).status_code == 303

    await login(client, "institute")
    await client.post("/lang", data={"lang": "en"})  # the demo admin's account is in Russian
    review = await client.get(f"/review/courses/{COURSE_EN_ID}")
    assert review.status_code == 200
    text = review.text
    assert "To adjust teaching while pupils learn" in text and "✓ correct" in text  # options and the key
    assert "Tolerance (±)" in text and "70" in text
    assert (
        '<del><span class="vh">removed: </span>− 1. Prepare three questions before the lesson.</del>' in text
    )
    assert '<ins><span class="vh">added: </span>+ A new line for grade 5.</ins>' in text
    assert "tolerance: 0.5" in text and "tolerance: 1" in text
    nothing = await client.post(
        f"/review/courses/{COURSE_EN_ID}", data={"decision": "send_back", "comment": ""}
    )
    assert nothing.status_code == 422
    back = await client.post(
        f"/review/courses/{COURSE_EN_ID}",
        data={"decision": "send_back", "comment": "", "comment.l2": "Say which grade the example is for."},
    )
    assert back.status_code == 303

    await login(client, "author")
    outline = await client.get(f"/author/courses/{COURSE_EN_ID}")
    assert "Say which grade the example is for." in outline.text
    assert "Say which grade the example is for." in (await client.get(url)).text


async def test_a_translation_is_edited_beside_its_original(web: Web) -> None:
    client, _ = web
    await login(client, "author")
    page = await client.get(f"/author/courses/{COURSE_EN_ID}")
    made = await client.post(
        f"/author/courses/{COURSE_EN_ID}", data={"op": "translate", "language": "kk", "slug": "assessment-kk"}
    )
    assert made.status_code == 303, made.text
    kk = made.headers["location"]
    outline = await client.get(kk)
    assert outline.status_code == 200 and 'class="original" lang="en"' in outline.text
    lesson = await client.get(kk + "/items/l1")
    assert "Small checks, big effect" in lesson.text.split('class="original"', 1)[1]  # the original, rendered
    quiz_id = next(i["id"] for m in demo_course("en")["modules"] for i in m["items"] if i["type"] == "quiz")
    quiz = await client.get(f"{kk}/items/{quiz_id}")
    assert "What is the main purpose of formative assessment?" in quiz.text.split('class="original"', 2)[2]
    again = await client.post(
        f"/author/courses/{COURSE_EN_ID}",
        data={"op": "translate", "language": "kk", "slug": "assessment-kk2"},
    )
    assert again.status_code == 409 and "already has a version" in again.text
    assert page.status_code == 200


def section(html: str, key: str) -> str:
    """The author home's section `key` (drafts, sent-back, in-review) as HTML."""
    return html.split(f'data-section="{key}"', 1)[1].split("</section>", 1)[0]


async def test_the_author_home_sorts_drafts_sent_back_and_in_review(
    web: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = web
    await login(client, "author")
    url = await new_course(client, "pupils-phones")
    course_id = url.rsplit("/", 1)[1]
    home = (await client.get("/author")).text
    assert course_id in section(home, "drafts") and course_id not in section(home, "in-review")
    assert (await press(client, f"{url}/items/l1", "save", markdown="## One phone")).status_code == 303
    submitted = await press(client, url, "submit")
    assert submitted.status_code == 303, submitted.text[-1500:]
    assert course_id in section((await client.get("/author")).text, "in-review")

    await login(client, "institute")
    queue = section((await client.get("/author")).text, "in-review")
    assert f'href="/review/courses/{course_id}"' in queue  # the admin's review queue links the review
    sent = await client.post(
        f"/review/courses/{course_id}", data={"decision": "send_back", "comment": "Add a second lesson."}
    )
    assert sent.status_code == 303

    await login(client, "author")
    home = (await client.get("/author")).text
    back = section(home, "sent-back")
    assert course_id in back and "Add a second lesson." in back
    assert course_id not in section(home, "drafts") and course_id not in section(home, "in-review")

    # Sent back again with a comment on one item only: still "sent back", saying how many comments.
    assert (await press(client, url, "submit")).status_code == 303
    await login(client, "institute")
    await client.post("/lang", data={"lang": "en"})  # the demo admin's account is in Russian
    sent = await client.post(
        f"/review/courses/{course_id}",
        data={"decision": "send_back", "comment": "", "comment.l1": "Shorter."},
    )
    assert sent.status_code == 303
    await login(client, "author")
    back = section((await client.get("/author")).text, "sent-back")
    assert course_id in back and "1 comment on the items" in back
