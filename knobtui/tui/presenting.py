"""Presenter mode in the simulator: a presenter sends its scene after every change; a follower becomes
the presenter's scene while it follows, `d` plays alone from there, `F` follows again.

The wire is knobtui/wire.py (the messages) and knobtui/presenter/link.py (the connection); this is what
the app does with it: one `match` over the relay's messages (`on_message`), one place a simulator becomes
the room's scene (`_become`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..presenter.link import RelayLink
from ..presenter.protocol import LinkConfig
from ..wire import (REJOIN_STATUS, ROOM_ENV, START_DETACHED_ENV, Ask, Ballot, BusStatus, Clear, Followers, JoinInfo,
                    RelayMessage, Refused, Resume, Reveal, State, Tally, plain, quiz_of, scene_of)
from .keys import FOLLOWER_ACTIONS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..learning.scene import Scene
    from .host import Host
    from .room_quiz import RoomQuiz

FOLLOWING = "following the presenter (d: play alone)"
BUS_DOWN = "the room's link is down, retrying"
"""Said while the bus between the room's nodes (`knobtui serve --bus`) is unreachable: this node's
followers keep the last state they had."""


class Presenting:
    """The app's side of one relay link: its role, whether it follows now, the room's newest scene."""

    def __init__(self, host: Host, config: LinkConfig, env: Mapping[str, str], quiz: RoomQuiz) -> None:
        self.host = host
        self.quiz = quiz  # the room's question: what this end of the link does with it
        self.link = RelayLink(config)
        self.presenter = config.presenter
        self.following = not self.presenter
        self.latest: Scene | None = None  # the presenter's newest scene, kept while playing alone
        self._resumed = False  # a presenter adopts the room's scene once, at connect
        # A follower of `knobtui serve` who pressed d in the room's shared view gets this simulator: it
        # starts from the presenter's scene, alone; F ends it with REJOIN_STATUS, back to the shared view.
        self._start_detached = env.get(START_DETACHED_ENV) == "1"
        self._room = env.get(ROOM_ENV) == "1"
        self.join = JoinInfo.from_env(env) if self.presenter else None  # how the room comes in (j)

    def start(self) -> None:
        self._status("presenting" if self.presenter else FOLLOWING)
        self.host.run_worker(self._run(), exclusive=True, group="relay")

    def key_situation(self) -> set[str]:
        """Which keys the key bar offers: a follower's (in a shared view: the server reads the keys, and
        takes only d and q), a detached follower's, or the presenter's."""
        if self.presenter:
            return {"presenter"}
        if not self.following:
            return {"detached"}
        return {"follower", "shared"} if self.shared_view else {"follower"}

    @property
    def shared_view(self) -> bool:
        """This simulator draws a shared view of `knobtui serve` (a room's renderer: it has no voter)."""
        return self._room and not self.link.config.voter

    async def _run(self) -> None:
        try:
            await self.link.run(self.on_message)
        except OSError as exc:
            self.host.say(f"cannot reach the presenter's relay: {exc}", severity="error")
        if self.presenter:
            self._status("the relay has gone: nobody is following")
        else:
            self.quiz.link_ended()
            self._set_following(False, "the presenter's relay has gone: playing alone")
            self.host.publish()

    def on_message(self, message: RelayMessage) -> None:
        """A message from the relay: the number of followers, a scene (a follower becomes it while it
        follows; a presenter adopts the room's, when it connects), the room's question and its answers."""
        match message:
            case BusStatus(up=up):
                self._bus(up)
            case Followers(n=n):
                self._status(f"presenting to {n} follower{'s' if n != 1 else ''}")
                self.host.stage = self.host.stage.but(followers=n)
                self.quiz.followers(n)
            case Ask() | Reveal() | Clear():  # a follower's to answer; a presenter's to take up again
                if self.presenter:
                    self.quiz.resume(quiz_of(message))
                else:
                    self.quiz.on_quiz(quiz_of(message))
            case Ballot() if not self.presenter:
                self.quiz.on_yours(message)
            case Tally() if self.presenter:
                self.quiz.counts(message)
            case Resume() | State():
                scene = scene_of(message)
                if scene is not None:
                    self._on_scene(scene)
            case Refused(why=why):  # a line from the relay not read here, or the relay's word on ours
                self.host.say(f"a message on the relay's link was refused: {plain(why)}", title="Presenter mode",
                              severity="warning")
            case _:
                pass  # a message for the other role (a presenter's tally reaching a follower): nothing to do

    def _on_scene(self, scene: Scene) -> None:
        if self.presenter:
            self.resume(scene)
            return
        self.latest = scene
        if self.following:
            self._become(scene)
            if self._start_detached:
                self._start_detached = False
                self._set_following(False, "playing alone (F: back to the room)")

    def _bus(self, up: bool) -> None:
        """The room's bus went down (say so; the screen keeps the last state) or came back."""
        if self.presenter:
            self._status("presenting" if up else f"presenting ({BUS_DOWN})")
        elif self.following:
            self._status(FOLLOWING if up else f"{BUS_DOWN} (d: play alone)")

    def _become(self, scene: Scene, cannot: str = "cannot follow: {}") -> bool:
        """Become the room's scene: the one place a simulator does (a follower following, one who follows
        again, a presenter resuming). False, with the problem on the status line, if it cannot."""
        problem = self.host.become(scene)
        if problem is not None:
            self._status(cannot.format(problem))
        return problem is None

    def resume(self, scene: Scene) -> bool:
        """A presenter who reconnects: the relay's first message is the room's latest scene. Become it
        (as a follower would), then present on from there. Only once, at connect: after that the
        presenter's own keys are the room's scene. True if adopted."""
        if self._resumed:
            return False
        self._resumed = True
        if not self._become(scene, "presenting (could not resume the room: {})"):
            return False
        self._status(f"presenting (resumed at iteration {self.host.session.iteration})")
        return True

    def send(self, scene: Scene) -> None:
        if self.presenter:
            self.link.send(scene)

    def _status(self, status: str) -> None:
        """What the status line says of the link."""
        self.host.stage = self.host.stage.but(link_status=status)

    def _set_following(self, following: bool, status: str) -> None:
        """Follow the presenter or not: the keys allowed and the key bar change with it."""
        self.following = following
        self._status(status)
        self.host.refresh_bindings()
        self.host.show_keys()

    def detach(self) -> None:
        """d: stop following and play alone from here."""
        if not self.presenter:
            self.host.stage = self.host.stage.but(outcome_hidden=False)  # alone, nothing is kept back unless asked
            self._set_following(False, "playing alone (F: follow the presenter again)")

    def follow(self) -> None:
        """F: follow the presenter again, from where the presenter is now."""
        if self.presenter:
            return
        if self._room:  # the room's shared view shows the presenter; this private simulator ends
            self.host.exit(return_code=REJOIN_STATUS)
            return
        self._set_following(True, FOLLOWING)
        if self.latest is not None:
            self._become(self.latest)

    def allows(self, action: str) -> bool:
        """While following, keys that would change the state are off (d detaches to use them); d and F
        are on only where they change something."""
        if action in ("detach", "follow"):
            return not self.presenter and self.following == (action == "detach")
        return not self.following or action in FOLLOWER_ACTIONS or action.startswith("_")
