"""Test settings: the project's, plus a fake fifth scheme that exercises the registry."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.fakescheme"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
