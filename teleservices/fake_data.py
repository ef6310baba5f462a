"""Deterministic fake Moroccan data for seeding pilot stores: names, CINs, ICEs, companies.

Every generator takes a ``random.Random`` seeded with a string, so a given seed always yields the same
people and companies (string seeds do not depend on ``PYTHONHASHSEED``). None of these people exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

MALE_FIRST_NAMES = (
    "Mohammed", "Ahmed", "Abdellah", "Hassan", "Youssef", "Omar", "Rachid", "Mustapha", "Driss", "Brahim",
    "Abdelkader", "Larbi", "Said", "Khalid", "Jamal", "Abderrahim", "Hamid", "Lahcen", "Mohamed Amine",
    "Abdelaziz", "Noureddine", "Mehdi", "Karim", "Tarik", "Aziz",
)  # fmt: skip
FEMALE_FIRST_NAMES = (
    "Fatima", "Khadija", "Aicha", "Malika", "Zineb", "Naima", "Rachida", "Fatima Zahra", "Latifa", "Meryem",
    "Hafsa", "Saida", "Najat", "Souad", "Amina", "Touria", "Zahra", "Hakima", "Nadia", "Leila",
)  # fmt: skip
LAST_NAMES = (
    "EL AMRANI", "BENNANI", "ALAOUI", "IDRISSI", "TAZI", "BERRADA", "EL FASSI", "CHRAIBI", "LAHLOU",
    "BENJELLOUN", "SKALLI", "OUAZZANI", "EL OUAFI", "AMRAOUI", "BOUZIDI", "EL KHATTABI", "NACIRI",
    "ZNIBER", "SEBTI", "KETTANI", "AIT OUFKIR", "AIT BENHADDOU", "OUHADDOU", "BOUSSAID", "EL HAJJI",
    "MOUSSAOUI", "RAMI", "TOUNSI", "HAMDAOUI", "SLAOUI",
)  # fmt: skip
CITIES = (
    "Rabat", "Casablanca", "Fès", "Marrakech", "Tanger", "Meknès", "Agadir", "Oujda", "Kénitra", "Tétouan",
    "Salé", "Safi", "El Jadida", "Béni Mellal", "Nador", "Khouribga", "Settat", "Taza", "Errachidia",
)  # fmt: skip
# First letters of the CIN, by issuing region (A: Rabat, B/BE/BK: Casablanca, C: Fès, ...).
CIN_PREFIXES = (
    "A",
    "AB",
    "AD",
    "B",
    "BE",
    "BK",
    "BJ",
    "C",
    "CD",
    "D",
    "E",
    "EE",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
)
COMPANY_WORDS = (
    "Atlas", "Souss", "Rif", "Tafilalet", "Oasis", "Chaouia", "Draa", "Sebou", "Ouarzazate", "Anfa",
    "Bouregreg", "Saiss", "Moulouya", "Tensift", "Argan", "Zagora", "Ifrane", "Doukkala", "Gharb",
)  # fmt: skip
COMPANY_TRADES = (
    "Travaux", "BTP", "Agro", "Nettoyage", "Informatique", "Transport", "Gardiennage", "Equipements",
    "Fournitures", "Ingénierie", "Restauration", "Impression", "Conseil", "Maintenance",
)  # fmt: skip
LEGAL_FORMS = ("SARL", "SARL AU", "SA", "SNC")


@dataclass(frozen=True, slots=True)
class Person:
    """A fake resident as the civil register knows them."""

    cin: str
    last_name: str
    first_name: str
    sex: str  # "M" or "F"
    birth_date: date
    birth_place: str


@dataclass(frozen=True, slots=True)
class Company:
    """A fake company: its ICE (15 digits) and CNSS affiliation number (7 digits)."""

    ice: str
    affiliation: str
    name: str
    city: str


def rng(seed: str) -> random.Random:
    """A generator that always produces the same sequence for ``seed``."""
    return random.Random(seed)


def cin(r: random.Random) -> str:
    """A CIN such as ``AB123456``: a regional prefix of one or two letters, then six digits."""
    return r.choice(CIN_PREFIXES) + str(r.randrange(10**5, 10**6))


def ice(r: random.Random) -> str:
    """An ICE: a 9-digit company number, a 4-digit establishment number and a 2-digit key."""
    return f"{r.randrange(1, 10**9):09d}{r.randrange(1, 100):04d}{r.randrange(0, 100):02d}"


def affiliation(r: random.Random) -> str:
    """A CNSS employer affiliation number (7 digits)."""
    return str(r.randrange(10**6, 10**7))


def person(r: random.Random, *, born_between: tuple[int, int] = (1935, 1962)) -> Person:
    """A fake person born in the given years (pensioners by default)."""
    sex = r.choice("MF")
    first = r.choice(MALE_FIRST_NAMES if sex == "M" else FEMALE_FIRST_NAMES)
    start = date(born_between[0], 1, 1)
    span = (date(born_between[1], 12, 31) - start).days
    return Person(
        cin=cin(r),
        last_name=r.choice(LAST_NAMES),
        first_name=first,
        sex=sex,
        birth_date=start + timedelta(days=r.randrange(span)),
        birth_place=r.choice(CITIES),
    )


def company(r: random.Random) -> Company:
    """A fake company with a plausible name, e.g. ``Souss Agro SARL``."""
    name = f"{r.choice(COMPANY_WORDS)} {r.choice(COMPANY_TRADES)} {r.choice(LEGAL_FORMS)}"
    return Company(ice=ice(r), affiliation=affiliation(r), name=name, city=r.choice(CITIES))
