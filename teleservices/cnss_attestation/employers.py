"""The CNSS's register of affiliated employers and of the certificates it issues.

An employer is in good standing when its salary declarations and its contributions are up to date for
the last period already due: contributions for month M are due by the 10th of month M+1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sdk.store import SchemaHistory, Store
from teleservices.cnss_attestation.contract import Certificate, Standing
from teleservices.fake_data import Company, company, rng

CERTIFICATE_VALIDITY = timedelta(days=90)
PAYMENT_DAY = 10
SEED = "cnss-employers-v1"
SEEDED_EMPLOYERS = 240
CERTIFICATES_ALREADY_ISSUED = 4811

ATLAS = Company("001525987000088", "2345671", "Atlas Travaux SARL", "Rabat")
SOUSS = Company("002187354000071", "4519083", "Souss Agro SA", "Agadir")
RIF = Company("001932610000045", "3870226", "Rif Transport SARL AU", "Nador")
UNKNOWN_ICE = "003999888000012"
"""Well-known employers of the seeded register (for the demo, examples and tests) and an unknown ICE."""

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True, slots=True)
class Employer:
    """An affiliated employer; periods are ``YYYY-MM`` text."""

    ice: str
    affiliation: str
    name: str
    city: str
    declared_through: str
    paid_through: str


def period(day: date) -> str:
    """``YYYY-MM`` of ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def next_period(text: str) -> str:
    """The ``YYYY-MM`` period after ``text``."""
    year, month = (int(part) for part in text.split("-"))
    return period(months_before(date(year, month, 1), -1))


def months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def last_due(today: date) -> date:
    """The first day of the latest month whose contributions are already due on ``today``."""
    return months_before(today, 1 if today.day > PAYMENT_DAY else 2)


class EmployerRegister(Store):
    """Employers by ICE and affiliation number, and the certificates issued to them."""

    FILE_NAME = "employers.sqlite"
    MIGRATIONS = SchemaHistory("employer register", MIGRATIONS_DIR / "employers")
    SCHEMA_VERSION = "0001"
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS employers (
            ice TEXT PRIMARY KEY, affiliation TEXT NOT NULL UNIQUE, name TEXT NOT NULL, city TEXT NOT NULL,
            declared_through TEXT NOT NULL, paid_through TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS certificates (
            number TEXT PRIMARY KEY, ice TEXT NOT NULL REFERENCES employers (ice), issued TEXT NOT NULL,
            valid_until TEXT NOT NULL, UNIQUE (ice, issued));
        CREATE TABLE IF NOT EXISTS certificate_counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
    """

    def seed(self, today: date) -> int:
        """Fill an empty register with the well-known employers and fake ones; return how many were added."""
        with self.transaction() as db:
            if db.execute("SELECT COUNT(*) FROM employers").fetchone()[0]:
                return 0
            due = last_due(today)
            rows = [
                (ATLAS, due, due),
                (SOUSS, due, months_before(due, 3)),
                (RIF, months_before(due, 2), months_before(due, 2)),
            ]
            taken = {UNKNOWN_ICE} | {c.ice for c, _, _ in rows} | {c.affiliation for c, _, _ in rows}
            r = rng(SEED)
            while len(rows) < SEEDED_EMPLOYERS:
                fake = company(r)
                if fake.ice in taken or fake.affiliation in taken:
                    continue
                taken |= {fake.ice, fake.affiliation}
                late = r.random() < 0.2
                declared = months_before(due, r.randrange(1, 3)) if late and r.random() < 0.3 else due
                paid = months_before(declared, r.randrange(1, 7)) if late else declared
                rows.append((fake, declared, paid))
            db.executemany(
                "INSERT INTO employers VALUES (?, ?, ?, ?, ?, ?)",
                [(c.ice, c.affiliation, c.name, c.city, period(d), period(p)) for c, d, p in rows],
            )
            db.execute(
                "INSERT INTO certificate_counters VALUES (?, ?) ON CONFLICT DO NOTHING",
                (today.year, CERTIFICATES_ALREADY_ISSUED),
            )
            return len(rows)

    def find(self, *, ice: str | None = None, affiliation: str | None = None) -> Employer | None:
        """The employer with this ICE (or else this affiliation number), if affiliated."""
        query = "SELECT ice, affiliation, name, city, declared_through, paid_through FROM employers WHERE "
        if ice is not None:
            row = self.fetchone(query + "ice = ?", (ice,))
        else:
            row = self.fetchone(query + "affiliation = ?", (affiliation,))
        return Employer(*row) if row else None

    @staticmethod
    def standing(employer: Employer, today: date) -> tuple[Standing, str | None]:
        """Good standing, or not with a reason a procurement officer can act on."""
        due = period(last_due(today))
        if employer.declared_through < due:
            missing = f"{next_period(employer.declared_through)} to {due}"
            return Standing.NOT_GOOD, f"salary declarations missing for {missing}"
        if employer.paid_through < due:
            return (
                Standing.NOT_GOOD,
                f"contributions unpaid for {next_period(employer.paid_through)} to {due}",
            )
        return Standing.GOOD, None

    def certificate(self, employer: Employer, today: date) -> Certificate:
        """Today's certificate for ``employer``: the one already issued today, or the next number."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT number, issued, valid_until FROM certificates WHERE ice = ? AND issued = ?",
                (employer.ice, today.isoformat()),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO certificate_counters VALUES (?, 1)"
                    " ON CONFLICT (year) DO UPDATE SET last = certificate_counters.last + 1",
                    (today.year,),
                )
                (last,) = db.execute(
                    "SELECT last FROM certificate_counters WHERE year = ?", (today.year,)
                ).fetchone()
                valid_until = today + CERTIFICATE_VALIDITY
                row = (f"ATT-{today.year:04d}-{last:06d}", today.isoformat(), valid_until.isoformat())
                db.execute("INSERT INTO certificates VALUES (?, ?, ?, ?)", (row[0], employer.ice, *row[1:]))
        return Certificate(
            number=row[0], issued=date.fromisoformat(row[1]), valid_until=date.fromisoformat(row[2])
        )
