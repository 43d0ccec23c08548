"""Which kind of place an IMAP folder is: the inbox, spam, or a category tab. Providers name their
spam folder differently (Gmail "[Gmail]/Spam", Outlook "Junk Email", Yahoo "Bulk"), and servers
that support RFC 6154 flag it \\Junk; a seed may also name its own."""

from __future__ import annotations

import re
from dataclasses import dataclass

INBOX, SPAM, CATEGORY, OTHER = "inbox", "spam", "category", "other"
SPAM_NAMES = re.compile(r"spam|junk|bulk", re.IGNORECASE)
CATEGORIES = {"promotions": "Promotions", "social": "Social", "updates": "Updates", "forums": "Forums"}
# Views of mail filed elsewhere (Gmail's All Mail, Important, Starred) and the sender's own folders.
NOT_SEARCHED = {"\\all", "\\flagged", "\\important", "\\sent", "\\drafts", "\\noselect", "\\nonexistent"}


@dataclass(frozen=True)
class Folder:
    name: str  # as the server spells it (for SELECT)
    flags: frozenset[str]  # lower case, e.g. "\\junk"
    delimiter: str


def leaf(folder: Folder) -> str:
    return folder.name.rsplit(folder.delimiter, 1)[-1] if folder.delimiter else folder.name


def placement(folder: Folder, spam_folder: str = "") -> tuple[str, str]:
    """(inbox | spam | category | other, the category's name)."""
    if folder.name.upper() == "INBOX":
        return INBOX, ""
    if folder.name == spam_folder or "\\junk" in folder.flags or SPAM_NAMES.search(leaf(folder)):
        return SPAM, ""
    if category := CATEGORIES.get(leaf(folder).lower()):
        return CATEGORY, category
    return OTHER, ""


def search_order(folders: list[Folder], spam_folder: str = "") -> list[Folder]:
    """The folders worth looking in, the inbox first, then spam, then the rest."""
    searched = [f for f in folders if not f.flags & NOT_SEARCHED]
    rank = {INBOX: 0, SPAM: 1, CATEGORY: 2, OTHER: 3}
    return sorted(searched, key=lambda f: rank[placement(f, spam_folder)[0]])
