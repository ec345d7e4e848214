"""Discovery: from cohorts and account attributes to criteria, exclusions, points and tiers, with evidence."""

from icpkit.discover.builder import BuildResult, ICPBuilder
from icpkit.discover.candidates import Candidate
from icpkit.discover.discoverer import CandidateResult, Discoverer
from icpkit.discover.leakage import LeftOutField

__all__ = ["BuildResult", "Candidate", "CandidateResult", "Discoverer", "ICPBuilder", "LeftOutField"]
