"""Name/place lists and text helpers used by :mod:`pipelines.sample.simulator` (cosmetics only).

Index 0 of every pair of lists is Turkish, index 1 Dutch. ``*_ASCII`` variants are the
transliterated, lower-cased, space-free spellings used to build e-mail addresses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FIRST_NAMES: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        "Ayşe", "Mehmet", "Fatma", "Ahmet", "Emine", "Mustafa", "Zeynep", "Hüseyin", "Elif",
        "İbrahim", "Özlem", "Gökhan", "Çağla", "Şükrü", "Gül", "Burak", "Ümit", "Sıla", "Ilgın",
        "Barış", "Yağmur", "Doğan", "Hülya", "Kübra", "Oğuz", "Tuğba", "Serkan", "Cem", "Deniz",
        "Ebru", "İrem", "Işıl",
    ),
    (
        "Sanne", "Daan", "Emma", "Lars", "Sophie", "Bram", "Julia", "Thijs", "Anouk", "Joost",
        "Fleur", "Pieter", "Lotte", "Sem", "Iris", "Ruud", "Femke", "Wouter", "Noor", "Stijn",
        "Renée", "José", "Eline", "Bart", "Marieke", "Hélène", "Rijk", "Mees", "Tijmen",
        "Willemijn", "Thijmen", "Ruben",
    ),
)

LAST_NAMES: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
        "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan",
        "Şimşek", "Polat", "Erdoğan", "Güneş", "Aksoy", "Uçar", "İnce", "Ağaoğlu", "Bulut",
        "Türkmen", "Akgül",
    ),
    (
        "de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
        "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer",
        "de Wit", "Dijkstra", "Smits", "van Leeuwen", "Kuijpers", "Huijbers", "van der Heijden",
        "Rijnders", "Verhoeven", "IJzerman", "Kramer", "van Wijk", "Prins",
    ),
)

COMPANY_SUFFIXES: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        "Ticaret A.Ş.", "Gıda Ltd. Şti.", "İnşaat A.Ş.", "Tekstil San. ve Tic. Ltd. Şti.",
        "Lojistik A.Ş.", "Mobilya Ltd. Şti.", "Bilişim A.Ş.", "Otomotiv Ltd. Şti.",
    ),
    (
        "B.V.", "Handel B.V.", "Groep B.V.", "& Zonen", "Installatietechniek B.V.", "Bouw B.V.",
        "Logistiek B.V.", "Café & Catering",
    ),
)

REGIONS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("İstanbul", "Ankara", "İzmir", "Bursa", "Antalya"),
    ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven"),
)
REGION_WEIGHTS: tuple[tuple[float, ...], tuple[float, ...]] = (
    (0.45, 0.2, 0.17, 0.1, 0.08),
    (0.35, 0.25, 0.17, 0.13, 0.1),
)

EMAIL_DOMAINS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("gmail.com", "hotmail.com", "yandex.com.tr", "outlook.com"),
    ("gmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com", "hotmail.nl"),
)
COMPANY_TLDS: tuple[str, str] = ("com.tr", "nl")

OWNERS: tuple[str, ...] = (
    "Elif Şahin", "Mert Güler", "Zeynep Aksoy", "Sanne de Vries", "Joost van den Berg",
    "Marieke Dijkstra",
)

_FOLD = str.maketrans(
    {"ş": "s", "Ş": "s", "ğ": "g", "Ğ": "g", "ı": "i", "İ": "i", "ö": "o", "Ö": "o", "ü": "u",
     "Ü": "u", "ç": "c", "Ç": "c", "é": "e", "É": "e", "è": "e", "ë": "e",
     "&": "", ".": "", " ": ""}
)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII spelling without spaces/punctuation ("Ağaoğlu" -> "agaoglu")."""
    return text.translate(_FOLD).lower()


FIRST_NAMES_ASCII = tuple(tuple(ascii_slug(n) for n in group) for group in FIRST_NAMES)
LAST_NAMES_ASCII = tuple(tuple(ascii_slug(n) for n in group) for group in LAST_NAMES)


def text(values: pa.Array) -> pd.Series:
    """Arrow strings -> pandas ``str`` Series (Arrow-backed, no Python objects)."""
    return pd.Series(values, dtype="str")


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded textual IDs such as ``SO-000001234``."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "") if prefix else digits


def pick(options: tuple[str, ...] | list[str], index: np.ndarray) -> pa.Array:
    """Arrow string array ``options[index]``."""
    return pa.array(list(options), pa.string()).take(pa.array(np.asarray(index, np.int64)))


def _by_origin(rng: np.random.Generator, groups: tuple[tuple[str, ...], ...],
               dutch: np.ndarray) -> np.ndarray:
    """Uniform index into ``groups[0] + groups[1]`` within the group chosen by ``dutch`` (0/1)."""
    n0, n1, n = len(groups[0]), len(groups[1]), dutch.size
    return np.where(dutch == 1, n0 + rng.integers(0, n1, n), rng.integers(0, n0, n))


def _both(groups: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    return groups[0] + groups[1]


def dress(rng: np.random.Generator, company: np.ndarray) -> dict[str, pa.Array]:
    """Vectorised name, email, region and account owner (company names where ``company``)."""
    n = company.size
    dutch = (rng.random(n) < 0.45).astype(np.int64)
    groups = (FIRST_NAMES, LAST_NAMES, COMPANY_SUFFIXES, EMAIL_DOMAINS)
    first, last, suffix, domain = (_by_origin(rng, g, dutch) for g in groups)
    join = pc.binary_join_element_wise
    last_name, last_ascii = pick(_both(LAST_NAMES), last), pick(_both(LAST_NAMES_ASCII), last)
    person = join(pick(_both(FIRST_NAMES), first), last_name, " ")
    firm = join(last_name, pick(_both(COMPANY_SUFFIXES), suffix), " ")
    digits = pc.utf8_lpad(pa.array(rng.integers(1, 100, n)).cast(pa.string()), 2, "0")
    person_mail = join(pick(_both(FIRST_NAMES_ASCII), first), ".", last_ascii, digits, "@",
                       pick(_both(EMAIL_DOMAINS), domain), "")
    mailbox = pick(("info", "sales", "inkoop", "muhasebe"), rng.integers(0, 4, n))
    firm_mail = join(mailbox, "@", last_ascii, ".", pick(COMPANY_TLDS, dutch), "")
    region = np.where(dutch == 1, 5 + rng.choice(5, n, p=REGION_WEIGHTS[1]),
                      rng.choice(5, n, p=REGION_WEIGHTS[0]))
    mask = pa.array(np.asarray(company, bool))
    return {
        "name": pc.if_else(mask, firm, person),
        "email": pc.if_else(mask, firm_mail, person_mail),
        "region": pick(_both(REGIONS), region),
        "owner": pick(OWNERS, rng.integers(0, len(OWNERS), n)),
    }
