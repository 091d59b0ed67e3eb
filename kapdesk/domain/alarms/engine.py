"""The alarm engine: fed every reading as it arrives, ticked to let delays expire.

Pure and single-threaded: time comes in as arguments (session-clock epoch seconds, as in
``Reading.t``), every call returns the transitions it caused, and nothing here sleeps,
reads a clock or touches Qt. Silence ("no data") is a matter of the devices' own time,
not of the session clock that ``--speed`` accelerates: ``on_reading`` and ``tick`` also
take ``real_t``, real seconds on any monotonic scale (when each reading arrived, when the
tick runs); without it the session time stands in, which is right at speed 1. The live
wiring is ``kapdesk.live.alarm_service``; ``kapdesk replay`` drives the same engine from a file.

Rules, per (channel, condition), one alarm at a time:
- a continuous channel must stay beyond a limit for the condition delay before it
  alarms (a spike does not); a discrete channel (NIBP) alarms on the reading itself;
- the alarm's priority is the highest one whose limit has been crossed for the delay;
  crossing a higher limit, or persisting for the clinic's escalation time, escalates
  it; priority never steps down while the alarm lasts;
- it ends only once the value is back inside the least severe limit by the hysteresis
  margin (for the clear delay); a latched alarm then records that its condition ended
  and keeps signalling until acknowledged;
- gaps (NaN), ``invalid`` and ``sensor_off`` readings never start or end a
  physiological alarm; ``sensor_off`` and silence raise technical alarms instead.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import overload

from kapdesk.domain import time_text
from kapdesk.domain.alarms.limits import AlarmLimits, AlarmSettings, LimitError, LimitRule
from kapdesk.domain.alarms.model import (
    ALARM_SYSTEM,
    AlarmKind,
    AlarmState,
    AlarmTransition,
    AudioState,
    Condition,
    Priority,
    TransitionKind,
)
from kapdesk.domain.alarms.sources import (
    DEFAULT_SOURCE_GRACE_S,
    source_channels,
    source_label,
)
from kapdesk.domain.channels import CHANNELS, Sampling
from kapdesk.domain.clock import iso_utc, parse_iso_utc
from kapdesk.domain.readings import NOT_A_MEASUREMENT, SENSOR_OFF, Reading

#: Slack for comparing float epoch times against delays (1 µs), so a tick that lands
#: exactly on the delay's end counts as reaching it.
_EPSILON_S = 1e-6

Key = tuple[str, Condition]

_TECHNICAL_TEXT = {
    Condition.SIGNAL_LOST: "No data",
    Condition.SENSOR_OFF: "Sensor off",
    Condition.DEVICE_DISCONNECTED: "Device disconnected",
    Condition.RECORDING_FAILED: "Recording failed",
    Condition.AUDIO_UNAVAILABLE: "Alarm audio unavailable",
}


@dataclass
class _Tracker:
    """Where one (channel, condition) stands between readings."""

    channel: str
    condition: Condition
    rules: list[LimitRule]
    #: priority -> time the value first went (and stayed) beyond that priority's limit
    since: dict[Priority, float] = field(default_factory=dict)
    #: time the value first came back inside by the hysteresis margin, while alarming
    clear_since: float | None = None
    last_value: float | None = None


@dataclass
class _Alarm:
    key: Key
    kind: AlarmKind
    priority: Priority
    started: float
    priority_since: float
    value: float | None
    limit: float | None
    message: str
    episode: str
    #: time of this episode's latest transition: none of its records is stamped earlier
    last_t: float
    condition_present: bool = True
    condition_ended_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None

    @property
    def audible(self) -> bool:
        return self.acknowledged_by is None

    def state(self) -> AlarmState:
        return AlarmState(
            channel=self.key[0],
            priority=self.priority,
            kind=self.kind,
            condition=self.key[1],
            message=self.message,
            value=self.value,
            limit=self.limit,
            started=self.started,
            acknowledged_by=self.acknowledged_by,
            acknowledged_at=self.acknowledged_at,
            latched=not self.condition_present,
            audible=self.audible,
            episode=self.episode,
            condition_ended_at=self.condition_ended_at,
        )


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """What the engine knows of a session that its record must give back on resume.

    Comparable (``==``): a test takes one before a crash and one after the resume. The
    last value of each channel is not in it: it is not recorded with the alarm and
    comes back with the next reading. Technical alarms are not in it either: they are
    about the process and the devices of the moment, and the resumed process detects
    its own (see ``AlarmEngine.restore``).
    """

    rules: tuple[LimitRule, ...]
    baselines: tuple[tuple[str, float], ...]
    #: physiological alarms still signalling, as their record says they are
    alarms: tuple[AlarmState, ...]
    audio_paused_until: float | None


def _fmt(x: float, decimals: int | None = None) -> str:
    if decimals is not None:
        return f"{x:.{decimals}f}"
    return f"{x:g}"


class AlarmEngine:
    """Turns readings, link changes and staff actions into alarm transitions."""

    def __init__(self, limits: AlarmLimits, settings: AlarmSettings | None = None) -> None:
        self._limits = limits
        self._settings = settings if settings is not None else AlarmSettings()
        self._baselines: dict[str, float] = {}
        self._trackers: dict[Key, _Tracker] = {}
        self._alarms: dict[Key, _Alarm] = {}
        #: channel -> session time of its last value (what "no data since" shows)
        self._last_seen: dict[str, float] = {}
        #: channel -> real time its last value arrived (what "no data" is measured by)
        self._last_seen_real: dict[str, float] = {}
        #: device -> session time of its last reading
        self._device_last_seen: dict[str, float] = {}
        self._channel_device: dict[str, str] = {}
        self._lost_devices: set[str] = set()
        self._audio_paused_until: float | None = None
        self._now: float | None = None
        self._episodes = 0
        #: expected sources (a running session's protocol), the channels providing each
        self._expected: dict[str, frozenset[str]] = {}
        self._source_grace_s = DEFAULT_SOURCE_GRACE_S
        #: source -> real time since when no connected device provides it
        self._missing_since: dict[str, float] = {}
        #: sources awaited since a resume: name -> (its channels, real and session time
        #: of the resume)
        self._awaited: dict[str, tuple[frozenset[str], float, float]] = {}
        #: device -> channels it provides (its link's channels and what it sent)
        self._device_channels: dict[str, set[str]] = {}
        #: device -> connected, from its link status; a device that only ever sent
        #: readings (no status) counts as connected
        self._device_links: dict[str, bool] = {}
        self._rebuild_trackers()

    # -- configuration -------------------------------------------------------------

    @property
    def limits(self) -> AlarmLimits:
        return self._limits

    @property
    def settings(self) -> AlarmSettings:
        return self._settings

    def replace_limits(self, limits: AlarmLimits) -> None:
        """Use another protocol's limits (the session's own); what the trackers already
        know of each channel carries over, so no delay restarts."""
        self._limits = limits
        self._rebuild_trackers()

    def set_baseline(self, channel: str, value: float) -> None:
        """The patient's own pre-dose value; baseline-relative limits start working."""
        if not math.isfinite(value):
            raise ValueError(f"baseline for {channel} must be a finite number, got {value!r}")
        self._baselines[channel] = value

    def baseline(self, channel: str) -> float | None:
        return self._baselines.get(channel)

    def change_limit(
        self,
        channel: str,
        condition: Condition,
        priority: Priority,
        threshold: float | None,
        by: str,
        t: float,
    ) -> list[AlarmTransition]:
        """Change one limit for this session (None removes it); the change is recorded.

        Raises ``LimitError`` (a ValueError) for a limit that makes no sense, leaving
        the limits as they were. The channel's last value is re-judged at once, so
        raising a limit ends an alarm it no longer justifies.
        """
        old = self._limits.rule(channel, condition, priority)
        self._limits = self._limits.with_threshold(channel, condition, priority, threshold)
        self._advance(t)
        self._rebuild_trackers()
        old_text = "none" if old is None else _fmt(old.threshold)
        new_text = "none" if threshold is None else _fmt(threshold)
        label = CHANNELS[channel].label
        out = [
            AlarmTransition(
                t=t,
                channel=channel,
                priority=priority,
                kind=AlarmKind.PHYSIOLOGICAL,
                condition=condition,
                transition=TransitionKind.LIMIT_CHANGED,
                value=None if old is None else old.threshold,
                limit=threshold,
                message=(
                    f"{label} {condition.value.replace('_', ' ')} ({priority.value} priority)"
                    f" {old_text} -> {new_text} by {by}"
                ),
                by=by,
            )
        ]
        tracker = self._trackers.get((channel, condition))
        alarm = self._alarms.get((channel, condition))
        if tracker is not None and tracker.last_value is not None:
            out += self._on_value(tracker, t, tracker.last_value)
        elif tracker is None and alarm is not None and alarm.condition_present:
            out += self._condition_ended(alarm, t)  # the last rule went: nothing to judge by
        return out

    # -- inputs ----------------------------------------------------------------------

    def on_reading(self, reading: Reading, real_t: float | None = None) -> list[AlarmTransition]:
        """Judge one reading as it arrives (never batched per GUI frame).

        ``real_t``: when it arrived, in real seconds (the same scale as ``tick``'s).
        """
        provides = self._device_channels.get(reading.device)
        if provides is None:
            self._device_channels[reading.device] = {reading.channel}
        elif reading.channel not in provides:
            provides.add(reading.channel)
        info = CHANNELS.get(reading.channel)
        if info is None or info.sampling is Sampling.WAVEFORM:
            return []
        t = reading.t
        real = t if real_t is None else real_t
        self._advance(t)
        ch = reading.channel
        out: list[AlarmTransition] = []
        if reading.device:
            self._channel_device[ch] = reading.device
            previous = self._device_last_seen.get(reading.device, t)
            self._device_last_seen[reading.device] = max(previous, t)
            out += self._end_technical((reading.device, Condition.SIGNAL_LOST), t)
        source = reading.device or ch
        if SENSOR_OFF in reading.flags:
            self._seen(ch, t, real)  # the device is talking: no "no data" on top
            out += self._end_technical((ch, Condition.SIGNAL_LOST), t)
            key = (source, Condition.SENSOR_OFF)
            if key not in self._alarms:
                where = f"{reading.device} ({info.label})" if reading.device else info.label
                out.append(self._raise_technical(key, t, where))
            out += self._gap(ch)
            return out
        out += self._end_technical((source, Condition.SENSOR_OFF), t)
        finite = math.isfinite(reading.value)
        if finite or reading.flags & NOT_A_MEASUREMENT:
            self._seen(ch, t, real)
            out += self._end_technical((ch, Condition.SIGNAL_LOST), t)
            if self._awaited:
                out += self._data_arrived(ch, t)
        if not finite or reading.flags & NOT_A_MEASUREMENT:
            out += self._gap(ch)
            return out
        for condition in (
            Condition.ABOVE_HIGH_LIMIT,
            Condition.BELOW_LOW_LIMIT,
            Condition.RISE_FROM_BASELINE,
            Condition.FALL_FROM_BASELINE,
        ):
            tracker = self._trackers.get((ch, condition))
            if tracker is not None:
                out += self._on_value(tracker, t, reading.value)
        return out

    def tick(self, t: float, real_t: float | None = None) -> list[AlarmTransition]:
        """Let time pass: condition delays, escalation, clear delays, "no data", pause.

        ``t`` is session time; ``real_t`` real seconds (as given to ``on_reading``): a
        channel is silent when no value arrived for twice its expected interval of real
        time, however fast the session clock runs.
        """
        self._advance(t)
        real = t if real_t is None else real_t
        out: list[AlarmTransition] = []
        for ch, last_real in list(self._last_seen_real.items()):
            interval = self._limits.expected_interval_for(ch)
            device = self._channel_device.get(ch)
            if interval is None or device in self._lost_devices:
                continue
            if device is not None and (device, Condition.SIGNAL_LOST) in self._alarms:
                continue  # the device's own "no data" already says it
            key = (ch, Condition.SIGNAL_LOST)
            if real - last_real > 2 * interval + _EPSILON_S and key not in self._alarms:
                out += self._gap(ch)
                where = CHANNELS[ch].label + (f" from {device}" if device else "")
                out.append(self._raise_technical(key, t, f"{where} {self._since(ch)}"))
        out += self._check_awaited(t, real)
        for tracker in self._trackers.values():
            if (tracker.channel, Condition.SIGNAL_LOST) in self._alarms:
                continue  # a stale value neither starts nor escalates anything
            out += self._evaluate(tracker, t)
        out += self._check_sources(t, real)
        if self._audio_paused_until is not None and t >= self._audio_paused_until:
            self._audio_paused_until = None
        return out

    def device_lost(self, device: str, t: float, detail: str = "") -> list[AlarmTransition]:
        self._advance(t)
        self._lost_devices.add(device)
        self._device_links[device] = False
        key = (device, Condition.DEVICE_DISCONNECTED)
        if key in self._alarms:
            return []
        return [self._raise_technical(key, t, f"{device}{': ' + detail if detail else ''}")]

    def device_restored(
        self, device: str, t: float, channels: Iterable[str] = ()
    ) -> list[AlarmTransition]:
        """The device is connected; ``channels``: what its link provides (a cuff's NIBP
        counts as a source from the moment it connects, not at its first measurement)."""
        self._advance(t)
        self._lost_devices.discard(device)
        self._device_links[device] = True
        self._device_channels.setdefault(device, set()).update(channels)
        out = self._end_technical((device, Condition.DEVICE_DISCONNECTED), t)
        return out + self._end_technical((device, Condition.SIGNAL_LOST), t)

    def device_silent(self, device: str, t: float, detail: str = "") -> list[AlarmTransition]:
        """The transport says a connected device stopped sending (its own "no data",
        timed by the transport in real time). The message says since when, never for
        how long: a duration would be stale the moment it is shown."""
        self._advance(t)
        key = (device, Condition.SIGNAL_LOST)
        if key in self._alarms or any(
            self._channel_device.get(ch) == device and (ch, Condition.SIGNAL_LOST) in self._alarms
            for ch in self._last_seen_real
        ):
            return []  # one silence, one alarm: a channel of it already says "no data"
        last = self._device_last_seen.get(device)
        text = device if last is None else f"{device} since {time_text.clock_time_s(last)}"
        return [self._raise_technical(key, t, f"{text}{f' ({detail})' if detail else ''}")]

    def expect_sources(
        self,
        sources: Iterable[str],
        t: float,
        real_t: float | None = None,
        grace_s: float | None = None,
    ) -> list[AlarmTransition]:
        """The sources a running session expects (its protocol's), or none (no session).

        From now on, a source that no connected device provides for ``grace_s`` real
        seconds raises ``no_source``; it clears once a device provides it. Sources no
        longer expected clear at once. ValueError for an unknown source or a grace that
        is not a number >= 0.
        """
        grace = DEFAULT_SOURCE_GRACE_S if grace_s is None else grace_s
        if not (math.isfinite(grace) and grace >= 0):
            raise ValueError(f"source grace must be a number of seconds >= 0, got {grace!r}")
        expected = {name: frozenset(source_channels(name)) for name in sources}
        self._advance(t)
        real = t if real_t is None else real_t
        out: list[AlarmTransition] = []
        for name in list(self._expected):
            if name not in expected:
                self._missing_since.pop(name, None)
                out += self._end_technical((name, Condition.NO_SOURCE), t)
        for name in list(self._awaited):
            if name not in expected:  # the session ended: nothing is awaited any more
                del self._awaited[name]
                out += self._end_technical((name, Condition.SIGNAL_LOST), t)
        self._expected = expected
        self._source_grace_s = grace
        for name in expected:
            self._missing_since.setdefault(name, real)  # the grace starts now
        return out + self._check_sources(t, real)

    @property
    def expected_sources(self) -> tuple[str, ...]:
        return tuple(self._expected)

    def await_data(
        self, sources: Iterable[str], t: float, real_t: float | None = None
    ) -> list[AlarmTransition]:
        """A resumed session expects data from ``sources`` (its protocol's) before any
        has arrived in this process: a continuous source none of whose channels delivers
        a value within twice its expected interval raises "No data", which clears with
        its first value. (Without this, "no data" is measured only for channels already
        seen, so a resume with no monitor would sit silent.) A discrete source (NIBP)
        has no interval: the "no source" check covers it."""
        self._advance(t)
        real = t if real_t is None else real_t
        for name in sources:
            channels = frozenset(source_channels(name))
            if channels.isdisjoint(self._last_seen_real):
                self._awaited[name] = (channels, real, t)
        return []

    def technical(
        self, condition: Condition, source: str, t: float, message: str = ""
    ) -> list[AlarmTransition]:
        """A failure of the system itself (recording failed, no audio device)."""
        if condition.is_physiological or condition is Condition.AUDIO_PAUSED:
            raise ValueError(f"{condition.value} is not a technical condition")
        self._advance(t)
        key = (source, condition)
        if key in self._alarms:
            return []
        return [self._raise_technical(key, t, message or source)]

    def technical_resolved(
        self, condition: Condition, source: str, t: float
    ) -> list[AlarmTransition]:
        self._advance(t)
        return self._end_technical((source, condition), t)

    # -- staff actions ---------------------------------------------------------------

    def acknowledge(
        self, by: str, t: float, channel: str | None = None, condition: Condition | None = None
    ) -> list[AlarmTransition]:
        """Silence the current conditions (all, or one channel/condition) and say who.

        A latched alarm whose condition has ended is cleared by it; a new or escalated
        condition sounds again.
        """
        self._advance(t)
        out: list[AlarmTransition] = []
        for key, alarm in list(self._alarms.items()):
            if not alarm.audible:
                continue
            if channel is not None and key[0] != channel:
                continue
            if condition is not None and key[1] != condition:
                continue
            alarm.acknowledged_by = by
            alarm.acknowledged_at = t
            out.append(
                self._record(
                    alarm,
                    t,
                    TransitionKind.ACKNOWLEDGED,
                    f"{alarm.message} (acknowledged by {by})",
                    by=by,
                )
            )
            if not alarm.condition_present:
                out.append(self._clear(alarm, t))
        return out

    def pause_audio(self, by: str, t: float, duration_s: float | None = None) -> AlarmTransition:
        """Pause all alarm sound for the clinic's pause time; it returns if conditions persist."""
        self._advance(t)
        duration = self._settings.audio_pause_s if duration_s is None else duration_s
        if not (math.isfinite(duration) and duration > 0):
            raise ValueError(f"audio pause must be a number of seconds > 0, got {duration!r}")
        self._audio_paused_until = t + duration
        top = self._highest_audible()
        return AlarmTransition(
            t=t,
            channel=ALARM_SYSTEM,
            priority=top or Priority.LOW,
            kind=AlarmKind.TECHNICAL,
            condition=Condition.AUDIO_PAUSED,
            transition=TransitionKind.AUDIO_PAUSED,
            value=duration,
            limit=None,
            message=f"Alarm audio paused for {_fmt(duration)} s by {by}",
            by=by,
        )

    # -- a session's state, kept and given back -------------------------------------

    def snapshot(self) -> EngineSnapshot:
        """Limits, baselines, physiological alarms and audio pause, as a comparable value."""
        alarms = sorted(
            (
                dataclasses.replace(
                    state,
                    value=None,
                    started=_as_recorded(state.started),
                    acknowledged_at=_as_recorded(state.acknowledged_at),
                    condition_ended_at=_as_recorded(state.condition_ended_at),
                )
                for state in (a.state() for a in self._alarms.values())
                if state.kind is AlarmKind.PHYSIOLOGICAL
            ),
            key=lambda s: (s.channel, s.condition.value),
        )
        return EngineSnapshot(
            rules=tuple(sorted(self._limits.rules, key=_rule_key)),
            baselines=tuple(sorted(self._baselines.items())),
            alarms=tuple(alarms),
            audio_paused_until=_as_recorded(self.audio_paused_until),
        )

    def restore(
        self,
        baselines: Mapping[str, float],
        record: Iterable[AlarmTransition],
        t: float,
    ) -> list[AlarmTransition]:
        """Give back what a session's record says the engine knew (a resume after a
        crash or a restart): its baselines, the limit changes made in it, its
        physiological alarms still active or latched (acknowledged or not) and an audio
        pause that has not run out by ``t``. Call it after the session's protocol limits
        are in force; the record is the session's transitions in the order recorded.

        A technical alarm left open in the record belonged to the process that died (its
        devices, its disk, its sound card): it is closed now, and returned as a
        ``cleared`` transition to record, and the resumed process raises its own. A limit
        change the limits in force refuse (the protocol file was edited since) is skipped.
        """
        self._advance(t)
        for channel, value in baselines.items():
            if math.isfinite(value):  # the record's; an unusable one limits nothing
                self._baselines[channel] = value
        restored: dict[Key, _Alarm] = {}
        paused_until: float | None = None
        for tr in record:
            self._episodes = max(self._episodes, _episode_count(tr.episode))
            if tr.transition is TransitionKind.LIMIT_CHANGED:
                try:
                    self._limits = self._limits.with_threshold(
                        tr.channel, tr.condition, tr.priority, tr.limit
                    )
                except LimitError:
                    continue
            elif tr.transition is TransitionKind.AUDIO_PAUSED:
                if tr.value is not None:
                    paused_until = tr.t + tr.value
            else:
                _replay_transition(restored, tr)
                sounds = tr.transition in (TransitionKind.RAISED, TransitionKind.ESCALATED)
                if sounds and self._settings.new_alarm_ends_audio_pause:
                    paused_until = None  # as ``_sound_again`` did when it happened
        self._rebuild_trackers()
        out: list[AlarmTransition] = []
        for key, alarm in restored.items():
            if key in self._alarms:
                continue  # this process already has its own alarm for it
            if alarm.kind is AlarmKind.PHYSIOLOGICAL:
                self._alarms[key] = alarm
                continue
            text = alarm.message.lstrip("* ")
            out.append(
                self._record(
                    alarm,
                    t,
                    TransitionKind.CLEARED,
                    f"Cleared: {text} (raised before the restart; checked again now)",
                    by="resume",
                )
            )
        if paused_until is not None and paused_until > t:
            self._audio_paused_until = paused_until
        return out

    # -- state for the UI ------------------------------------------------------------

    def active_alarms(self) -> list[AlarmState]:
        """Alarms signalling now, highest priority first, then oldest first."""
        states = [a.state() for a in self._alarms.values()]
        states.sort(key=lambda s: (-s.priority.rank, s.started))
        return states

    def audio_state(self) -> AudioState:
        return AudioState(self._highest_audible(), self.audio_paused_until)

    @property
    def audio_paused_until(self) -> float | None:
        until = self._audio_paused_until
        if until is not None and self._now is not None and self._now >= until:
            return None
        return until

    # -- internals -----------------------------------------------------------------

    def _advance(self, t: float) -> None:
        if self._now is None or t > self._now:
            self._now = t

    def _rebuild_trackers(self) -> None:
        """Group the rules per (channel, condition), keeping what trackers already know."""
        old = self._trackers
        self._trackers = {}
        for rule in self._limits.rules:
            key = (rule.channel, rule.condition)
            tracker = self._trackers.get(key)
            if tracker is None:
                previous = old.get(key)
                tracker = _Tracker(rule.channel, rule.condition, [])
                if previous is not None:
                    tracker.since = previous.since
                    tracker.clear_since = previous.clear_since
                    tracker.last_value = previous.last_value
                self._trackers[key] = tracker
            tracker.rules.append(rule)
        for tracker in self._trackers.values():
            tracker.rules.sort(key=lambda r: r.priority.rank)
            ranks = {r.priority for r in tracker.rules}
            tracker.since = {p: s for p, s in tracker.since.items() if p in ranks}

    def _thresholds(self, tracker: _Tracker) -> list[tuple[Priority, float]]:
        baseline = self._baselines.get(tracker.channel)
        out: list[tuple[Priority, float]] = []
        for rule in tracker.rules:
            limit = rule.absolute(baseline)
            if limit is not None:
                out.append((rule.priority, limit))
        return out

    def _provided(self, channels: frozenset[str]) -> bool:
        return any(
            self._device_links.get(device, True) and not channels.isdisjoint(provides)
            for device, provides in self._device_channels.items()
        )

    def _check_sources(self, t: float, real_t: float) -> list[AlarmTransition]:
        out: list[AlarmTransition] = []
        for name, channels in self._expected.items():
            key = (name, Condition.NO_SOURCE)
            if self._provided(channels):
                self._missing_since.pop(name, None)
                out += self._end_technical(key, t)
                continue
            since = self._missing_since.setdefault(name, real_t)
            if key not in self._alarms and real_t - since + _EPSILON_S >= self._source_grace_s:
                label = source_label(name)
                out.append(
                    self._raise_technical(
                        key,
                        t,
                        f"the protocol expects {label}; no connected device provides it",
                        text=f"No {label} source",
                    )
                )
        return out

    def _check_awaited(self, t: float, real_t: float) -> list[AlarmTransition]:
        out: list[AlarmTransition] = []
        for name, (channels, since, resumed_t) in self._awaited.items():
            intervals = [i for i in (self._limits.expected_interval_for(c) for c in channels) if i]
            key = (name, Condition.SIGNAL_LOST)
            if not intervals or key in self._alarms:
                continue
            if real_t - since > 2 * max(intervals) + _EPSILON_S:
                label = source_label(name)
                resumed = time_text.clock_time_s(resumed_t)
                detail = f"{label}: nothing received since the resume at {resumed}"
                out.append(self._raise_technical(key, t, detail))
        return out

    def _data_arrived(self, channel: str, t: float) -> list[AlarmTransition]:
        out: list[AlarmTransition] = []
        for name, (channels, _since, _t) in list(self._awaited.items()):
            if channel in channels:
                del self._awaited[name]
                out += self._end_technical((name, Condition.SIGNAL_LOST), t)
        return out

    def _seen(self, channel: str, t: float, real_t: float) -> None:
        self._last_seen[channel] = max(t, self._last_seen.get(channel, t))
        self._last_seen_real[channel] = max(real_t, self._last_seen_real.get(channel, real_t))

    def _since(self, channel: str) -> str:
        last = self._last_seen.get(channel)
        return "" if last is None else f"since {time_text.clock_time_s(last)}"

    def _gap(self, channel: str) -> list[AlarmTransition]:
        """No usable value: pending delays restart; alarms stay as they are."""
        for tracker in self._trackers.values():
            if tracker.channel == channel:
                tracker.since.clear()
                tracker.clear_since = None
        return []

    def _on_value(self, tracker: _Tracker, t: float, value: float) -> list[AlarmTransition]:
        above = tracker.rules[0].alarms_above
        thresholds = self._thresholds(tracker)
        active = {p for p, _ in thresholds}
        for p in list(tracker.since):
            if p not in active:
                del tracker.since[p]
        for priority, limit in thresholds:
            beyond = value > limit if above else value < limit
            if beyond:
                tracker.since.setdefault(priority, t)
            else:
                tracker.since.pop(priority, None)
        tracker.last_value = value
        alarm = self._alarms.get((tracker.channel, tracker.condition))
        if alarm is not None:
            alarm.value = value
            if alarm.condition_present:
                margin = self._limits.hysteresis_for(tracker.channel)
                still = any(
                    (value > limit - margin) if above else (value < limit + margin)
                    for _, limit in thresholds
                )
                if still:
                    tracker.clear_since = None
                elif tracker.clear_since is None:
                    tracker.clear_since = t
        return self._evaluate(tracker, t)

    def _evaluate(self, tracker: _Tracker, t: float) -> list[AlarmTransition]:
        delay = self._limits.delay_for(tracker.channel)
        matured = [p for p, s in tracker.since.items() if t - s + _EPSILON_S >= delay]
        top = max(matured, key=lambda p: p.rank) if matured else None
        key = (tracker.channel, tracker.condition)
        alarm = self._alarms.get(key)
        if alarm is None:
            if top is None:
                return []
            tracker.clear_since = None
            return [self._raise_physiological(tracker, top, t)]
        out: list[AlarmTransition] = []
        if top is not None:
            if not alarm.condition_present:  # back while still latched: the same alarm
                alarm.condition_present = True
                alarm.condition_ended_at = None
                tracker.clear_since = None
                now = self._physio_message(tracker, alarm.priority, alarm.limit).lstrip("* ")
                out.append(
                    self._record(
                        alarm, t, TransitionKind.CONDITION_RETURNED, f"Condition returned: {now}"
                    )
                )
            if top.rank > alarm.priority.rank:
                out.append(self._escalate_physiological(tracker, alarm, top, t, None))
        if not alarm.condition_present:
            return out
        clear_delay = self._limits.clear_delay_for(tracker.channel)
        if tracker.clear_since is not None and t - tracker.clear_since + _EPSILON_S >= clear_delay:
            tracker.clear_since = None
            return out + self._condition_ended(alarm, t)
        after = self._settings.escalate_after_s.get(alarm.priority)
        higher = alarm.priority.next_higher()
        if after is not None and higher is not None and t - alarm.priority_since >= after:
            out.append(self._escalate_physiological(tracker, alarm, higher, t, after))
        return out

    def _condition_ended(self, alarm: _Alarm, t: float) -> list[AlarmTransition]:
        """The value is back. Unlatched, or already acknowledged: the alarm clears (its
        condition and its signal end together). Latched: the end of the condition is
        recorded and the alarm keeps signalling until someone acknowledges it."""
        alarm.condition_present = False
        if self._settings.latching and alarm.acknowledged_by is None:
            alarm.condition_ended_at = max(t, alarm.last_t)
            info = CHANNELS.get(alarm.key[0])
            now = ""
            if info is not None and alarm.value is not None and math.isfinite(alarm.value):
                unit = f" {info.display_unit}" if info.display_unit else ""
                now = f" (now {_fmt(alarm.value, info.decimals)}{unit})"
            text = alarm.message.lstrip("* ")
            return [
                self._record(
                    alarm,
                    t,
                    TransitionKind.CONDITION_ENDED,
                    f"Condition ended: {text}{now}; latched until acknowledged",
                )
            ]
        return [self._clear(alarm, t)]

    def _limit_for(self, tracker: _Tracker, priority: Priority) -> float | None:
        for p, limit in self._thresholds(tracker):
            if p == priority:
                return limit
        return None

    def _physio_message(self, tracker: _Tracker, priority: Priority, limit: float | None) -> str:
        info = CHANNELS[tracker.channel]
        value = tracker.last_value
        shown = "?" if value is None else _fmt(value, info.decimals)
        unit = f" {info.display_unit}" if info.display_unit else ""
        above = tracker.rules[0].alarms_above
        text = f"{priority.marker} {info.label} {shown}{unit}"
        if limit is not None:
            text += f" {'>' if above else '<'} {_fmt(limit)}"
        baseline = self._baselines.get(tracker.channel)
        if tracker.rules[0].relative and baseline is not None and limit is not None:
            text += f" (baseline {_fmt(baseline)} {'+' if above else '-'}"
            text += f"{_fmt(abs(limit - baseline))})"
        return text

    def _raise_physiological(
        self, tracker: _Tracker, priority: Priority, t: float
    ) -> AlarmTransition:
        limit = self._limit_for(tracker, priority)
        alarm = _Alarm(
            key=(tracker.channel, tracker.condition),
            kind=AlarmKind.PHYSIOLOGICAL,
            priority=priority,
            started=t,
            priority_since=t,
            value=tracker.last_value,
            limit=limit,
            message=self._physio_message(tracker, priority, limit),
            episode=self._new_episode(t),
            last_t=t,
        )
        self._alarms[alarm.key] = alarm
        self._sound_again()
        return self._record(alarm, t, TransitionKind.RAISED, alarm.message)

    def _escalate_physiological(
        self,
        tracker: _Tracker,
        alarm: _Alarm,
        priority: Priority,
        t: float,
        after_s: float | None,
    ) -> AlarmTransition:
        # escalated by time: keep showing the limit that was actually crossed
        limit = alarm.limit if after_s is not None else self._limit_for(tracker, priority)
        alarm.priority = priority
        alarm.priority_since = t
        alarm.limit = limit
        alarm.message = self._physio_message(tracker, priority, limit)
        if after_s is not None:
            alarm.message += f", for over {_fmt(after_s)} s"
        alarm.acknowledged_by = None  # an escalated condition sounds again
        alarm.acknowledged_at = None
        self._sound_again()
        return self._record(alarm, t, TransitionKind.ESCALATED, alarm.message)

    def _raise_technical(
        self, key: Key, t: float, detail: str, text: str | None = None
    ) -> AlarmTransition:
        priority = self._settings.priority_of(key[1])
        if text is None:
            text = _TECHNICAL_TEXT.get(key[1], key[1].value.replace("_", " ").capitalize())
        alarm = _Alarm(
            key=key,
            kind=AlarmKind.TECHNICAL,
            priority=priority,
            started=t,
            priority_since=t,
            value=None,
            limit=None,
            message=f"{priority.marker} {text}: {detail}",
            episode=self._new_episode(t),
            last_t=t,
        )
        self._alarms[key] = alarm
        self._sound_again()
        return self._record(alarm, t, TransitionKind.RAISED, alarm.message)

    def new_patient(self, t: float) -> list[AlarmTransition]:
        """A new patient's session starts: the previous patient's physiological alarms
        (latched ones too) end, recorded as cleared "by" the new session in the old
        session's record; baselines and pending conditions go with them. Technical alarms
        are about the equipment and stay."""
        out = []
        for alarm in [a for a in self._alarms.values() if a.kind is AlarmKind.PHYSIOLOGICAL]:
            del self._alarms[alarm.key]
            text = alarm.message.lstrip("* ")
            out.append(
                self._record(alarm, t, TransitionKind.CLEARED, f"Cleared: {text}", by="new session")
            )
        self._baselines.clear()
        self._trackers.clear()
        self._rebuild_trackers()  # fresh trackers: nothing pending from the last patient
        return out

    def _end_technical(self, key: Key, t: float) -> list[AlarmTransition]:
        alarm = self._alarms.get(key)
        if alarm is None:
            return []
        return [self._clear(alarm, t)]

    def _clear(self, alarm: _Alarm, t: float) -> AlarmTransition:
        del self._alarms[alarm.key]
        text = alarm.message.lstrip("* ")
        return self._record(alarm, t, TransitionKind.CLEARED, f"Cleared: {text}")

    def _record(
        self,
        alarm: _Alarm,
        t: float,
        transition: TransitionKind,
        message: str,
        by: str | None = None,
    ) -> AlarmTransition:
        """One transition of ``alarm``'s episode, never stamped before the one before it
        (a reading stamped on its device's thread may reach the engine after a tick
        stamped later: its record takes the episode's latest time instead)."""
        t = max(t, alarm.last_t)
        alarm.last_t = t
        return AlarmTransition(
            t=t,
            channel=alarm.key[0],
            priority=alarm.priority,
            kind=alarm.kind,
            condition=alarm.key[1],
            transition=transition,
            value=alarm.value,
            limit=alarm.limit,
            message=message,
            by=by,
            episode=alarm.episode,
        )

    def _new_episode(self, t: float) -> str:
        """An id for a new alarm: its start in milliseconds and a count, so ids differ
        within an engine and between engines (a session resumed after a restart), and a
        replay of the same readings gives the same ids."""
        self._episodes += 1
        return f"{round(t * 1000)}-{self._episodes}"

    def _sound_again(self) -> None:
        if self._settings.new_alarm_ends_audio_pause:
            self._audio_paused_until = None

    def _highest_audible(self) -> Priority | None:
        audible = [a.priority for a in self._alarms.values() if a.audible]
        return max(audible, key=lambda p: p.rank) if audible else None


