"""Imports every domain's models so SQLAlchemy metadata (and Alembic) sees all tables."""

from carenet.accounts import models as accounts_models  # noqa: F401
from carenet.audit import models as audit_models  # noqa: F401
from carenet.directory import models as directory_models  # noqa: F401
from carenet.directory.hsds import models as hsds_models  # noqa: F401
from carenet.directory.search import models as search_models  # noqa: F401
from carenet.fhir import clients as fhir_clients  # noqa: F401
from carenet.fhir import models as fhir_models  # noqa: F401
from carenet.fhir import subscriptions as fhir_subscriptions  # noqa: F401
from carenet.referrals import inbox_models  # noqa: F401
from carenet.referrals import models as referrals_models  # noqa: F401
from carenet.reports.store import models as reports_models  # noqa: F401
