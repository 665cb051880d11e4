"""Find a template in a pack: a branch's own version first, then the pack's.

A pack is a folder:

    pack.toml                         [pack] name, version
    letters/<lang>/<key>.docx         the templates (stage keys and statement)
    branches/<code>/branch.toml       [branch] name, address, phone, email, bank, tax_id,
                                      signatory: the letterhead and payment details
    branches/<code>/letters/<lang>/<key>.docx   a branch's own version of a template

The pack shipped with the product is the repository's `letters/` folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import xl_addin
from xl_addin.errors import TemplateError

BUILTIN = Path(xl_addin.__file__).resolve().parents[1] / "letters"


@dataclass(frozen=True, slots=True)
class Pack:
    root: Path  # the folder holding letters/ (for the built-in pack: letters/ itself)
    version: str
    branch: str | None

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

    def _letters(self) -> Path:
        return self.root if (self.root / "en").exists() else self.root / "letters"

    def _branch_folder(self) -> Path:
        base = self.root if (self.root / "branches").exists() else self.root.parent
        return base / "branches" / str(self.branch)


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
        version = str(data.get("pack", {}).get("version", version))
    return Pack(root, version, branch or None)
