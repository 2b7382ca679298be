"""Every form class the application defines, for tests that go over all of them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from wtforms import Form

import referral


def app_form_classes() -> list[type[Form]]:
    """The app's forms: Flask-WTF forms and the plain sub-forms they nest."""
    found = []
    for module_info in pkgutil.walk_packages(referral.__path__, "referral."):
        module = importlib.import_module(module_info.name)
        found += [
            member
            for _, member in inspect.getmembers(module, inspect.isclass)
            if issubclass(member, Form) and member.__module__ == module.__name__
        ]
    return found
