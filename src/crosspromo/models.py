"""Imports every capability's tables so metadata and migrations see them all."""

from __future__ import annotations


def load_all() -> None:
    import crosspromo.accounts.models  # noqa: F401
    import crosspromo.businesses.models  # noqa: F401
    import crosspromo.campaigns.models  # noqa: F401
    import crosspromo.customers.models  # noqa: F401
    import crosspromo.imports.models  # noqa: F401
    import crosspromo.leads.models  # noqa: F401
    import crosspromo.loyalty.models  # noqa: F401
    import crosspromo.matching.models  # noqa: F401
    import crosspromo.measurement.audience_models  # noqa: F401
    import crosspromo.measurement.indicator_models  # noqa: F401
    import crosspromo.messaging.models  # noqa: F401
    import crosspromo.notifications.models  # noqa: F401
    import crosspromo.offers.models  # noqa: F401
    import crosspromo.outbox.models  # noqa: F401
    import crosspromo.partnerships.models  # noqa: F401
    import crosspromo.pipeline.models  # noqa: F401
    import crosspromo.rate_limits  # noqa: F401
    import crosspromo.sales.models  # noqa: F401
