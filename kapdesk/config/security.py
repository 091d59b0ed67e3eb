"""The ``[security]`` table of clinic.toml: passwords, lockout, automatic lock.

Missing keys take the defaults; a wrong type, a value outside its plausible range
(``kapdesk.domain.setting_ranges``) or an unknown key is refused with file, line and field.
"""

from __future__ import annotations

from pathlib import Path

from kapdesk.config.files import error_at, read_clinic_toml
from kapdesk.config.paths import clinic_file
from kapdesk.domain import config_errors as cf
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain.accounts import SignInPolicy
from kapdesk.domain.config_errors import ConfigError

CARE_TEAM = "care team"
EVERY_THERAPIST = "every therapist"


def journal_readers(table: dict[str, object]) -> str:
    """Whose shared entries a therapist reads: their care team's patients (the default)
    or every patient's."""
    if "journal_readers" not in table:
        return CARE_TEAM
    return cf.choice(table, "security", "journal_readers", (CARE_TEAM, EVERY_THERAPIST))


def load_sign_in_policy(path: Path | None = None) -> SignInPolicy:
    path = clinic_file() if path is None else path
    text, data = read_clinic_toml(path)
    d = SignInPolicy()
    try:
        table = cf.table(data, "", "security")
        cf.only(
            table,
            "security",
            {
                "min_password_length",
                "max_sign_in_failures",
                "sign_in_lockout_min",
                "idle_lock_min",
                "journal_readers",
            },
        )

        def whole(key: str, default: int, within: ranges.Range) -> int:
            return ranges.integer(table.get(key, default), f"security.{key}", within)

        def minutes(key: str, default_s: float, within: ranges.Range) -> float:
            return 60.0 * cf.number(table, "security", key, default=default_s / 60.0, within=within)

        return SignInPolicy(
            min_password_length=whole(
                "min_password_length", d.min_password_length, ranges.MIN_PASSWORD_LENGTH
            ),
            max_failures=whole("max_sign_in_failures", d.max_failures, ranges.MAX_SIGN_IN_FAILURES),
            lockout_s=minutes("sign_in_lockout_min", d.lockout_s, ranges.SIGN_IN_LOCKOUT_MIN),
            idle_lock_s=minutes("idle_lock_min", d.idle_lock_s, ranges.IDLE_LOCK_MIN),
            care_team_only=journal_readers(table) == CARE_TEAM,
        )
    except ConfigError as exc:
        raise error_at(path, text, exc) from None
