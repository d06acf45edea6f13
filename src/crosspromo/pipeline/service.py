"""Partner programme operations (DOMAIN.md section 8), one file per job:

- `entries`: the pipeline by stage, entries linked to proposals;
- `sync`: entries follow their proposals, written when a proposal changes;
- `activities`: an entry's log and its follow-ups;
- `targets`: targets per manager and month, and the fact;
- `reciprocity`: what each side of an agreement delivered against what it owes.

Only managers and owners see the pipeline (cashiers get 403); owners set targets. This module
gathers the public functions so callers keep one name for the capability's rules.
"""

from __future__ import annotations

from crosspromo.clock import local_today, months_elapsed, working_days
from crosspromo.pipeline.activities import (
    activities,
    due_follow_ups,
    log_activity,
    set_follow_up,
)
from crosspromo.pipeline.entries import (
    OVERRIDES,
    create_entry,
    get_entry,
    list_entries,
    move,
    people,
    stage_counts,
    update_entry,
)
from crosspromo.pipeline.reciprocity import (
    JUDGED_FROM,
    ONE_SIDED_BELOW,
    ONE_SIDED_RULE,
    OTHER_AT_LEAST,
    Item,
    Reciprocity,
    SideFigures,
    deliveries,
    reciprocity,
    record_delivery,
)
from crosspromo.pipeline.sync import (
    proposal_changed,
    sync,
)
from crosspromo.pipeline.targets import (
    Fact,
    set_target,
    targets,
)

__all__ = [
    "Fact",
    "Item",
    "JUDGED_FROM",
    "ONE_SIDED_BELOW",
    "ONE_SIDED_RULE",
    "OTHER_AT_LEAST",
    "OVERRIDES",
    "Reciprocity",
    "SideFigures",
    "activities",
    "create_entry",
    "deliveries",
    "due_follow_ups",
    "get_entry",
    "list_entries",
    "local_today",
    "log_activity",
    "months_elapsed",
    "move",
    "people",
    "proposal_changed",
    "reciprocity",
    "record_delivery",
    "set_follow_up",
    "set_target",
    "stage_counts",
    "sync",
    "targets",
    "update_entry",
    "working_days",
]
