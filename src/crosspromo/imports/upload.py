"""Save an uploaded file to a temporary path in chunks, never whole in memory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from starlette.datastructures import UploadFile

from crosspromo.errors import Invalid

CHUNK = 1 << 20
MAX_UPLOAD = 4 << 30  # 4 GiB


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
