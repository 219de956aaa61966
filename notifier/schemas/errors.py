"""The one shape of every error answer: ``{"error": {"code", "message", "fields"?}}``."""

from marshmallow import Schema, fields


class ErrorDetailSchema(Schema):
    """What went wrong, for a program (``code``) and for a person (``message``)."""

    code = fields.String(
        required=True, metadata={'description': 'stable, machine-readable: not_found, validation_failed, ...'},
    )
    message = fields.String(required=True, metadata={'description': 'for a person; may change between versions'})
    field_errors = fields.Dict(
        data_key='fields',
        attribute='fields',
        keys=fields.String(),
        metadata={'description': 'the errors of each invalid field, keyed by field (nested fields nest)'},
    )


class ErrorSchema(Schema):
    """An error answer (every 4xx and 5xx)."""

    error = fields.Nested(ErrorDetailSchema, required=True)
