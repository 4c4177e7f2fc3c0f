#!/usr/bin/env python3
"""Regenerates surnames.txt and divisions.txt (see SOURCE.md) from the published packages.

Usage: python3 derive.py DIR
DIR holds the three packages, unpacked:
  npm pack china-division@2.7.0            -> DIR/china-division/   (the tarball's package/ folder)
  pip download --no-deps Faker==40.63.0    -> DIR/faker/            (the wheel, unzipped)
  pip download --no-deps mingzi==1.2.3     -> DIR/mingzi/           (the wheel, unzipped)
Only names are kept: no codes, no weights.
"""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def surnames(root: Path) -> list[str]:
    src = (root / "faker/faker/providers/person/zh_CN/__init__.py").read_text(encoding="utf-8")
    block = src[src.index("last_names = OrderedDict(") :]
    block = block[: block.index("\n    )")]
    names = re.findall(r'\("([^"]+)",\s*[0-9.]+\)', block)
    data = json.loads((root / "mingzi/mingzi/data.json").read_text(encoding="utf-8"))
    names += list(data["surname"]) + list(data["com_surname"])
    out = []
    for n in names:
        if n not in out:
            out.append(n)
    return out


# Placeholders of the dataset that name no place.
NOT_PLACES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
SUFFIXES = ["特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "省", "市", "区", "县", "盟", "旗"]


def short_form(name: str) -> str | None:
    """The name as people write it without its level: 广东省 -> 广东, 广西壮族自治区 -> 广西, 南山区 -> 南山."""
    for suf in SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf):
            stem = name[: -len(suf)]
            if suf.startswith("自治") and "族" in stem:
                # 广西壮族, 延边朝鲜族, 恩施土家族苗族: the place is the first two characters.
                stem = stem[:2]
            return stem if len(stem) >= 2 else None
    return None


def divisions(root: Path) -> list[str]:
    pca = json.loads((root / "china-division/dist/pca.json").read_text(encoding="utf-8"))
    full = []
    for prov, cities in pca.items():
        full.append(prov)
        for city, areas in cities.items():
            full.append(city)
            full.extend(areas)
    out = []
    for n in full:
        if n in NOT_PLACES:
            continue
        for v in (n, short_form(n)):
            if v and v not in out:
                out.append(v)
    return out


def main() -> None:
    root = Path(sys.argv[1])
    (HERE / "surnames.txt").write_text("\n".join(surnames(root)) + "\n", encoding="utf-8")
    (HERE / "divisions.txt").write_text("\n".join(divisions(root)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
