"""Use cases. Each takes a unit of work and an actor, raises domain errors (never HTTP
errors) and commits the unit of work itself once its change is complete; a use case that
raises leaves nothing behind (the unit of work rolls back on exit)."""
