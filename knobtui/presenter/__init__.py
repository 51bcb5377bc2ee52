"""Presenter mode: one simulator presents, the room's simulators follow.

- protocol.py: the messages (one JSON object per line), the scene they carry, the names and limits
  both sides share;
- relay.py: the server's side, a Unix socket that hands the presenter's newest scene to every follower;
- link.py: the simulator's side, one connection to the relay;
- quiz.py: a question for the room, its answers and their counts.
"""
