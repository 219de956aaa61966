"""The answers of ``/healthz`` and ``/readyz``."""

from marshmallow import Schema, fields, validate


class HealthSchema(Schema):
    """``/healthz``: the process answers."""

    status = fields.String(required=True, validate=validate.OneOf(['ok']))


class ReadySchema(Schema):
    """``/readyz``: the database and the broker answer."""

    status = fields.String(required=True, validate=validate.OneOf(['ready']))
