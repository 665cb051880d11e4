"""Find a template in a pack: a branch's own version first, then the pack's.

A pack is a folder:

    pack.toml                         [pack] name, version, requires (the oldest
                                      credit-control version that reads the pack);
                                      [render] time_limit (seconds), size_limit (MB):
                                      what one document may cost to render (optional)
    letters/<lang>/<key>.docx         the templates (stage keys and statement)
    branches/<code>/branch.toml       [branch] name, address, phone, email, bank, tax_id,
                                      signatory: the letterhead and payment details;
                                      [branch.en] / [branch.zh] the same in one language.
                                      name (legal name), address and bank are required;
                                      language (en/zh) and logo (an image file beside
                                      branch.toml) are optional
    branches/<code>/letters/<lang>/<key>.docx   a branch's own version of a template

The pack shipped with the product is the repository's `letters/` folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import xl_addin
from xl_addin.core.problems import Problem, Source
from xl_addin.errors import TemplateError

BUILTIN = Path(xl_addin.__file__).resolve().parents[1] / "letters"
REQUIRED_BRANCH_FIELDS = ("name", "address", "bank")  # a letter without them cannot be paid
LANGUAGES = ("en", "zh")


@dataclass(frozen=True, slots=True)
class Pack:
    root: Path  # the folder holding letters/ (for the built-in pack: letters/ itself)
    version: str
    branch: str | None
    name: str = ""
    requires: str = ""  # the oldest credit-control version that reads the pack
    render: tuple[tuple[str, object], ...] = ()  # pack.toml's [render], as written

    def with_branch(self, branch: str | None) -> Pack:
        """The same pack, for another branch."""
        return replace(self, branch=branch or None)

    def letters(self) -> Path:
        """The folder holding the pack's <lang>/<key>.docx templates."""
        return self._letters()

    def branch_folder(self, code: str) -> Path:
        """The folder of branch `code` (it may not exist)."""
        return self._branches_base() / "branches" / code

    def shown(self, path: Path) -> str:
        """`path` as messages show it: relative to the folder holding the pack."""
        base = self._branches_base().parent
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            return path.as_posix()

    def template(self, key: str, lang: str) -> Path:
        """The template for `key` in `lang`: the branch's own, else the pack's."""
        candidates = []
        if self.branch:
            candidates.append(self._branch_folder() / "letters" / lang / f"{key}.docx")
        candidates.append(self._letters() / lang / f"{key}.docx")
        for path in candidates:
            if path.exists():
                return path
        raise TemplateError(f"no template {lang}/{key}.docx in {self.root}")

    def branch_profile(self, lang: str | None = None) -> dict[str, str]:
        """The branch's letterhead and payment details ({} when the pack has none).

        A `[branch.en]` or `[branch.zh]` table gives the fields as they read in that
        language (a Shanghai branch's English name and address for English letters);
        a field it leaves out is the `[branch]` one.
        """
        if not self.branch:
            return {}
        path = self._branch_folder() / "branch.toml"
        if not path.exists():
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise TemplateError(f"{path}: {error}") from error
        table = data.get("branch", data)
        profile = {k: str(v) for k, v in table.items() if not isinstance(v, dict)}
        if lang and isinstance(table.get(lang), dict):
            profile |= {k: str(v) for k, v in table[lang].items() if not isinstance(v, dict)}
        return profile

    def branches(self) -> list[str]:
        """The branch codes the pack has a folder for, sorted."""
        folder = self._branches_base() / "branches"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def branch_problems(self, where: Source) -> tuple[Problem, ...]:
        """What stops the branch's documents: a code the pack does not have (located at
        `where`, the Settings.Branch cell), or a branch.toml without legal name, address or
        bank in a language (located at the file). A blank branch is refused too: its
        documents would carry no letterhead and no bank to pay to."""
        known = self.branches()
        if not self.branch:
            listed = f"one of {', '.join(known)}" if known else "a branch of the template pack"
            return (Problem(where, f"no branch: set Settings.Branch to {listed} (its legal "
                                   "name, address and bank head every document)"),)  # fmt: skip
        if self.branch not in known:
            listed = f"known branches {', '.join(known)}" if known else "it has no branches"
            return (Problem(where, f'branch "{self.branch}" is not in the template pack '
                                   f"({self._branches_base().name}): {listed}"),)  # fmt: skip
        path = self._branch_folder() / "branch.toml"
        shown = Source(path.relative_to(self._branches_base().parent).as_posix())
        if not path.exists():
            return (Problem(shown, "no such file: the branch's legal name, address and bank "
                                   "go here ([branch] name, address, bank)"),)  # fmt: skip
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            return (Problem(shown, str(error)),)
        table = data.get("branch", data)
        messages: list[str] = []
        for lang in LANGUAGES:
            own = table.get(lang)
            name = f"[branch.{lang}]" if isinstance(own, dict) else "[branch]"
            profile = self.branch_profile(lang)
            for key in REQUIRED_BRANCH_FIELDS:
                message = f"{name} has no {key}"
                if not profile.get(key, "").strip() and message not in messages:
                    messages.append(message)
        return tuple(Problem(shown, m) for m in messages)

    def _letters(self) -> Path:
        return self.root if (self.root / "en").exists() else self.root / "letters"

    def _branches_base(self) -> Path:
        """The folder holding branches/: the pack's root, or (a letters/ root) its parent."""
        return self.root if (self.root / "branches").exists() else self.root.parent

    def _branch_folder(self) -> Path:
        return self._branches_base() / "branches" / str(self.branch)


def open_pack(folder: Path | None = None, branch: str | None = None) -> Pack:
    """Open a pack folder (None: the built-in pack)."""
    root = Path(folder) if folder else BUILTIN
    if not root.exists():
        raise TemplateError(f"template pack {root}: no such folder")
    manifest = root / "pack.toml"
    version = "builtin" if folder is None else "unversioned"
    if manifest.exists():
        try:
            data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise TemplateError(f"{manifest}: {error}") from error
        table = data.get("pack", {})
        version = str(table.get("version", version))
        name, requires = str(table.get("name", "")), str(table.get("requires", "")).strip()
        if requires and too_new(requires):
            raise TemplateError(
                f"{manifest}: this pack needs credit-control {requires} or newer; this is "
                f"{xl_addin.__version__}: upgrade credit-control (pip install -U xl-addin) "
                "before using it"
            )
        render = data.get("render", {})
        render = tuple(render.items()) if isinstance(render, dict) else (("", render),)
        return Pack(root, version, branch or None, name, requires, render)
    return Pack(root, version, branch or None)


def version_key(text: str) -> tuple[int, ...]:
    """2026.11.1 -> (2026, 11, 1); a part that is not a number counts as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in text.strip().split("."))


def too_new(requires: str, tool: str = xl_addin.__version__) -> bool:
    """Whether a pack needing credit-control `requires` is beyond this `tool` version."""
    needed, have = version_key(requires), version_key(tool)
    width = max(len(needed), len(have))
    return needed + (0,) * (width - len(needed)) > have + (0,) * (width - len(have))
