"""The fake residents the pilot's communes and pension funds share, and who draws a pension where.

Generated from a fixed seed, so every participant (in any process) sees the same people. A few
well-known residents have fixed pension rights, for the demo, the examples and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from teleservices.fake_data import Person, person, rng

SEED = "death-notice-population-v1"
GENERATED_RESIDENTS = 600

FUNDS = ("CMR", "CNSS", "RCAR", "CIMR")
"""Caisse marocaine des retraites (civil servants, military), Caisse nationale de sécurité sociale
(private sector), Régime collectif d'allocation de retraite (contractual public staff), Caisse
interprofessionnelle marocaine de retraite (private sector, complementary)."""

EL_AMRANI = Person("A234517", "EL AMRANI", "Mohammed", "M", date(1946, 2, 11), "Salé")
BENJELLOUN = Person("AB118903", "BENJELLOUN", "Fatima Zahra", "F", date(1951, 6, 3), "Fès")
OUHADDOU = Person("J412087", "OUHADDOU", "Lahcen", "M", date(1949, 10, 27), "Agadir")
BERRADA = Person("BE907316", "BERRADA", "Karim", "M", date(1979, 4, 16), "Casablanca")
WELL_KNOWN: dict[Person, tuple[str, ...]] = {
    EL_AMRANI: ("CNSS", "CIMR"),  # retired from a private company
    BENJELLOUN: ("CMR",),  # retired teacher
    OUHADDOU: ("RCAR", "CNSS"),  # contractual at a public establishment, then private sector
    BERRADA: (),  # not retired
}


@dataclass(frozen=True, slots=True)
class Pension:
    """A pension paid by ``fund`` to ``holder``."""

    fund: str
    number: str
    holder: Person


_PENSION_NUMBER_DIGITS = {"CMR": 7, "CNSS": 9, "RCAR": 8, "CIMR": 10}


@cache
def residents() -> tuple[Person, ...]:
    """Everyone: the well-known residents, then the generated ones (unique CINs)."""
    people = list(WELL_KNOWN)
    taken = {p.cin for p in people}
    r = rng(SEED)
    while len(people) < len(WELL_KNOWN) + GENERATED_RESIDENTS:
        candidate = person(r, born_between=(1932, 1990))
        if candidate.cin not in taken:
            taken.add(candidate.cin)
            people.append(candidate)
    return tuple(people)


@cache
def _memberships() -> dict[str, tuple[str, ...]]:
    """Funds each resident draws a pension from, by CIN."""
    r = rng(SEED + "-pensions")
    result: dict[str, tuple[str, ...]] = {}
    for resident in residents():
        if resident in WELL_KNOWN:
            result[resident.cin] = WELL_KNOWN[resident]
            continue
        if resident.birth_date.year > 1963:
            result[resident.cin] = ()
            continue
        draw = r.random()
        if draw < 0.35:
            funds: tuple[str, ...] = ("CMR",)
        elif draw < 0.45:
            funds = ("RCAR",)
        elif draw < 0.90:
            funds = ("CNSS", "CIMR") if r.random() < 0.4 else ("CNSS",)
        else:
            funds = ()
        result[resident.cin] = funds
    return result


def funds_of(resident: Person) -> tuple[str, ...]:
    """The funds paying ``resident`` a pension."""
    return _memberships().get(resident.cin, ())


def pensions(fund: str) -> list[Pension]:
    """Every pension ``fund`` pays, with stable pension numbers."""
    if fund not in FUNDS:
        raise ValueError(f"unknown pension fund {fund!r}; one of {', '.join(FUNDS)}")
    r = rng(f"{SEED}-{fund}-numbers")
    digits = _PENSION_NUMBER_DIGITS[fund]
    result = []
    taken: set[str] = set()
    for resident in residents():
        if fund not in funds_of(resident):
            continue
        number = ""
        while not number or number in taken:
            number = f"{fund}-{r.randrange(10 ** (digits - 1), 10**digits)}"
        taken.add(number)
        result.append(Pension(fund, number, resident))
    return result
