"""What the ingestion endpoints keep per app: the chain lookups' cache."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.ingest.subjects import SubjectChecker


@dataclass
class IngestState:
    subjects: SubjectChecker = field(default_factory=SubjectChecker)
