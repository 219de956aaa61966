"""marshmallow schemas of what the API accepts."""
