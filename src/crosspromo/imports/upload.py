"""Save an uploaded file to a temporary path in chunks, never whole in memory.

An upload waiting for its column mapping is kept under the install's `var/` directory
(`CROSSPROMO_VAR_DIR`), not the machine's temp folder: every app server of an install shares
it (`make cluster` points all of them at one), so the mapping page may be answered by another
server than the one that took the upload.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from starlette.datastructures import UploadFile

from crosspromo.errors import Invalid, NotFound

CHUNK = 1 << 20
MAX_UPLOAD = 4 << 30  # 4 GiB


KEEP_SECONDS = 24 * 3600  # an upload waiting for its column mapping; then it is removed
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}(?:\.[a-z0-9]{1,5}){0,2}")


def _waiting(var_dir: Path, business_id: uuid.UUID) -> Path:
    folder = var_dir / "uploads-waiting" / str(business_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def keep(upload: UploadFile, business_id: uuid.UUID, var_dir: Path) -> tuple[str, int]:
    """Save an upload while the owner maps its columns; returns its token and size.

    The token is random and the file lives under the business's own folder, so only a
    manager of that business can reach it; files older than a day are removed.
    """
    path, size = save(upload)
    folder = _waiting(var_dir, business_id)
    stale = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16) + "".join(path.suffixes[-2:]).lower()
    if not _TOKEN.fullmatch(token):
        token = token.split(".")[0]
    shutil.move(path, folder / token)  # the temp folder may be another file system
    return token, size


def kept(business_id: uuid.UUID, token: str, var_dir: Path) -> Path:
    """The file saved by `keep`; NotFound when the token is malformed, old or not this one's."""
    if not _TOKEN.fullmatch(token):
        raise NotFound("The uploaded file is gone; upload it again.")
    path = _waiting(var_dir, business_id) / token
    if not path.is_file():
        raise NotFound("The uploaded file is gone; upload it again.")
    return path


def save(upload: UploadFile) -> tuple[Path, int]:
    """Copy the upload to a temp file keeping its suffix (.csv, .gz, .xlsx); returns path, size.

    Synchronous: handlers that call it are plain `def` and run in the thread pool.
    """
    name = upload.filename or "upload.csv"
    suffix = "".join(Path(name).suffixes[-2:]) or ".csv"
    fd, raw = tempfile.mkstemp(prefix="crosspromo-import-", suffix=suffix)
    size = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD:
                out.close()
                Path(raw).unlink(missing_ok=True)
                raise Invalid("The file is larger than 4 GiB.", field="file")
            out.write(chunk)
    return Path(raw), size
