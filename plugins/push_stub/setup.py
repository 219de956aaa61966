"""The push channel of notifier: a stub provider (files or a local HTTP endpoint), packaged as a plugin."""

from setuptools import setup

setup(
    name='notifier-push-stub',
    version='0.1.0',
    description='Push channel for notifier that delivers to a stub provider (a directory or an HTTP endpoint)',
    python_requires='>=3.10',
    packages=['notifier_push_stub'],
    package_data={'notifier_push_stub': ['py.typed']},
    install_requires=['notifier>=0.1,<1', 'marshmallow>=3.20,<5'],
    entry_points={'notifier.channels': ['push_stub = notifier_push_stub.plugin']},
)
