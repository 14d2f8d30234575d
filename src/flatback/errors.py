"""Errors flatback raises for bad input, each with the exit code the CLI uses.

Every message names the problem, the value that caused it and what to do about it.
Only ``cli.py`` prints these and exits; library callers catch ``FlatbackError``.
"""

from __future__ import annotations


class FlatbackError(Exception):
    """Base class: a problem with the input or settings that the user can fix."""

    exit_code: int = 1


class InputFileError(FlatbackError):
    """The input path is missing, unreadable, empty or not a video."""

    exit_code = 3


class VideoContentError(FlatbackError):
    """The video opens but what it shows cannot be analysed (no person, wrong view...)."""

    exit_code = 4


class SettingsError(FlatbackError):
    """A settings file or override is invalid."""

    exit_code = 2


class OutputError(FlatbackError):
    """The output folder cannot be written."""

    exit_code = 5
