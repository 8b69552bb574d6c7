"""What the search page shows beyond a result row: eligibility, ages, last verified (stale
after a year), capacity in words; and the languages the directory offers, by name.

Read once per page for the page's services (one query), never inside the search
statements: the API's result shape and the search plan stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from carenet.db.types import as_utc, utcnow
from carenet.directory.models import Language, Service
from carenet.extensions import db

STALE_AFTER = timedelta(days=365)
CAPACITY_WORDS = {
    "accepting": "Taking new clients",
    "waitlist": "Waitlist: clients may wait",
    "assessment-required": "Takes clients after an assessment",
    "no-capacity": "Full: not taking new clients now",
}
# Names for ISO 639-1 codes the seed data and HSDS imports use, when a row gives no name.
KNOWN_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "ht": "Haitian Creole",
    "pt": "Portuguese", "zh": "Chinese", "vi": "Vietnamese", "ru": "Russian",
    "ar": "Arabic", "ko": "Korean", "tl": "Tagalog", "de": "German", "it": "Italian",
    "pl": "Polish", "hi": "Hindi", "ja": "Japanese", "fa": "Persian", "ur": "Urdu",
    "asl": "American Sign Language",
}  # fmt: skip


@dataclass(frozen=True)
class ServiceDetails:
    eligibility: str | None
    minimum_age: int | None
    maximum_age: int | None
    last_verified_at: datetime | None
    stale: bool  # last verified more than a year ago, or never
    for_children: bool = False  # its name or description speaks of children only

    def unsuited_to(self, age: int | None) -> bool:
        """Whether the service looks meant for children while the patient is an adult (the
        directory has no maximum age for it: a hint to check eligibility, not a filter)."""
        return age is not None and age >= 18 and self.for_children and self.maximum_age is None

    @property
    def ages(self) -> str | None:
        """The ages served in words: "Ages 0 to 17", "Ages 60 and over"; None when open."""
        low, high = self.minimum_age, self.maximum_age
        if low is None and high is None:
            return None
        if high is None:
            return f"Ages {low} and over"
        if low is None or low == 0:
            return f"Ages up to {high}"
        return f"Ages {low} to {high}"


CHILDREN = re.compile(
    r"\b(child|children|children's|kids?|youth|teens?|adolescents?|infants?|pediatric|"
    r"toddlers?|juveniles?)\b",
    re.I,
)
ALSO_ADULTS = re.compile(r"\b(famil(y|ies)|parents?|adults?|seniors?|elders?|caregivers?)\b", re.I)


def looks_for_children(*texts: str | None) -> bool:
    """Whether a service's words speak of children and not of adults too."""
    words = " ".join(t for t in texts if t)
    return bool(CHILDREN.search(words)) and not ALSO_ADULTS.search(words)


def capacity_words(status: str | None) -> str:
    return CAPACITY_WORDS.get(status or "", "Capacity not known")


def is_stale(last_verified_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether a record was last verified more than a year ago (or never)."""
    if last_verified_at is None:
        return True
    return (now or utcnow()) - as_utc(last_verified_at) > STALE_AFTER


def details_for(service_ids: list[str], now: datetime | None = None) -> dict[str, ServiceDetails]:
    """Service id → its details, for the services of one page, in one query."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        select(
            Service.id,
            Service.eligibility_description,
            Service.minimum_age,
            Service.maximum_age,
            Service.last_verified_at,
            Service.name,
            Service.description,
        ).where(Service.id.in_(service_ids))
    ).all()
    return {
        sid: ServiceDetails(
            elig, low, high, as_utc(seen) if seen else None, is_stale(seen, now),
            looks_for_children(name, description, elig),
        )
        for sid, elig, low, high, seen, name, description in rows
    }  # fmt: skip


def directory_languages() -> list[tuple[str, str]]:
    """(code, name) of every language some active service offers, by name."""
    rows = db.session.execute(
        select(Language.code, func.min(Language.name))
        .join(Service, Service.id == Language.service_id)
        .where(Service.status == "active", Language.code != "")
        .group_by(Language.code)
    ).all()
    named = {code.lower(): (name or KNOWN_NAMES.get(code.lower()) or code) for code, name in rows}
    return sorted(named.items(), key=lambda kv: kv[1].lower())


def language_code(text: str, offered: list[tuple[str, str]]) -> str | None:
    """The code for a language typed by code ("es") or name ("Spanish", "spanish", "Span"
    as a unique prefix) among ``offered``; None when none or several match."""
    wanted = text.strip().lower()
    if not wanted:
        return None
    for code, name in offered:
        if wanted in (code, name.lower()):
            return code
    prefixed = [code for code, name in offered if name.lower().startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None
