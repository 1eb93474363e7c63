"""Quiz questions as QTI 1.2 items of Common Cartridge 1.3's QTI profile (docs/adr/0018), both ways.

| Ustaz | cc_profile | how |
|---|---|---|
| single | cc.multiple_choice.v0p1 | response_lid Single, one varequal |
| multiple | cc.multiple_response.v0p1 | response_lid Multiple, `and` of varequal (correct) and not (others) |
| true_false | cc.true_false.v0p1 | labels `true` / `false` |
| short_text | cc.fib.v0p1 | response_str, a respcondition per accepted answer (case-insensitive) |
| numeric | cc.fib.v0p1 | the profile has no numbers (no response_num, vargte, varlte): the exact value as the accepted answer; the tolerance is lost |

Explanations become item feedback (`general_fb`, and `<option>_fb` per option). Imported items come
back the same way; an essay or an item of another shape is reported, not guessed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from services.courses.schemas import AnswerKey, Option, Question

NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_qtiasiv1p2p1_v1p0.xsd"
PROFILES = {
    "single": "cc.multiple_choice.v0p1",
    "multiple": "cc.multiple_response.v0p1",
    "true_false": "cc.true_false.v0p1",
    "short_text": "cc.fib.v0p1",
    "numeric": "cc.fib.v0p1",
}
RESPONSE = "response1"


def default_namespace(xml: bytes) -> bytes:
    """ElementTree writes the first namespace as `ns0:`; make it the document's default namespace
    (tags and the one declaration only: text and attribute values are escaped, never touched)."""
    xml = re.sub(rb"(</?)ns0:", rb"\1", xml)
    return xml.replace(b"xmlns:ns0=", b"xmlns=", 1)


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, q(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _fields(parent: ET.Element, fields: dict[str, str]) -> None:
    meta = _sub(parent, "qtimetadata")
    for label, entry in fields.items():
        field = _sub(meta, "qtimetadatafield")
        _sub(field, "fieldlabel", label)
        _sub(field, "fieldentry", entry)


def _material(parent: ET.Element, text: str) -> None:
    _sub(_sub(parent, "material"), "mattext", text, texttype="text/plain")


def _number(value: float | None) -> str:
    return "" if value is None else (str(int(value)) if float(value).is_integer() else repr(value))


def _choices(question: Question) -> list[Option]:
    if question.kind == "true_false":
        return [Option(id="true", text="True"), Option(id="false", text="False")]
    return question.options


def _presentation(item: ET.Element, question: Question) -> None:
    presentation = _sub(item, "presentation")
    _material(presentation, question.prompt)
    if question.kind in ("short_text", "numeric"):
        response = _sub(presentation, "response_str", ident=RESPONSE, rcardinality="Single")
        _sub(response, "render_fib", fibtype="String", prompt="Box")
        return
    cardinality = "Multiple" if question.kind == "multiple" else "Single"
    response = _sub(presentation, "response_lid", ident=RESPONSE, rcardinality=cardinality)
    render = _sub(response, "render_choice", shuffle="No")
    for option in _choices(question):
        _material(_sub(render, "response_label", ident=option.id), option.text)


def _condition(processing: ET.Element, *, cont: bool = False) -> tuple[ET.Element, ET.Element]:
    condition = _sub(processing, "respcondition", **{"continue": "Yes" if cont else "No"})
    return condition, _sub(condition, "conditionvar")


def _scoring(item: ET.Element, question: Question, key: AnswerKey) -> None:
    processing = _sub(item, "resprocessing")
    _sub(
        _sub(processing, "outcomes"),
        "decvar",
        varname="SCORE",
        vartype="Decimal",
        minvalue="0",
        maxvalue="100",
    )
    if key.explanation:
        condition, var = _condition(processing, cont=True)
        ET.SubElement(var, q("other"))
        _sub(condition, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    for option in _choices(question):
        if key.explanations.get(option.id):
            condition, var = _condition(processing, cont=True)
            _sub(var, "varequal", option.id, respident=RESPONSE)
            _sub(condition, "displayfeedback", feedbacktype="Response", linkrefid=f"{option.id}_fb")
    if question.kind == "multiple":
        condition, var = _condition(processing)
        both = _sub(var, "and")
        for option in question.options:
            if option.id in key.correct:
                _sub(both, "varequal", option.id, respident=RESPONSE)
            else:
                _sub(_sub(both, "not"), "varequal", option.id, respident=RESPONSE)
        _sub(condition, "setvar", "100", action="Set", varname="SCORE")
        return
    answers = (
        key.accepted
        if question.kind == "short_text"
        else [_number(key.value)]
        if question.kind == "numeric"
        else key.correct[:1]
    )
    for answer in answers:
        condition, var = _condition(processing)
        _sub(var, "varequal", answer, respident=RESPONSE, case="No")
        _sub(condition, "setvar", "100", action="Set", varname="SCORE")


def _feedback(item: ET.Element, ident: str, text: str) -> None:
    flow = _sub(_sub(item, "itemfeedback", ident=ident), "flow_mat")
    _material(flow, text)


def assessment(
    ident: str, title: str, questions: list[Question], language: str, *, schema: str = SCHEMA
) -> bytes:
    """A quiz as a CC QTI assessment document (cc.exam.v0p1); `schema`: the profile's XSD location."""
    ET.register_namespace("xsi", XSI)
    root = ET.Element(q("questestinterop"), {f"{{{XSI}}}schemaLocation": f"{NS} {schema}"})
    test = _sub(root, "assessment", ident=ident, title=title)
    test.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    _fields(
        test,
        {"cc_profile": "cc.exam.v0p1", "qmd_assessmenttype": "Examination", "qmd_scoretype": "Percentage"},
    )
    section = _sub(test, "section", ident=f"{ident}_section")
    for question in questions:
        key = question.answer or AnswerKey()
        item = _sub(section, "item", ident=question.id, title=question.prompt[:80])
        _fields(_sub(item, "itemmetadata"), {"cc_profile": PROFILES[question.kind], "cc_weighting": "1"})
        _presentation(item, question)
        _scoring(item, question, key)
        if key.explanation:
            _feedback(item, "general_fb", key.explanation)
        for option in _choices(question):
            if key.explanations.get(option.id):
                _feedback(item, f"{option.id}_fb", key.explanations[option.id])
    ET.indent(root)
    return default_namespace(ET.tostring(root, encoding="utf-8", xml_declaration=True))


