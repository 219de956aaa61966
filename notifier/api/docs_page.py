"""The HTML of ``/api/v1/docs``: a Jinja template over the OpenAPI document (autoescaped)."""

from typing import Final

DOCS_TEMPLATE: Final = '''<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ spec.info.title }} API {{ spec.info.version }}</title>
<style>
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
code, .method { font-family: monospace; }
.method { font-weight: bold; text-transform: uppercase; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; vertical-align: top; }
section { border-top: 1px solid #999; margin-top: 1.5em; }
</style>
</head>
<body>
{% macro type_of(schema) -%}
  {%- if schema is none -%}any
  {%- elif schema['$ref'] -%}
    {%- set name = schema['$ref'].rsplit('/', 1)[1] -%}<a href="#schema-{{ name }}">{{ name }}</a>
  {%- elif schema.type == 'array' -%}array of {{ type_of(schema['items']) }}
  {%- else -%}{{ schema.type or 'any' }}{% if schema.format %} ({{ schema.format }}){% endif %}
    {%- if schema.nullable %}, or null{% endif -%}
  {%- endif -%}
{%- endmacro %}
{% macro limits(schema) -%}
  {%- if schema.enum %}one of {{ schema.enum | join(', ') }}. {% endif -%}
  {%- if schema.minLength is defined or schema.maxLength is defined -%}
    length {{ schema.minLength | default(0) }} to {{ schema.maxLength | default('any') }}. {% endif -%}
  {%- if schema.minimum is defined or schema.maximum is defined -%}
    {{ schema.minimum | default('') }} to {{ schema.maximum | default('') }}. {% endif -%}
  {%- if schema.pattern %}pattern <code>{{ schema.pattern }}</code>. {% endif -%}
  {%- if schema.default is defined %}default <code>{{ schema.default | tojson }}</code>. {% endif -%}
  {{ schema.description or '' }}
{%- endmacro %}
<h1>{{ spec.info.title }} API <small>{{ spec.info.version }}</small></h1>
<p>{{ spec.info.description }}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI {{ spec.openapi }}).
Operations under <code>/api/v1</code> need <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<h2>Operations</h2>
<ul>
{% for path, method, operation in operations %}
  <li><a href="#{{ operation.operationId }}"><span class="method">{{ method }}</span> <code>{{ path }}</code></a>
    {{ operation.summary }}</li>
{% endfor %}
</ul>
{% for path, method, operation in operations %}
<section id="{{ operation.operationId }}">
<h3><span class="method">{{ method }}</span> <code>{{ path }}</code></h3>
<p>{{ operation.summary }}.{% if operation.security %} Needs a bearer token with the scope
<code>{{ operation['x-required-scope'] }}</code>.{% endif %}</p>
{% if operation.description %}<p>{{ operation.description }}</p>{% endif %}
{% if operation.parameters %}
<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th>notes</th></tr>
{% for parameter in operation.parameters %}
<tr><td><code>{{ parameter.name }}</code></td><td>{{ parameter['in'] }}</td>
<td>{{ 'yes' if parameter.required else 'no' }}</td><td>{{ type_of(parameter.schema) }}</td>
<td>{{ parameter.description or '' }} {{ limits(parameter.schema) }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% if operation.requestBody %}
{% for media_type, content in operation.requestBody.content.items() %}
<p>Body (<code>{{ media_type }}</code>): {{ type_of(content.schema) }}</p>
{% endfor %}
{% endif %}
<table><tr><th>status</th><th>meaning</th><th>body</th></tr>
{% for status, answer in operation.responses.items() %}
{% set answer = spec.components.responses[answer['$ref'].rsplit('/', 1)[1]] if answer['$ref'] else answer %}
<tr><td>{{ status }}</td><td>{{ answer.description }}</td>
<td>{% for media_type, content in (answer.content or {}).items() %}{{ type_of(content.schema) }}
<code>{{ media_type }}</code>{% endfor %}</td></tr>
{% endfor %}
</table>
</section>
{% endfor %}
<h2>Schemas</h2>
{% for name, schema in spec.components.schemas.items() %}
<section id="schema-{{ name }}">
<h3>{{ name }}</h3>
{% if schema.description %}<p>{{ schema.description }}</p>{% endif %}
<table><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>
{% for field_name, field in (schema.properties or {}).items() %}
<tr><td><code>{{ field_name }}</code></td><td>{{ type_of(field) }}</td>
<td>{{ 'yes' if field_name in (schema.required or []) else 'no' }}</td><td>{{ limits(field) }}</td></tr>
{% endfor %}
</table>
{% if schema.additionalProperties == false %}<p>No other fields are accepted.</p>{% endif %}
</section>
{% endfor %}
</body>
</html>
'''
