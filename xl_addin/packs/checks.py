"""What a pack folder must hold, checked without opening a template (see documents.checks).

- pack.toml with name and version (`requires` optional: the oldest credit-control it needs);
- for each branch (or, in a pack without branches, for the pack itself) a template for every
  stage the policy issues and the statement, in every language, after the branch's overrides;
- no override file that the lookup would never use (a misspelt key or language);
- each branch.toml complete in every language (the letterhead, bank, tax id and signatory a
  document prints), an `en` or `zh` language if one is given, and a logo that is an image.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from xl_addin.core.dunning import KIND_BY_ACTION
from xl_addin.core.policy import Policy
from xl_addin.core.problems import Problem, Source
from xl_addin.packs.lookup import LANGUAGES, Pack

BRANCH_FIELDS = ("name", "address", "phone", "email", "bank", "tax_id", "signatory")
STATEMENT = "statement"


@dataclass(frozen=True, slots=True)
class Needed:
    """A template the policy issues: its key (file name) and the kind of document it makes."""

    key: str
    kind: str  # letter, call_sheet, legal_pack, statement


def needed_templates(policy: Policy) -> tuple[Needed, ...]:
    """Every stage the policy issues a document for, then the statement."""
    stages = tuple(Needed(s.key, KIND_BY_ACTION.get(s.action, "letter"))
                   for s in policy.stages if s.action.strip().lower() != "none")  # fmt: skip
    return (*stages, Needed(STATEMENT, "statement"))


def manifest_problems(pack: Pack) -> tuple[Problem, ...]:
    """pack.toml missing, or without a name or version."""
    manifest = pack.root / "pack.toml"
    shown = Source(pack.shown(manifest))
    if not manifest.exists():
        return (Problem(shown, "no such file: a pack names itself here ([pack] name, version, "
                               "requires)"),)  # fmt: skip
    return tuple(Problem(shown, f"[pack] has no {key}")
                 for key, value in (("name", pack.name), ("version", pack.version))
                 if not value or value == "unversioned")  # fmt: skip


def missing_templates(pack: Pack, needed: tuple[Needed, ...]) -> tuple[Problem, ...]:
    """A template the policy needs that neither the branch nor the pack has."""
    problems = []
    for item in needed:
        for lang in LANGUAGES:
            own = pack.branch_folder(pack.branch) / "letters" / lang if pack.branch else None
            if own is not None and (own / f"{item.key}.docx").exists():
                continue
            if not (pack.letters() / lang / f"{item.key}.docx").exists():
                whose = f" (nor branch {pack.branch})" if pack.branch else ""
                shown = pack.shown(pack.letters() / lang / f"{item.key}.docx")
                message = f"no such template{whose}: the policy's {item.key} step needs one"
                problems.append(Problem(Source(shown), f"{message} in {lang}"))
    return tuple(problems)


def stray_overrides(pack: Pack, needed: tuple[Needed, ...]) -> tuple[Problem, ...]:
    """A branch template file the lookup never uses: an unknown key or language."""
    if not pack.branch:
        return ()
    folder = pack.branch_folder(pack.branch) / "letters"
    keys = [item.key for item in needed]
    problems = []
    for path in sorted(folder.glob("*/*.docx")) if folder.is_dir() else ():
        if path.parent.name not in LANGUAGES:
            problems.append(Problem(Source(pack.shown(path)), f'"{path.parent.name}" is not a '
                                    f"language of the pack ({', '.join(LANGUAGES)}): never "
                                    "used"))  # fmt: skip
        elif path.stem not in keys:
            hint = difflib.get_close_matches(path.stem, keys, n=1, cutoff=0.6)
            tip = f' (did you mean "{hint[0]}.docx"?)' if hint else ""
            problems.append(Problem(Source(pack.shown(path)), f"no step of the policy is "
                                    f'called "{path.stem}": never used{tip}'))  # fmt: skip
    return tuple(problems)


def branch_file_problems(pack: Pack) -> tuple[Problem, ...]:
    """A branch.toml that a document would print incomplete, or with a bad language or logo."""
    path = pack.branch_folder(str(pack.branch)) / "branch.toml"
    shown = Source(pack.shown(path))
    if not path.exists():
        return (Problem(shown, "no such file: the branch's legal name, address and bank go "
                               "here ([branch] name, address, bank)"),)  # fmt: skip
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return (Problem(shown, str(error)),)
    table = data.get("branch", data)
    problems = []
    for lang in LANGUAGES:
        name = f"[branch.{lang}]" if isinstance(table.get(lang), dict) else "[branch]"
        profile = pack.branch_profile(lang)
        missing = [key for key in BRANCH_FIELDS if not profile.get(key, "").strip()]
        message = f"{name} has no {', '.join(missing)}"
        if missing and all(p.message != message for p in problems):
            problems.append(Problem(shown, message))
    language = str(table.get("language", "")).strip()
    if language and language not in LANGUAGES:
        problems.append(Problem(shown, f'language "{language}" is not one of '
                                       f"{', '.join(LANGUAGES)}"))  # fmt: skip
    logo = str(table.get("logo", "")).strip()
    if logo:
        problems += logo_problems(path.parent / logo, shown, pack)
    return tuple(problems)


def logo_problems(path: Path, where: Source, pack: Pack) -> tuple[Problem, ...]:
    """The logo must be an image file Pillow can read to the end."""
    if not path.is_file():
        return (Problem(where, f"logo: no such file {pack.shown(path)}"),)
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
        return (Problem(where, f"logo: {pack.shown(path)} is not a readable image ({error})"),)
    return ()
