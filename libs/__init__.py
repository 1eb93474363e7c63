"""Shared code of every service. Importing it registers the path convertors every route uses."""

from libs import convertors as convertors
