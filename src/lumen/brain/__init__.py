"""The brain flywheel: outcomes, weekly synthesis per venture, platform insights, attribution."""
