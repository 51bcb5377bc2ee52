"""Presenter mode: one simulator presents, the room's simulators follow.

- the messages, the names and the limits both sides share are knobtui/wire.py's (one typed message a
  line); protocol.py: how a simulator finds the relay (LinkConfig);
- relay.py: the server's side, a Unix socket that hands the presenter's newest scene to every follower;
- link.py: the simulator's side, one connection to the relay;
- quiz.py: the room's answers to its question, counted once per voter, and each follower's own line.
"""
