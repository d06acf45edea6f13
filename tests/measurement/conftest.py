"""A running campaign between a bakery (issuer) and a cafe (honouring), as for offers."""

from tests.campaigns.conftest import agreed, key  # noqa: F401  (fixtures for these tests)
from tests.offers.conftest import running  # noqa: F401
