"""The exact label strings of ../shared/spec/taxonomy.md, in one place."""

TACTICS: tuple[str, ...] = (
    "hoovering",
    "love_bombing",
    "guilt_tripping",
    "gaslighting",
    "future_faking",
    "insult",
    "threat",
    "legal_threat",
    "smear",
    "relay",
    "children_leverage",
)

# Flags that are not tactics; the model scores them alongside the tactics.
FLAGS: tuple[str, ...] = ("safety", "logistics")

MODEL_LABELS: tuple[str, ...] = TACTICS + FLAGS

SENDER_STATUSES: tuple[str, ...] = (
    "blocked",
    "suspected_alias",
    "intermediary",
    "unknown",
    "known",
    "trusted",
)

LOGISTICS_KINDS: tuple[str, ...] = (
    "handover",
    "school",
    "medical",
    "court",
    "payment",
    "belongings",
    "travel",
    "other",
)