@overload
def _as_recorded(t: float) -> float: ...
@overload
def _as_recorded(t: None) -> None: ...
def _as_recorded(t: float | None) -> float | None:
    """A time as the record gives it back: ISO 8601 to the microsecond."""
    return None if t is None else parse_iso_utc(iso_utc(t))


def _rule_key(rule: LimitRule) -> tuple[str, str, int]:
    return (rule.channel, rule.condition.value, rule.priority.rank)


def _episode_count(episode: str | None) -> int:
    """The count part of an episode id (``<ms>-<count>``); 0 for none or another form."""
    if not episode:
        return 0
    _, _, count = episode.rpartition("-")
    return int(count) if count.isdigit() else 0


def _replay_transition(alarms: dict[Key, _Alarm], tr: AlarmTransition) -> _Alarm | None:
    """Apply one recorded transition to the alarms it leaves standing; the alarm it
    concerns, or None once it is cleared (or for a record that has no alarm)."""
    key: Key = (tr.channel, tr.condition)
    alarm = alarms.get(key)
    if tr.transition is TransitionKind.RAISED:
        alarm = _Alarm(
            key=key,
            kind=tr.kind,
            priority=tr.priority,
            started=tr.t,
            priority_since=tr.t,
            value=tr.value,
            limit=tr.limit,
            message=tr.message,
            episode=tr.episode or "",
            last_t=tr.t,
        )
        alarms[key] = alarm
        return alarm
    if alarm is None or (tr.episode and tr.episode != alarm.episode):
        return None  # a transition of an episode whose raise is not in the record
    alarm.last_t = max(alarm.last_t, tr.t)
    if tr.value is not None:
        alarm.value = tr.value
    if tr.transition is TransitionKind.ESCALATED:
        alarm.priority = tr.priority
        alarm.priority_since = tr.t
        alarm.limit = tr.limit
        alarm.message = tr.message
        alarm.acknowledged_by = None
        alarm.acknowledged_at = None
    elif tr.transition is TransitionKind.ACKNOWLEDGED:
        alarm.acknowledged_by = tr.by or "?"
        alarm.acknowledged_at = tr.t
    elif tr.transition is TransitionKind.CONDITION_ENDED:
        alarm.condition_present = False
        alarm.condition_ended_at = tr.t
    elif tr.transition is TransitionKind.CONDITION_RETURNED:
        alarm.condition_present = True
        alarm.condition_ended_at = None
    elif tr.transition is TransitionKind.CLEARED:
        del alarms[key]
        return None
    return alarm
