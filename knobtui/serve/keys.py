"""The server's keys: its host key, and the authorized_keys files that admit visitors or the presenter.

Every problem is one sentence naming the file (and the line, for an authorized_keys file), raised as
`KeyFileError`; the command line prints it and exits 2.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import asyncssh


class KeyFileError(Exception):
    """A key file that cannot be used, in one sentence."""


def default_host_key_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "knobtui" / "ssh_host_ed25519_key"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, str | None]:
    """The server's ed25519 host key, read from `path` or generated there (mode 0600) on first start.

    Returns the key and a warning (a key others can read), or raises KeyFileError.
    """
    if path.exists() or path.is_symlink():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyFileError(f"cannot read the host key {path}: {exc.strerror or exc}") from None
        if not data.strip():
            raise KeyFileError(f"the host key {path} is empty; remove it and a new one is made")
        try:
            key = asyncssh.import_private_key(data)
        except asyncssh.KeyEncryptionError:
            raise KeyFileError(f"the host key {path} is protected by a passphrase; "
                               "knobtui serve needs a key without one") from None
        except (asyncssh.KeyImportError, ValueError) as exc:
            if "passphrase" in str(exc).lower():
                raise KeyFileError(f"the host key {path} is protected by a passphrase; "
                                   "knobtui serve needs a key without one") from None
            if b"PRIVATE KEY" not in data and data.lstrip().startswith((b"ssh-", b"ecdsa-", b"sk-")):
                raise KeyFileError(f"the host key {path} is a public key; give the private key") from None
            raise KeyFileError(f"the host key {path} is not a private key: {_first_line(exc)}") from None
        mode = stat.S_IMODE(path.stat().st_mode)
        warning = None
        if mode & 0o077:
            warning = (f"warning: the host key {path} can be read by others (mode {mode:04o}); "
                       f"anyone who reads it can pose as this server: chmod 600 {path}")
        return key, warning
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="knobtui serve")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.export_private_key())
        os.replace(tmp, path)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot create the host key {path}: {exc.strerror or exc}") from None
    return key, None


def read_authorized_keys(path: Path) -> asyncssh.SSHAuthorizedKeys:
    """An OpenSSH authorized_keys file; a bad line is named by its number."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise KeyFileError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    good: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            asyncssh.import_authorized_keys(line)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise KeyFileError(f"{str(path)!r} line {number} is not a public key: {_first_line(exc)}") from None
        good.append(line)
    if not good:
        raise KeyFileError(f"{str(path)!r} has no public keys in it")
    return asyncssh.import_authorized_keys("\n".join(good) + "\n")
