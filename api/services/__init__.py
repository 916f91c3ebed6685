"""Use cases. Each takes a unit of work and an actor, raises domain errors (never HTTP
errors) and leaves committing to the caller's unit of work unless it says otherwise."""
