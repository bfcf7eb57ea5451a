"""screener: a local-first message screener for people who have gone no contact.

Data flows one way: sources -> Message -> signals -> policy -> actions -> store -> views.
Importing this package does nothing but define names.
"""

__version__ = "0.1.0"
