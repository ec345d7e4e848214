"""icpkit: turn a B2B company's CRM history into an evidence-based Ideal Customer Profile, and apply it."""

from icpkit.errors import IcpkitError

__all__ = ["IcpkitError", "__version__"]
__version__ = "0.1.0"
