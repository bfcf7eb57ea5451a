"""Typed errors raised by the library. Only the CLI turns them into exit codes."""


class ScreenerError(Exception):
    """Base class for every error screener raises on purpose."""


class ConfigError(ScreenerError):
    """A configuration file is missing or invalid.

    str() is one line naming the file, the key and what is wrong.
    """

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = str(file), key, problem
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + problem)


class RecordError(ScreenerError):
    """An input record is malformed (not JSON, missing a required field...)."""


class ModelError(ScreenerError):
    """The tactic model is missing, tampered with, or incompatible."""


class DataError(ScreenerError):
    """Training or evaluation data is malformed."""
