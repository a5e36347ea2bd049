"""A plugin with API endpoints the way procedure plugins write them, for the API tests.

It pushes rosters in and pulls results out, like the academic information system does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import abort
from flask_login import current_user
from pydantic import BaseModel, Field

from core.api.errors import ApiError
from core.contracts import ApiRoute
from core.plugins import hookimpl


class Student(BaseModel):
    nim: str = Field(pattern=r"^\d{8,12}$", description="Student number")
    name: str = Field(min_length=1, max_length=200)


class RosterIn(BaseModel):
    course: str = Field(min_length=1, max_length=20)
    students: list[Student] = Field(min_length=1)


class RosterOut(BaseModel):
    course: str
    accepted: int


class Score(BaseModel):
    nim: str
    score: float


class ResultsOut(BaseModel):
    """Results of one exam."""

    exam_id: int
    results: list[Score]


class ToyApiPlugin:
    RUANG_PLUGIN_NAME = "toyapi"
    VERSION = "0.9.1"

    def __init__(self) -> None:
        self.rosters: dict[str, RosterIn] = {}
        self.results: dict[int, list[Score]] = {7: [Score(nim="20230001", score=81.5)]}

    @hookimpl
    def ruang_api_routes(self) -> Sequence[ApiRoute]:
        return [
            ApiRoute("/toy/exams/<int:exam_id>/results", "GET", self.exam_results,
                     "results:read", "Results of an exam", response=ResultsOut),
            ApiRoute("/toy/rosters", "POST", self.push_roster, "rosters:write",
                     "Push a course roster", body=RosterIn, response=RosterOut),
            ApiRoute("/toy/rosters/<code>", "DELETE", self.drop_roster, "rosters:write",
                     "Drop a roster"),
            ApiRoute("/toy/whoami", "GET", self.whoami, "results:read",
                     "Who the handler thinks is signed in"),
            ApiRoute("/toy/teapot", "GET", self.teapot, "results:read", "Aborts"),
            ApiRoute("/toy/broken", "GET", self.broken, "results:read",
                     "Returns what its response model refuses", response=ResultsOut),
        ]

    def exam_results(self, user: Any, exam_id: int) -> dict[str, Any]:
        """Scores of every candidate of the exam, once it is marked."""
        if exam_id not in self.results:
            raise ApiError(404, "not_found", f"no exam {exam_id}")
        # A dict is validated against the route's response model.
        return {"exam_id": exam_id, "results": [s.model_dump() for s in self.results[exam_id]]}

    def push_roster(self, user: Any, body: RosterIn) -> tuple[RosterOut, int]:
        self.rosters[body.course] = body
        return RosterOut(course=body.course, accepted=len(body.students)), 201

    def drop_roster(self, user: Any, code: str) -> None:
        if self.rosters.pop(code, None) is None:
            raise ApiError(404, "not_found", f"no roster {code}")

    def whoami(self, user: Any) -> dict[str, Any]:
        return {"user": user.username, "current_user": current_user.username}

    def teapot(self, user: Any) -> None:
        abort(418, description="short and stout")

    def broken(self, user: Any) -> dict[str, Any]:
        return {"exam_id": "not a number"}


def make_app(instance: str | Path, plugin: ToyApiPlugin | None = None) -> Any:
    from core.app import create_app
    from tests.conftest import make_settings, prepare_test_app

    settings = make_settings(Path(instance))
    return prepare_test_app(create_app(settings, extra_plugins=[plugin or ToyApiPlugin()]))
