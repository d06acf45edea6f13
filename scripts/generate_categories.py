#!/usr/bin/env python3
"""Generate src/crosspromo/businesses/categories.json from the OpenStreetMap iD presets.

Source: the npm package ``@openstreetmap/id-tagging-schema`` (ISC licence). Its built
files live in ``dist/``: ``presets.json`` (preset id -> tags, flags) and
``translations/<lang>.json`` (preset id -> name, comma-separated terms, newline-separated
aliases; field id -> option labels).

Usage::

    python scripts/generate_categories.py                      # npm pack into a temp dir
    python scripts/generate_categories.py --package-dir DIR    # DIR = unpacked package

Selection: presets whose tags are exactly one ``key=value`` pair with the key in
GROUPS, that are searchable, not generic (``value`` of ``*`` or ``yes``) and not
replaced by another preset. When several presets carry the same tag (regional
variants), the main one is kept: the one without a ``locationSet``, then the one whose
id is ``key/value``, then the shortest id.

Names: the translation's preset name (following ``{other/preset}`` references), else
the label of the value in the key's field options, else (ru) the English name.

Terms per language: the translation's ``terms`` and ``aliases``, the preset's own
``terms``/``aliases`` (English only), the label of the value in the key's field options
(e.g. the ``craft`` field's ``window_construction`` option) when it differs from the
name, plus the few LOCAL_TERMS below, which are ours, not iD's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PACKAGE = "@openstreetmap/id-tagging-schema"
LICENCE = "ISC"
GROUPS = ("shop", "amenity", "craft", "office", "leisure", "tourism", "healthcare", "education")
GENERIC_VALUES = frozenset({"*", "yes"})
LANGS = ("en", "ru")

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src" / "crosspromo" / "businesses" / "categories.json"

# Local additions (not from iD) for words people actually type that iD's translations
# lack. Keyed by code; recorded in the output's "local_terms" field for traceability.
LOCAL_TERMS: dict[str, dict[str, list[str]]] = {
    # iD ru: name "Оконщик", field option "Производство окон"; no terms at all.
    # The rest: words Russian owners type for their business that iD's ru terms lack.
    "craft=window_construction": {"ru": ["окна", "окно", "пластиковые окна", "установка окон"]},
    "amenity=cafe": {"ru": ["кофейня", "кофе", "кофе с собой", "кафе-кондитерская"]},
    "craft=plasterer": {"ru": ["натяжные потолки", "потолки", "потолок", "отделка стен"]},
    "shop=car": {"ru": ["автосалон", "автосалоны", "продажа автомобилей"]},
    "amenity=veterinary": {"ru": ["ветклиника", "ветеринарная клиника", "ветврач"]},
    "amenity=restaurant": {"ru": ["пиццерия", "суши", "суши-бар", "грузинская кухня"]},
    "amenity=fast_food": {"ru": ["бургерная", "шаурма", "пиццерия навынос"]},
    "craft=cleaning": {"ru": ["клининг", "уборка квартир", "клининговая компания"]},
    "leisure=fitness_centre": {"ru": ["йога", "студия йоги", "пилатес"]},
}


def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def download_package(dest: Path) -> Path:
    """``npm pack`` the package into *dest*, unpack it, return the package directory."""
    result = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"],
        cwd=dest,
        check=True,
        capture_output=True,
        text=True,
    )
    tgz = dest / result.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def find_dist(package_dir: Path) -> Path:
    for candidate in (package_dir / "dist", package_dir / "package" / "dist", package_dir):
        if (candidate / "presets.json").is_file() or (candidate / "presets.min.json").is_file():
            return candidate
    raise SystemExit(f"no dist/presets.json under {package_dir}")


def _first_existing(*paths: Path) -> Path:
    for path in paths:
        if path.is_file():
            return path
    raise SystemExit(f"none of these exist: {', '.join(map(str, paths))}")


def load_translation(dist: Path, lang: str) -> dict[str, Any]:
    path = _first_existing(
        dist / "translations" / f"{lang}.json", dist / "translations" / f"{lang}.min.json"
    )
    data = _load_json(path)
    presets: dict[str, Any] = data.get(lang, {}).get("presets", {})
    return presets


def _split(value: object, sep: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(sep) if part.strip()]
    if isinstance(value, list):
        return [str(part).strip() for part in value if str(part).strip()]
    return []


def _dedupe(items: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    seen = {item.casefold() for item in exclude}
    out: list[str] = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _option_label(fields: Mapping[str, Any], key: str, value: str) -> str | None:
    option = fields.get(key, {}).get("options", {}).get(value)
    if isinstance(option, str):
        return option.strip() or None
    if isinstance(option, dict) and isinstance(option.get("title"), str):
        return str(option["title"]).strip() or None
    return None


def _main_preset(ids: list[str], presets: Mapping[str, Any], key: str, value: str) -> str:
    def rank(pid: str) -> tuple[bool, bool, int, str]:
        return ("locationSet" in presets[pid], pid != f"{key}/{value}", len(pid), pid)

    return min(ids, key=rank)


def _resolve_name(
    pid: str, presets: Mapping[str, Any], translations: Mapping[str, Any], depth: int = 0
) -> str | None:
    """Name for *pid* in one language; follows ``{other/preset}`` references."""
    entry = translations.get("presets", {}).get(pid, {})
    name = entry.get("name")
    if not name:
        name = presets.get(pid, {}).get("name")
    if isinstance(name, str) and name.startswith("{") and name.endswith("}") and depth < 5:
        return _resolve_name(name[1:-1], presets, translations, depth + 1)
    return name.strip() if isinstance(name, str) and name.strip() else None


def build(package_dir: Path) -> dict[str, Any]:
    dist = find_dist(package_dir)
    meta = _load_json(_first_existing(dist.parent / "package.json", package_dir / "package.json"))
    version = meta["version"]
    presets: dict[str, Any] = _load_json(
        _first_existing(dist / "presets.json", dist / "presets.min.json")
    )
    translations = {lang: load_translation(dist, lang) for lang in LANGS}

    by_tag: dict[tuple[str, str], list[str]] = {}
    for pid, preset in presets.items():
        tags = preset.get("tags") or {}
        if len(tags) != 1:
            continue
        ((key, value),) = tags.items()
        if key not in GROUPS or value in GENERIC_VALUES:
            continue
        if preset.get("searchable") is False or preset.get("replacement"):
            continue
        by_tag.setdefault((key, value), []).append(pid)

    categories: list[dict[str, Any]] = []
    for (key, value), ids in by_tag.items():
        pid = _main_preset(ids, presets, key, value)
        preset = presets[pid]
        code = f"{key}={value}"
        names: dict[str, str] = {}
        terms: dict[str, list[str]] = {}
        for lang in LANGS:
            tr = translations[lang]
            label = _option_label(tr.get("fields", {}), key, value)
            name = _resolve_name(pid, presets, tr) or label
            if name is None:
                name = names.get("en") or value.replace("_", " ").capitalize()
            names[lang] = name
            entry = tr.get("presets", {}).get(pid, {})
            raw = _split(entry.get("terms"), ",") + _split(entry.get("aliases"), "\n")
            if lang == "en":
                raw += _split(preset.get("terms"), ",") + _split(preset.get("aliases"), "\n")
            if label:
                raw.append(label)
            raw += LOCAL_TERMS.get(code, {}).get(lang, [])
            terms[lang] = _dedupe(raw, exclude=[name])
        categories.append(
            {"code": code, "group": key, "name": names, "terms": terms},
        )

    categories.sort(key=lambda c: c["code"])
    return {
        "source": f"{PACKAGE}@{version}",
        "licence": LICENCE,
        "local_terms": LOCAL_TERMS,
        "categories": categories,
    }


def dumps(data: Mapping[str, Any]) -> str:
    """Compact JSON with one category per line, so diffs stay readable."""
    head = {k: v for k, v in data.items() if k != "categories"}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},")
    lines.append('"categories": [')
    rows = [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in data["categories"]]
    lines.append(",\n".join(rows))
    lines.append("]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--package-dir", type=Path, help="unpacked npm package (skip npm pack)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    if args.package_dir is not None:
        data = build(args.package_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            data = build(download_package(Path(tmp)))

    args.output.write_text(dumps(data), encoding="utf-8")
    print(f"{len(data['categories'])} categories from {data['source']} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
