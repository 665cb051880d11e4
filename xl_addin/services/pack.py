"""The pack use cases: start a pack from the shipped one, check it, describe it.

`check_pack` is what `credit-control pack validate DIR` and `validate WORKBOOK` (for the
workbook's branch and Policy) run, so that a letters or statements run never stops
half-way on a template: the manifest, each branch's file and logo, a template for every
step the policy issues in every language after the branch's overrides, and every
template compiled, its fields checked and rendered for a sample customer
(documents.checks). Every problem is listed at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xl_addin
from xl_addin.core.policy import DEFAULT_POLICY, Policy
from xl_addin.core.problems import Problem, Source
from xl_addin.documents.checks import template_problems
from xl_addin.errors import TemplateError
from xl_addin.packs.checks import (
    branch_file_problems,
    manifest_problems,
    missing_templates,
    needed_templates,
    stray_overrides,
)
from xl_addin.packs.lookup import BUILTIN, LANGUAGES, Pack, open_pack


@dataclass(frozen=True, slots=True)
class BranchInfo:
    code: str
    name: str
    language: str
    overrides: tuple[str, ...]  # <lang>/<key>.docx the branch has its own version of


@dataclass(frozen=True, slots=True)
class PackInfo:
    folder: Path
    name: str
    version: str
    requires: str
    templates: tuple[str, ...]  # <lang>/<key>.docx
    branches: tuple[BranchInfo, ...]

    def as_dict(self) -> dict[str, object]:
        return {"folder": str(self.folder), "name": self.name, "version": self.version,
                "requires": self.requires, "templates": list(self.templates),
                "branches": [{"code": b.code, "name": b.name, "language": b.language,
                              "overrides": list(b.overrides)} for b in self.branches]}  # fmt: skip


def init_pack(folder: Path) -> Path:
    """Copy the shipped pack to `folder` (new or empty) as letters/, branches/, pack.toml."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TemplateError(f"{folder} already exists and is not empty: choose a new folder")
    if not folder.parent.is_dir():
        raise TemplateError(f"{folder.parent}: no such folder")
    shipped = open_pack(None)
    folder.mkdir(exist_ok=True)
    for lang in LANGUAGES:
        shutil.copytree(BUILTIN / lang, folder / "letters" / lang)
    shutil.copytree(BUILTIN / "branches", folder / "branches")
    (folder / "pack.toml").write_text(
        "[pack]\n"
        f'name = "{folder.name}"  # what head office calls this pack\n'
        f'version = "{shipped.version}"  # raise it with every change sent to the branches\n'
        f'requires = "{xl_addin.__version__}"  # the oldest credit-control that reads it\n',
        encoding="utf-8",
    )
    return folder


def open_checked(folder: Path | None, branch: str | None = None) -> tuple[Pack | None,
                                                                          tuple[Problem, ...]]:
    """The pack, or why it cannot be opened (a broken pack.toml, a newer pack)."""
    try:
        return open_pack(folder, branch), ()
    except TemplateError as error:
        where = Path(folder) / "pack.toml" if folder else BUILTIN / "pack.toml"
        return None, (Problem(Source(where.as_posix()), str(error).split(": ", 1)[-1]),)


def check_pack(
    pack: Pack, policy: Policy = DEFAULT_POLICY, branches: Sequence[str] | None = None
) -> tuple[Problem, ...]:
    """Every problem of the pack for `branches` (default: all of its branches)."""
    needed = needed_templates(policy)
    problems: list[Problem] = list(manifest_problems(pack))
    checked: set[tuple[Path, str, str]] = set()
    codes = list(branches) if branches is not None else pack.branches()
    for code in codes or [None]:
        branch = pack.with_branch(code)
        if code:
            problems += branch_file_problems(branch) + stray_overrides(branch, needed)
        problems += missing_templates(branch, needed)
        for item in needed:
            for lang in LANGUAGES:
                try:
                    path = branch.template(item.key, lang)
                except TemplateError:
                    continue  # listed as missing above
                if (path, item.kind, lang) not in checked:
                    checked.add((path, item.kind, lang))
                    problems += template_problems(path, pack.shown(path), item.kind, lang,
                                                  branch.branch_profile(lang))  # fmt: skip
    return tuple(dict.fromkeys(problems))  # a pack file's problem once, whichever branch


def validate_pack(folder: Path, branch: str | None = None) -> tuple[Pack | None,
                                                                   tuple[Problem, ...]]:
    """Open and check the pack in `folder` (only `branch`, when given)."""
    if not Path(folder).is_dir():
        return None, (Problem(Source(Path(folder).as_posix()), "no such folder"),)
    pack, problems = open_checked(folder)
    if pack is None:
        return None, problems
    if branch and branch not in pack.branches():
        listed = ", ".join(pack.branches()) or "none"
        return pack, (Problem(Source(pack.shown(pack.branch_folder(branch))),
                              f"no such branch (the pack has: {listed})"),)  # fmt: skip
    return pack, check_pack(pack, branches=[branch] if branch else None)


def workbook_pack_problems(settings, policy: Policy, pack: Pack) -> tuple[Problem, ...]:
    """The pack checks for a workbook's branch and Policy, and its PackVersion."""
    problems = check_pack(pack, policy, [pack.branch] if pack.branch else [])
    recorded = str(settings.pack_version or "").strip()
    if recorded and recorded != pack.version:
        folder = settings.template_pack or "the built-in pack"
        problems += (Problem(settings.source("pack_version"), (
            f"the workbook was built from pack version {recorded} but {folder} is version "
            f"{pack.version}: bring the workbook to the pack's layout (credit-control upgrade) "
            f"or set PackVersion to {pack.version}")),)  # fmt: skip
    return problems


def pack_info(folder: Path) -> PackInfo:
    """What the pack in `folder` holds: manifest, templates, branches and their overrides."""
    pack = open_pack(Path(folder))
    templates = tuple(f"{lang}/{p.name}" for lang in LANGUAGES
                      for p in sorted((pack.letters() / lang).glob("*.docx")))  # fmt: skip
    branches = []
    for code in pack.branches():
        profile = pack.with_branch(code).branch_profile()
        own = pack.branch_folder(code) / "letters"
        overrides = tuple(p.relative_to(own).as_posix() for p in sorted(own.glob("*/*.docx")))
        branches.append(BranchInfo(code, profile.get("name", ""), profile.get("language", ""),
                                   overrides))  # fmt: skip
    return PackInfo(Path(folder), pack.name, pack.version, pack.requires, templates,
                    tuple(branches))  # fmt: skip
