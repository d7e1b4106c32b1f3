"""Benchmark: resolve a batch of free-text home addresses to county adcodes.

    .venv/bin/python -m benchmarks.geo_resolve [--count 20000] [--seed 7]

Addresses are synthetic but shaped like sign-up forms: counties of the provinces Cixi's workers
come from, written in full, short, province+county or county-only form, most followed by a town,
village and house number, so nearly every text is distinct and the memo does not help. Prints the
cold time (loading the gazetteer and the name index) and the batch time, and checks that every
address came back as its own county or as a listed ambiguity (short names shared by two counties).
"""

from __future__ import annotations

import argparse
import random
import time

from optimizer.geography.gazetteer import MUNICIPALITY_ADCODES, County, Gazetteer, load_gazetteer

WORKER_PROVINCES = (
    "安徽省", "四川省", "江西省", "贵州省", "河南省", "湖北省", "江苏省",
    "湖南省", "重庆市", "云南省", "广西壮族自治区",
)  # fmt: skip
TOWNS = ("城关镇", "新集镇", "谭棚镇", "长安镇", "三汇镇", "王庄乡", "黄岭镇", "龙山街道")
VILLAGES = ("新华村", "王庄村", "李寨村", "红星村", "河口组", "东方社区")


def address(county: County, gazetteer: Gazetteer, rng: random.Random) -> str:
    """One address for `county` in a randomly chosen written form."""
    province = gazetteer.provinces[county.province_adcode]
    prefecture = gazetteer.prefectures[county.prefecture_adcode]
    short = county.short_name if len(county.short_name) > 1 else county.name
    in_municipality = county.prefecture_adcode in MUNICIPALITY_ADCODES
    forms = [
        county.full_name,
        province.short_name + ("" if in_municipality else prefecture.short_name) + short,
        province.short_name + short,
        f"{province.name} {prefecture.name} {county.name}",
    ]
    text = rng.choice(forms)
    if rng.random() < 0.8:
        text += rng.choice(TOWNS) + rng.choice(VILLAGES) + f"{rng.randint(1, 300)}号"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    gazetteer = load_gazetteer()
    from optimizer.geography.resolve import _index, resolve_many

    _index()
    cold_s = time.perf_counter() - started

    rng = random.Random(args.seed)
    counties = [c for p in WORKER_PROVINCES for c in gazetteer.in_province(p)]
    chosen = [rng.choice(counties) for _ in range(args.count)]
    texts = [address(c, gazetteer, rng) for c in chosen]

    started = time.perf_counter()
    results = resolve_many(texts)
    batch_s = time.perf_counter() - started

    right = sum(r.adcode == c.adcode for r, c in zip(results, chosen, strict=True))
    asked = sum(
        (not r.ok) and r.ambiguous and c.adcode in {code for code, _ in r.candidates}
        for r, c in zip(results, chosen, strict=True)
    )
    wrong = [
        (t, r.adcode)
        for t, r, c in zip(texts, results, chosen, strict=True)
        if r.ok and r.adcode != c.adcode
    ]
    print(f"addresses: {len(texts)} ({len(set(texts))} distinct)")
    print(f"cold start (gazetteer + name index): {cold_s:.2f} s")
    print(f"batch resolve: {batch_s:.2f} s ({len(texts) / batch_s:,.0f} addresses/s)")
    print(f"resolved to their own county: {right}; ambiguity with it listed: {asked}")
    print(f"resolved to a different county: {len(wrong)}")
    for text, adcode in wrong[:10]:
        print(f"  {text} -> {adcode}")
    other = len(texts) - right - asked - len(wrong)
    print(f"other errors: {other}")


if __name__ == "__main__":
    main()
