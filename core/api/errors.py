"""Errors of the JSON API: what a handler raises, and the bodies clients receive."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiError(Exception):
    """Raise in an API handler to answer ``{"error": error, "message": message}``.

    ``error`` is a short machine-readable code (``not_found``, ``conflict``...);
    ``message`` says what went wrong in words an integrator can act on.
    """

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


class ErrorBody(BaseModel):
    """Every error of the API has this shape."""

    error: str = Field(description="A short code: unauthorized, forbidden, not_found...")
    message: str = Field(description="What went wrong, in words")


class FieldError(BaseModel):
    field: str = Field(description="Where in the body, dotted: results.0.score; (body) for "
                                   "the body as a whole")
    message: str


class ValidationErrorBody(ErrorBody):
    """The body did not match the endpoint's schema; ``errors`` lists each problem."""

    errors: list[FieldError]
