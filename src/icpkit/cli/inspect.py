"""``icpkit inspect``: what icpkit understood of a CRM export."""
