"""The email channel of notifier, packaged like any third-party channel plugin."""

from setuptools import setup

setup(
    name='notifier-email-smtp',
    version='0.1.0',
    description='Email channel for notifier: SMTP/SMTPS with STARTTLS, or .eml files',
    python_requires='>=3.10',
    packages=['notifier_email_smtp'],
    package_data={'notifier_email_smtp': ['py.typed']},
    install_requires=['notifier>=0.1,<1', 'marshmallow>=3.20,<5'],
    entry_points={'notifier.channels': ['email_smtp = notifier_email_smtp.plugin']},
)
