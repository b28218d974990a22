"""One router per resource: generate, feedback, models (and admin reload), health, LINE."""
