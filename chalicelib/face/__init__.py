"""Face verification, pure (no AWS): ``get_engine().enrol(photos)``, ``.verify(template, photo)``.

See docs/architecture.md for the pipeline and models/MODELS.md for the models.
"""
from chalicelib.face.config import FaceConfig
from chalicelib.face.engine import FaceEngine, get_engine
from chalicelib.face.types import (
                                   Enrolment,
                                   EnrolmentError,
                                   FaceAnalysis,
                                   FaceError,
                                   MatchResult,
                                   PhotoReport,
                                   Template,
                                   Verification,
)

__all__ = ["FaceConfig", "FaceEngine", "get_engine", "Enrolment", "EnrolmentError", "FaceAnalysis",
           "FaceError", "MatchResult", "PhotoReport", "Template", "Verification"]
