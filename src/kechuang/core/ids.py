"""Security identifiers. STAR shares are 688xxx, CDRs of red-chip issuers 689xxx
(star-market-reference.md section 0)."""

from __future__ import annotations

import re

from kechuang.core.errors import UnknownCodeError

STAR_CODE_RE = re.compile(r"^68[89]\d{3}$")
# SQL twin of STAR_CODE_RE, used where validation runs inside the database.
STAR_CODE_SQL_PATTERN = "^68[89][0-9]{3}$"


def is_star_code(code: str) -> bool:
    return bool(STAR_CODE_RE.match(code))


def normalize_code(raw: str | int) -> str:
    """'688001', '688001.SH', 'sh688001' or 688001 -> '688001'; anything else raises."""
    s = str(raw).strip().upper()
    for prefix in ("SH",):
        if s.startswith(prefix):
            s = s[len(prefix):]
    if s.endswith(".SH"):
        s = s[:-3]
    if not is_star_code(s):
        raise UnknownCodeError(f"{raw!r} is not a STAR code (688xxx shares or 689xxx CDRs)")
    return s


def is_cdr(code: str) -> bool:
    return code.startswith("689")
