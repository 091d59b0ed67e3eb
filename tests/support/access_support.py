"""Who the tests act as: a clinician holding both clinical roles, as a small clinic's
physician-therapist would, so a test of the timeline is not a test of the roles (those
are in tests/domain/test_access.py and tests/live/test_roles_enforced.py)."""

from __future__ import annotations

from kapdesk.domain.access import Actor, Role

CLINICIAN = Actor(
    {Role.THERAPIST, Role.MEDICAL_STAFF}, "Test Clinician", user_id=None, username="clinician"
)
THERAPIST = Actor(Role.THERAPIST, "Tess Therapist", username="tess")
NURSE = Actor(Role.MEDICAL_STAFF, "Nia Nurse", username="nia")
ADMIN = Actor(Role.ADMIN, "Ada Admin", username="ada")

#: The password of the command-line test user (``cli_user``).
CLI_PASSWORD = "a test password"


def cli_user(url: str, username: str = "clinician", roles=None) -> dict[str, str]:
    """An account in the database at ``url`` (the first one is a clinic admin who also
    works as therapist and medical staff) and the environment a command signs in with."""
    from kapdesk.storage.accounts import AccountStore
    from kapdesk.storage.audit import AuditLog
    from kapdesk.storage.database import open_database
    from kapdesk.storage.journal.writer import DirectWriter

    engine = open_database(url)
    try:
        writer = DirectWriter(engine)
        accounts = AccountStore(engine, writer, AuditLog(engine, writer))
        wanted = roles or {Role.ADMIN, Role.THERAPIST, Role.MEDICAL_STAFF}
        if accounts.get(username) is None:
            admin = None
            if accounts.count():
                admin = accounts.sign_in("clinician", CLI_PASSWORD)
            accounts.create(admin, username, username.title(), wanted, CLI_PASSWORD)
    finally:
        engine.dispose()
    return {"KAPDESK_USER": username, "KAPDESK_PASSWORD": CLI_PASSWORD}


def sign_in_cli(monkeypatch, url: str, username: str = "clinician", roles=None) -> None:
    """``cli_user``, its environment set for in-process ``main([...])`` calls."""
    for key, value in cli_user(url, username, roles).items():
        monkeypatch.setenv(key, value)
