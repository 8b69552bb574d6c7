"""carenet's own service categories and their SDOH Clinical Care category codes.

The AIRS/211 taxonomy is proprietary, so carenet publishes its own small
vocabulary. Each term maps to a code of the SDOH Clinical Care temporary code
system, the ``category`` of FHIR ServiceRequest/Task in the referral workflow.
``delivered`` marks categories that usually reach a patient at home (matched
by service area rather than by distance).
"""

from __future__ import annotations

from dataclasses import dataclass

TAXONOMY_ID = "carenet-categories"
TAXONOMY_NAME = "carenet service categories"
TAXONOMY_URI = "https://carenet.example.org/taxonomy/categories"
TAXONOMY_VERSION = "1"
SDOH_SYSTEM = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    sdoh_code: str
    delivered: bool
    description: str

    @property
    def term_id(self) -> str:
        return f"{TAXONOMY_ID}:{self.slug}"


CATEGORIES: tuple[Category, ...] = (
    Category(
        "transportation",
        "Transportation",
        "transportation-insecurity",
        True,
        "Rides to medical appointments, dialysis, pharmacies and other essential trips.",
    ),
    Category(
        "meal-delivery",
        "Meal delivery",
        "food-insecurity",
        True,
        "Prepared meals delivered to the home (home-delivered meals).",
    ),
    Category(
        "in-home-help",
        "In-home help",
        "social-connection",
        True,
        "Personal care, homemaker and chore help, respite for caregivers at home.",
    ),
    Category(
        "support-groups",
        "Support groups",
        "social-connection",
        False,
        "Peer and mutual support groups meeting in person or online.",
    ),
    Category(
        "food-pantry",
        "Food pantry",
        "food-insecurity",
        False,
        "Groceries and food boxes to pick up; soup kitchens and congregate meals.",
    ),
    Category(
        "housing",
        "Housing",
        "housing-instability",
        False,
        "Shelter, rent assistance, housing search and eviction prevention.",
    ),
    Category(
        "utilities",
        "Utilities",
        "utility-insecurity",
        False,
        "Help paying electric, gas, water and phone bills; weatherization.",
    ),
    Category(
        "financial-help",
        "Financial help",
        "financial-insecurity",
        False,
        "Emergency cash, benefits enrolment, tax preparation and money management.",
    ),
    Category(
        "social-connection",
        "Social connection",
        "social-connection",
        False,
        "Senior centres, friendly visiting and calling programmes against isolation.",
    ),
    Category(
        "safety",
        "Personal safety",
        "intimate-partner-violence",
        False,
        "Domestic-violence hotlines, shelters and advocacy.",
    ),
)

# SDOH codes of needs with no directory category of their own, searched under a close one.
EXTRA_CATEGORY_SLUGS: dict[str, tuple[str, ...]] = {
    "homelessness": ("housing",),
    "inadequate-housing": ("housing",),
    "elder-abuse": ("safety",),
}
# The category of a need or a referral: an SDOH Clinical Care code of the vocabulary.
SDOH_CODES: tuple[str, ...] = tuple(
    sorted({c.sdoh_code for c in CATEGORIES} | set(EXTRA_CATEGORY_SLUGS))
)

# Categories that say something sensitive about a person (violence, abuse; HIV or sexual
# health would join them). A receiving CBO sees them only while the patient's consent holds;
# otherwise a referral shows RESTRICTED_CATEGORY_LABEL (docs/security.md, "Consent withdrawn").
SENSITIVE_SDOH_CODES: frozenset[str] = frozenset({"intimate-partner-violence", "elder-abuse"})
RESTRICTED_CATEGORY_LABEL = "Restricted category"

BY_SLUG: dict[str, Category] = {c.slug: c for c in CATEGORIES}
BY_TERM_ID: dict[str, Category] = {c.term_id: c for c in CATEGORIES}


def category_for(code_or_slug: str) -> Category | None:
    """The category named by a slug or a term id, or None."""
    return BY_SLUG.get(code_or_slug) or BY_TERM_ID.get(code_or_slug)
