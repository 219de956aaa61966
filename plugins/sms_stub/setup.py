"""The SMS channel of notifier: a stub provider (files or a local HTTP endpoint), packaged as a plugin."""

from setuptools import setup

setup(
    name='notifier-sms-stub',
    version='0.1.0',
    description='SMS channel for notifier that delivers to a stub provider (a directory or an HTTP endpoint)',
    python_requires='>=3.10',
    packages=['notifier_sms_stub'],
    package_data={'notifier_sms_stub': ['py.typed']},
    install_requires=['notifier>=0.1,<1', 'marshmallow>=3.20,<5'],
    entry_points={'notifier.channels': ['sms_stub = notifier_sms_stub.plugin']},
)