# -- import --------------------------------------------------------------------------------------


def _text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    return " ".join(t.strip() for t in element.itertext() if t.strip())


def _profile(item: ET.Element) -> str:
    for field in item.iter(q("qtimetadatafield")):
        if _text(field.find(q("fieldlabel"))) == "cc_profile":
            return _text(field.find(q("fieldentry")))
    return ""


def _feedbacks(item: ET.Element) -> dict[str, str]:
    return {f.get("ident", ""): _text(f) for f in item.iter(q("itemfeedback"))}


def _equal(condition: ET.Element) -> list[str]:
    var = condition.find(q("conditionvar"))
    if var is None:
        return []
    return [_text(v) for v in var.iter(q("varequal")) if not _inside_not(var, v)]


def _inside_not(var: ET.Element, target: ET.Element) -> bool:
    return any(target in list(n.iter(q("varequal"))) for n in var.iter(q("not")))


def _scored(item: ET.Element) -> list[list[str]]:
    """The varequal values of each condition that sets a positive SCORE."""
    out = []
    for condition in item.iter(q("respcondition")):
        setvar = condition.find(q("setvar"))
        try:
            positive = setvar is not None and float(_text(setvar) or 0) > 0
        except ValueError:
            positive = False
        if positive:
            out.append(_equal(condition))
    return out


def read_item(item: ET.Element) -> tuple[Question | None, str]:
    """A CC QTI item as an Ustaz question, or None and why not."""
    profile = _profile(item)
    prompt = _text(item.find(f"{q('presentation')}/{q('material')}"))
    ident = item.get("ident", "")
    labels = [
        Option(id=label.get("ident", ""), text=_text(label)) for label in item.iter(q("response_label"))
    ]
    scored = _scored(item)
    feedback = _feedbacks(item)
    explanations = {o.id: feedback[f"{o.id}_fb"] for o in labels if f"{o.id}_fb" in feedback}
    explanation = feedback.get("general_fb", "")
    base: dict[str, Any] = {"id": ident, "prompt": prompt}
    if profile == "cc.true_false.v0p1" and len(labels) == 2:
        by_text = {
            o.id: ("true" if o.text.strip().lower() in ("true", "верно", "да") else "false") for o in labels
        }
        correct = [by_text.get(v, v) for v in (scored[0] if scored else [])][:1]
        key = AnswerKey(correct=correct, explanation=explanation)
        return Question(**base, kind="true_false", answer=key), ""
    if profile in ("cc.multiple_choice.v0p1", "cc.multiple_response.v0p1"):
        kind = "single" if profile == "cc.multiple_choice.v0p1" else "multiple"
        correct = (
            sorted({v for values in scored for v in values})
            if kind == "single"
            else (scored[0] if scored else [])
        )
        key = AnswerKey(correct=correct, explanation=explanation, explanations=explanations)
        return Question(**base, kind=kind, options=labels, answer=key), ""
    if profile in ("cc.fib.v0p1", "cc.pattern_match.v0p1"):
        accepted = list(dict.fromkeys(v for values in scored for v in values))
        return Question(
            **base, kind="short_text", answer=AnswerKey(accepted=accepted, explanation=explanation)
        ), ""
    return None, f"question type {profile or 'unknown'} has no Ustaz equivalent (essays are not graded here)"
