"""Human reasons and warnings for suggestions, in the catalogue's languages (en, ru)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crosspromo.businesses import categories
from crosspromo.web.i18n import current_locale, translations


def N_(text: str) -> str:
    """Marks a message for the catalogue; `render` translates it."""
    return text


@dataclass(frozen=True)
class Category:
    """A category code in a message, named in the reader's language."""

    code: str

    def name(self, locale: str) -> str:
        found = categories.get(self.code)
        return found.name(locale) if found else self.code


@dataclass(frozen=True)
class Note:
    """A curated relation's note in the languages it was written in (relations.json)."""

    texts: dict[str, str]

    def name(self, locale: str) -> str:
        return self.texts.get(locale, "")


@dataclass(frozen=True)
class Phrase:
    """A catalogue phrase inside a message, translated with it."""

    text: str

    def name(self, locale: str) -> str:
        return translations(locale).gettext(self.text)


@dataclass(frozen=True)
class Reason:
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    # Said instead when a note has no text in the reader's language: never glued English.
    plain: str | None = None

    def render(self, locale: str) -> str:
        """The message in `locale` with its parameters filled in."""
        values = {
            k: v.name(locale) if isinstance(v, Category | Note | Phrase) else v
            for k, v in self.params.items()
        }
        missing = any(isinstance(v, Note) and not values[k] for k, v in self.params.items())
        message = self.plain if missing and self.plain else self.message
        token = current_locale.set(locale)
        try:
            text = translations(locale).gettext(message)
        finally:
            current_locale.reset(token)
        if not self.params:
            return text
        return text % values


COMPLEMENTS = N_("%(partner)s complements %(mine)s (%(note)s).")
COMPLEMENTS_PLAIN = N_("%(partner)s complements %(mine)s.")
LEARNED_LIFT = N_("You share %(lift)s times as many customers as chance would give.")
LEARNED_SMALL = N_("Only %(n)s shared customers so far: too few to be sure.")
BEFORE = N_("Their customers come to them before you: they can send you customers.")
AFTER = N_(
    "Their customers come to them after you: you send them customers, they send you few back."
)
TOGETHER = N_("Customers buy from both at the same time: a joint offer fits.")
SAME_TIER = N_("The same price tier.")
NEAR_TIER = N_("A neighbouring price tier.")
FAR_TIER = N_("A far price tier: works only if one side's product is a free bonus.")
CLOSE = N_("%(km)s km away.")
ONLINE = N_("Online: distance does not matter.")
OVERLAP = N_("About %(n)s shared customers.")
OVERLAP_EXPECTED = N_(
    "Businesses this close and this near in price usually share many customers here "
    "(learned from %(pairs)s business pairs of the city, no customer list shown)."
)
BALANCE = N_(
    "Audiences differ in size: the larger side gives one mention "
    "for every %(n)s from the smaller side."
)
ONLINE_OFFLINE = N_("An online service promotes poorly offline.")
FIRST_SHARE = N_(
    "Of the %(n)s customers you share, about %(low)s-%(high)s%% bought from them first."
)
# What everyone's shared customers say about the two categories (never about one business).
DATA_EITHER = N_(
    "Learned from %(n)s shared customers in %(pairs)s business pairs: "
    "they buy at both in either order."
)
DATA_FIRST = N_(
    "Learned from %(n)s shared customers in %(pairs)s business pairs: "
    "about %(low)s-%(high)s%% of them bought at %(partner)s first."
)
DATA_FIRST_ONE = N_(
    "Learned from %(n)s shared customers in %(pairs)s business pairs: "
    "about %(share)s%% of them bought at %(partner)s first."
)
DATA_LIFT = N_(
    "Customers of %(partner)s and %(mine)s shop at both %(lift)s times as often as chance "
    "would give."
)
DATA_NO_LIFT = N_(
    "In %(pairs)s business pairs, %(partner)s and %(mine)s share no more customers than "
    "chance would give: the curated match counts for less."
)
ORDER_OVERRULED = N_(
    "The curated list gives another order (%(curated)s); what customers did decided."
)
SOURCE_CURATED = N_("Based on the curated list of categories: too few shared customers to check.")
SOURCE_DATA = N_("Decided by what customers did.")
SOURCE_BOTH = N_("The curated list and what customers did agree.")
FAR_TIER_PROVEN = N_("A far price tier, but your shared customers show the match works.")
RECORD_WORKED = N_(
    "Ranks higher because similar partnerships worked: %(good)s of %(total)s went well."
)
RECORD_PAIR = N_("You have worked together before and it went well.")
RUNNING_NOW = N_("You run a campaign together now.")
# Words for an order inside a sentence.
ORDER_WORDS = {
    "before": N_("they come before you"),
    "after": N_("they come after you"),
    "together": N_("bought together"),
    "unknown": N_("no order"),
}
SWITCHING = N_(
    "%(share)s%% of shared customers switched from one to the other: signs of substitution."
)
# why-not reasons
SELF = N_("It is your own business.")
COMPETITOR = N_("A competitor: %(partner)s and %(mine)s meet the same need.")
CLOSED = N_("It is not open to partnerships.")
TOO_FAR = N_("It is %(km)s km away, beyond your %(radius)s km.")
PLACE_UNKNOWN = N_("Its address is unknown, so it cannot be placed within your %(radius)s km.")
NO_PLACE = N_(
    "Your address is not set: add your city or address to the profile to rank by distance."
)
NO_REASON = N_("Nothing blocks it; it ranks #%(rank)s among your suggestions.")
