"""What changed, told inside the caller's unit of work to the capabilities that follow it.

A capability that owns a thing (partnerships owns proposals) emits an event after it changes
it; the capabilities that keep something in step with it (the pipeline's entries) are listed
here by name and imported when the first event is emitted. The owner never imports its
followers, so imports keep pointing one way, and nothing is written when a page is only read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, Any], None]

PROPOSAL_CHANGED = "proposal.changed"  # proposed, countered or accepted; the proposal
# A business added or its profile edited, or customers imported: what partner suggestions
# keep in memory is out of date. The subject is the business, or None for many at once.
BUSINESSES_CHANGED = "businesses.changed"

# kind -> "module:function" of each follower, called in this order.
FOLLOWERS: dict[str, tuple[str, ...]] = {
    PROPOSAL_CHANGED: (
        "crosspromo.pipeline.sync:proposal_changed",
        # Checks coalition options; an agreed one makes the partner a coalition member.
        "crosspromo.loyalty.membership:proposal_changed",
    ),
    BUSINESSES_CHANGED: ("crosspromo.matching.service:frame_changed",),
}


@cache
def _handler(target: str) -> Handler:
    module, _, name = target.partition(":")
    handler: Handler = getattr(importlib.import_module(module), name)
    return handler


def emit(session: Session, kind: str, subject: Any) -> None:
    """Tell every follower of `kind` about `subject`, in the same transaction."""
    for target in FOLLOWERS.get(kind, ()):
        _handler(target)(session, subject)
