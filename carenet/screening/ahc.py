"""The CMS Accountable Health Communities HRSN screening tool: core questions and scoring.

Pure functions, no database. Answers are keyed by the question's LOINC code and
hold LOINC answer codes (``LA...``); the housing-problems question takes a list.
A positive domain becomes a need with the SDOH Clinical Care category code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carenet.errors import InvalidInput

PANEL_CODE = "96777-8"
SAFETY_POSITIVE_OVER = 10


@dataclass(frozen=True)
class Question:
    code: str
    domain: str
    text: str
    options: tuple[tuple[str, str], ...]  # (answer code, label)
    multiple: bool = False


YES, NO = ("LA33-6", "Yes"), ("LA32-8", "No")
HUNGER = (("LA28397-0", "Often true"), ("LA6729-3", "Sometimes true"), ("LA28398-8", "Never true"))
SAFETY_SCALE = (
    ("LA6270-8", "Never"),
    ("LA10066-1", "Rarely"),
    ("LA10082-8", "Sometimes"),
    ("LA16644-9", "Fairly often"),
    ("LA6482-9", "Frequently"),
)
SAFETY_POINTS = {code: points for points, (code, _) in enumerate(SAFETY_SCALE, start=1)}

QUESTIONS: tuple[Question, ...] = (
    Question(
        "71802-3",
        "living situation",
        "What is your living situation today?",
        (
            ("LA31993-1", "I have a steady place to live"),
            ("LA31994-9", "I have a place to live today, but I am worried about losing it"),
            ("LA31995-6", "I do not have a steady place to live"),
        ),
    ),
    Question(
        "96778-6",
        "housing problems",
        "Think about the place you live. Do you have problems with any of the following?",
        (
            ("LA31996-4", "Pests such as bugs, ants, or mice"),
            ("LA28580-1", "Mold"),
            ("LA31997-2", "Lead paint or pipes"),
            ("LA31998-0", "Lack of heat"),
            ("LA31999-8", "Oven or stove not working"),
            ("LA32000-4", "Smoke detectors missing or not working"),
            ("LA32001-2", "Water leaks"),
            ("LA9-3", "None of the above"),
        ),
        multiple=True,
    ),
    Question(
        "88122-7",
        "food",
        "Within the past 12 months, you worried that your food would run out "
        "before you got money to buy more.",
        HUNGER,
    ),
    Question(
        "88123-5",
        "food",
        "Within the past 12 months, the food you bought just didn't last "
        "and you didn't have money to get more.",
        HUNGER,
    ),
    Question(
        "93030-5",
        "transportation",
        "In the past 12 months, has lack of reliable transportation kept you from medical "
        "appointments, meetings, work or from getting things needed for daily living?",
        (YES, NO),
    ),
    Question(
        "96779-4",
        "utilities",
        "In the past 12 months has the electric, gas, oil, or water company threatened "
        "to shut off services in your home?",
        (YES, NO, ("LA32002-0", "Already shut off")),
    ),
    Question("95618-5", "safety", "How often does anyone physically hurt you?", SAFETY_SCALE),
    Question(
        "95617-7", "safety", "How often does anyone insult or talk down to you?", SAFETY_SCALE
    ),
    Question("95616-9", "safety", "How often does anyone threaten you with harm?", SAFETY_SCALE),
    Question("95615-1", "safety", "How often does anyone scream or curse at you?", SAFETY_SCALE),
)
BY_CODE = {question.code: question for question in QUESTIONS}
SAFETY_CODES = tuple(q.code for q in QUESTIONS if q.domain == "safety")


@dataclass(frozen=True)
class ScreeningResult:
    answers: dict[str, Any]
    needs: tuple[str, ...]  # SDOH category codes, in question order, no repeats
    safety_score: int | None


def validate_answers(raw: dict[str, Any]) -> dict[str, Any]:
    """Known questions with known answer codes only; errors are keyed by the LOINC code.

    Each answer is one answer code (a string), or a list of them: any number for a
    question that takes several, exactly one otherwise. ``None``, ``""`` and ``[]`` mean
    not asked or declined to answer."""
    if not isinstance(raw, dict):
        raise InvalidInput("answers must be an object", {"answers": ["Not an object."]})
    errors: dict[str, list[str]] = {}
    answers: dict[str, Any] = {}
    for code, value in raw.items():
        question = BY_CODE.get(code)
        if question is None:
            errors[code] = ["Not a question of the AHC HRSN core screening."]
            continue
        if value is None or value == "" or value == []:
            continue  # not asked or declined to answer
        problem = _answer_problem(question, value)
        if problem:
            errors[code] = [problem]
            continue
        values = value if isinstance(value, list) else [value]
        answers[code] = sorted(set(values)) if question.multiple else values[0]
    if errors:
        raise InvalidInput("Some answers are not valid.", errors)
    if not answers:
        raise InvalidInput("Answer at least one question.", {"answers": ["No answers given."]})
    return answers


def _answer_problem(question: Question, value: Any) -> str | None:
    """Why ``value`` is not an answer to ``question`` (None when it is one)."""
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        return "An answer code (a string), or a list of answer codes."
    if not question.multiple and len(values) != 1:
        return "Give one answer."
    allowed = {option for option, _ in question.options}
    unknown = [v for v in values if v not in allowed]
    if unknown:
        return f"Unknown answer code {unknown[0][:32]!r}."
    return None


def safety_score(answers: dict[str, Any]) -> int | None:
    """Sum of the four safety items (1–5 each), or ``None`` when none was answered."""
    given = [SAFETY_POINTS[answers[c]] for c in SAFETY_CODES if c in answers]
    return sum(given) if given else None


def needs_from(answers: dict[str, Any]) -> tuple[str, ...]:
    """The SDOH category codes of the positive domains."""
    found: list[str] = []
    living = answers.get("71802-3")
    if living == "LA31994-9":
        found.append("housing-instability")
    elif living == "LA31995-6":
        found.append("homelessness")
    if [v for v in answers.get("96778-6", []) if v != "LA9-3"]:
        found.append("inadequate-housing")
    if {answers.get("88122-7"), answers.get("88123-5")} & {"LA28397-0", "LA6729-3"}:
        found.append("food-insecurity")
    if answers.get("93030-5") == "LA33-6":
        found.append("transportation-insecurity")
    if answers.get("96779-4") in ("LA33-6", "LA32002-0"):
        found.append("utility-insecurity")
    score = safety_score(answers)
    if score is not None and score > SAFETY_POSITIVE_OVER:
        found.append("intimate-partner-violence")
    return tuple(dict.fromkeys(found))


def score(raw: dict[str, Any]) -> ScreeningResult:
    """Validate and score one screening."""
    answers = validate_answers(raw)
    return ScreeningResult(answers, needs_from(answers), safety_score(answers))
