"""Autoplay (`p`, `+`, `-`) and fast-forward (`f`): iterations on a timer, a few per frame at high speeds,
stopping where learning stops; or all at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.timer import Timer

from ..learning.session import DEFAULT_FAST_FORWARD_LIMIT

if TYPE_CHECKING:
    from .host import Host

STOPS = ("converged", "overflow", "stuck", "oscillating")
"""Where autoplay stops: learning has stopped (or can only repeat itself)."""
SPEEDS = (1, 2, 4, 8, 15, 30, 60, 120, 250, 500, 1000, 2500, 5000)
"""Autoplay speeds, iterations per second."""
FRAME_RATE = 30
"""Autoplay redraws at most this often; faster speeds take several iterations per frame."""
DEFAULT_SPEED = 4  # an index into SPEEDS: 15 a second


class Autoplay:
    """The timer that steps the host's session; the stage shows `playing` and the speed."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.speed = DEFAULT_SPEED
        self._timer: Timer | None = None
        self._per_tick = 1

    @property
    def running(self) -> bool:
        return self._timer is not None

    def toggle(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def change_speed(self, change: int) -> None:
        self.speed = max(0, min(len(SPEEDS) - 1, self.speed + change))
        if self.running:
            self.start()
        else:
            self.host.stage = self.host.stage.with_extra("speed", f"autoplay {SPEEDS[self.speed]}/s", 3)

    def start(self) -> None:
        app = self.host
        if self._timer is not None:
            self._timer.stop()
        if app.session.status.kind in STOPS:
            app.say(f"nothing to play: {app.session.status.text}", title="Play")
            return
        if app.history_full():
            return
        rate = SPEEDS[self.speed]
        ticks = min(rate, FRAME_RATE)
        self._per_tick = max(1, round(rate / ticks))
        self._timer = app.set_interval(1 / ticks, self._tick)
        app.stage = app.stage.but(playing=f"playing {rate}/s")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.host.stage.playing:
            self.host.stage = self.host.stage.but(playing="")

    def fast_forward(self) -> None:
        """f: on until converged (or stuck, oscillating, overflowing, or the limit), in one go."""
        app = self.host
        self.stop()
        room = app.limits.history_room(app.session.iteration)
        if app.session.converged_at is None and app.history_full():
            return
        limit = DEFAULT_FAST_FORWARD_LIMIT if room is None else min(room, DEFAULT_FAST_FORWARD_LIMIT)
        ff = app.session.fast_forward(limit)
        app.publish()
        if ff.stop == "already":
            app.say(f"already {app.session.status.text}", "fast-forward")
        elif ff.stop == "limit" and ff.steps == room:
            app.history_full()
        else:
            more = ", not converged yet" if ff.stop == "limit" else ""
            app.say(f"{ff.steps} iterations{more}", "fast-forward", "warning" if ff.stop == "overflow" else "information")

    def _tick(self) -> None:
        """One frame: a few iterations, stopping where learning stops (the status says why)."""
        app = self.host
        if not (app.is_running and app.showing):  # the app is closing under the timer
            self.stop()
            return
        s = app.session
        room = app.limits.history_room(s.iteration)
        if s.status.kind in STOPS or room == 0:
            self.stop()
            app.history_full()
            return
        before = s.iteration
        ff = s.fast_forward(self._per_tick if room is None else min(room, self._per_tick))
        if s.iteration == before or ff.stop != "limit" or s.status.kind in STOPS:
            self.stop()
        app.publish()
        if app.limits.history_room(s.iteration) == 0:
            self.stop()
            app.history_full()
