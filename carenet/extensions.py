"""Extension instances only; they are bound to an app in ``create_app``."""

from typing import TYPE_CHECKING, ClassVar

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every carenet model is mapped to a Table (none to a join or a select), so
        # ``Model.__table__`` has Table's API (``insert()``, ``indexes``), not just FromClause's.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# The base class every model subclasses. At runtime it is ``db.Model``: Flask-SQLAlchemy
# builds it from ``Base``'s body (same metadata and registry) plus its mixins (table names,
# ``query``, bind keys). mypy cannot follow that dynamically built class, so it checks the
# models against ``Base`` instead, which declares the same SQLAlchemy API.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
