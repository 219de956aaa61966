"""Flask extensions, created unbound here and bound in the app factory."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from notifier.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
