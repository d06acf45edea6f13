"""A campaign's dates and tasks as an iCalendar file (RFC 5545) for any calendar app."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta

from crosspromo.campaigns.models import Campaign, Task
from crosspromo.db import utcnow


def ics(campaign: Campaign, tasks: Iterable[Task], names: Mapping[uuid.UUID, str]) -> bytes:
    """All-day events: the campaign's run and each dated task with its side."""
    from icalendar import Calendar, Event  # here, not at start-up: see crosspromo.app

    calendar = Calendar()
    calendar.add("prodid", "-//crosspromo//campaigns//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", campaign.title)
    stamp = utcnow()
    if campaign.starts_on and campaign.ends_on:
        event = Event()
        event.add("uid", f"campaign-{campaign.id}@crosspromo")
        event.add("dtstamp", stamp)
        event.add("summary", campaign.title)
        event.add("dtstart", campaign.starts_on)
        event.add("dtend", campaign.ends_on + timedelta(days=1))  # DTEND is exclusive
        calendar.add_component(event)
    for task in tasks:
        if task.due_on is None:
            continue
        event = Event()
        event.add("uid", f"task-{task.id}@crosspromo")
        event.add("dtstamp", stamp)
        event.add("summary", f"{task.title} ({names.get(task.business_id, '')})")
        event.add("description", f"{campaign.title}: {task.status.value}")
        event.add("dtstart", task.due_on)
        event.add("dtend", task.due_on + timedelta(days=1))
        calendar.add_component(event)
    return calendar.to_ical()
