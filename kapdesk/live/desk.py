"""Who is at this workstation's keyboard, and whether it is locked: the one answer every
service asks before it acts (the session controller, the alarm service, the stores the
screens use), so a refusal does not depend on a hidden button.

States: nobody signed in; a staff member signed in (possibly through break glass, with a
reason); locked (the staff member stays known, so they can unlock with their password, but
nothing they may do is allowed until then); patient mode (the patient's actor: their own
journal only). The monitor and its alarms never depend on it: acknowledging an alarm is
open to whoever is at the bedside. Every change is audited.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum

from kapdesk.domain import access
from kapdesk.domain.access import AT_THE_BEDSIDE, AccessDenied, Actor
from kapdesk.domain.accounts import SignInPolicy, SignInRefused
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.listeners import Listeners
from kapdesk.storage.accounts import AccountStore
from kapdesk.storage.audit import AuditLog
from kapdesk.storage.care_team import CareTeams

log = logging.getLogger(__name__)


class DeskState(StrEnum):
    SIGNED_OUT = "signed_out"
    SIGNED_IN = "signed_in"
    LOCKED = "locked"
    PATIENT_MODE = "patient_mode"


class Desk:
    def __init__(
        self, accounts: AccountStore, audit: AuditLog, care: CareTeams | None = None
    ) -> None:
        self.accounts = accounts
        self.audit = audit
        self.care = care or CareTeams(accounts.engine, accounts.writer, audit)
        self.care.add_listener(self._care_changed)
        self._actor: Actor | None = None  # the staff member (kept while locked)
        self._patient: Actor | None = None  # patient mode
        self._locked = False
        self._lock = threading.Lock()
        self._listeners: Listeners[[DeskState]] = Listeners("desk change", log)

    @property
    def policy(self) -> SignInPolicy:
        return self.accounts.policy

    # -- what the services ask --------------------------------------------------------

    @property
    def state(self) -> DeskState:
        if self._patient is not None:
            return DeskState.PATIENT_MODE
        if self._actor is None:
            return DeskState.SIGNED_OUT
        return DeskState.LOCKED if self._locked else DeskState.SIGNED_IN

    def current(self) -> Actor | None:
        """Who may act now: the patient in patient mode, the staff member when unlocked,
        else nobody."""
        if self._patient is not None:
            return self._patient
        return None if self._locked else self._actor

    @property
    def staff_member(self) -> Actor | None:
        """The staff member signed in at this desk, locked or not (for the lock screen)."""
        return self._actor

    def require(self, check: Callable[[Actor], bool], what: str) -> Actor:
        """The current actor if ``check`` allows ``what``; ``AccessDenied`` (audited)
        otherwise: nobody signed in, locked, or a role that may not."""
        actor = self.current()
        if actor is None:
            state = "the screen is locked" if self._locked else "nobody is signed in"
            raise AccessDenied(f"not allowed: {what} ({state}; sign in first)")
        if not check(actor):
            self.audit.append(actor, AuditAction.ACCESS_REFUSED, outcome=what)
            raise AccessDenied(f"not allowed: {what} ({actor.name}: {actor.role_names})")
        return actor

    def who(self) -> str:
        """The name recorded as the author of an act at this desk now."""
        actor = self.current()
        if actor is None or not actor.is_staff:
            return AT_THE_BEDSIDE
        return actor.who

    # -- changes ----------------------------------------------------------------------

    def add_listener(self, listener: Callable[[DeskState], None]) -> None:
        self._listeners.add(listener)

    def remove_listener(self, listener: Callable[[DeskState], None]) -> None:
        self._listeners.remove(listener)

    def _changed(self) -> None:
        self._listeners.notify(self.state)

    def _care_changed(self, usernames: frozenset[str]) -> None:
        """Someone's care team changed: the signed-in therapist's access follows at once
        (an unrestricted actor, an emergency session say, stays unrestricted)."""
        with self._lock:
            actor = self._actor
            if actor is None or actor.care_of is None or actor.username not in usernames:
                return
            self._actor = self.accounts.with_care(actor)
        self._changed()  # the screens holding the actor (journal review) take the new one

    def sign_in(self, username: str, password: str) -> Actor:
        """Sign a staff member in (``SignInRefused`` says why not). From the lock screen a
        different person signing in replaces the one who locked it."""
        actor = self.accounts.sign_in(username, password)
        self._enter(actor)
        return actor

    def break_glass(self, username: str, password: str, reason: str) -> Actor:
        """Emergency access with a stated reason: the staff member's own roles plus those
        needed to look after the patient, loudly audited and marked on every act."""
        reason = reason.strip()
        if len(reason) < 5:
            raise SignInRefused("Say why emergency access is needed (a few words).")
        signed = self.accounts.sign_in(username, password, emergency=reason)
        actor = Actor(
            signed.roles | {access.Role.THERAPIST, access.Role.MEDICAL_STAFF},
            signed.name,
            user_id=signed.user_id,
            username=signed.username,
            emergency=reason,
        )
        self._enter(actor)
        return actor

    def enter(self, actor: Actor, how: str) -> None:
        """A staff member whose identity was established elsewhere (the command line's
        own sign-in, a test's clinician): recorded as a sign-in saying how."""
        if not actor.is_staff:
            raise ValueError("a patient enters through patient mode")
        self.audit.append(actor, AuditAction.SIGN_IN, detail={"how": how})
        self._enter(actor)

    def _enter(self, actor: Actor) -> None:
        with self._lock:
            self._actor, self._locked, self._patient = actor, False, None
        self._changed()

    def sign_out(self) -> None:
        actor = self._actor
        with self._lock:
            self._actor, self._locked, self._patient = None, False, None
        if actor is not None:
            self.audit.append(actor, AuditAction.SIGN_OUT)
        self._changed()

    def lock(self, why: str = "on demand") -> bool:
        """Lock the desk (idle, a key); False when there is nothing to lock."""
        if self._actor is None or self._locked or self._patient is not None:
            return False
        with self._lock:
            self._locked = True
        self.audit.append(self._actor, AuditAction.LOCK, outcome=why)
        self._changed()
        return True

    def unlock(self, password: str) -> Actor:
        """The staff member who locked it, with their password."""
        actor = self._actor
        if actor is None or not self._locked:
            raise SignInRefused("Nothing to unlock.")
        if not self.accounts.verify_password(actor, password):
            self.audit.append(actor, AuditAction.SIGN_IN_FAILED, outcome="unlock: wrong password")
            raise SignInRefused("Wrong password.")
        with self._lock:
            self._locked = False
        self.audit.append(actor, AuditAction.UNLOCK)
        self._changed()
        return actor

    def enter_patient_mode(self, patient_id: int) -> Actor:
        """Hand the keyboard to a patient: their own journal only, until staff sign in."""
        by = self.require(access.is_staff_actor, "opening patient mode")
        patient = Actor.patient(patient_id)
        self.audit.append(by, AuditAction.PATIENT_MODE_ENTERED, f"patient:{patient_id}")
        with self._lock:
            self._patient = patient
        self._changed()
        return patient

    def leave_patient_mode(self, by: Actor) -> None:
        """Staff proved presence (sign-in or the staff PIN) and take the keyboard back."""
        patient = self._patient
        if patient is None:
            return
        with self._lock:
            self._patient = None
            if by.username and by != self._actor:
                self._actor, self._locked = by, False
        self.audit.append(by, AuditAction.PATIENT_MODE_LEFT, f"patient:{patient.patient_id}")
        self._changed()
