"""What the ingestion endpoints keep per app: rate-limit buckets and the chain lookups' cache."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.api.ratelimit import RateLimits
from app.ingest.subjects import SubjectChecker


@dataclass
class IngestState:
    rate_limits: RateLimits = field(default_factory=RateLimits)
    subjects: SubjectChecker = field(default_factory=SubjectChecker)
